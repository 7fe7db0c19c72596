"""Training data with lineage: a CSV/Parquet file, a dataset's validated items, or a package version.

`load_training_data` returns the table and where it came from (kind, source, run id or package version,
row and column counts, and a fingerprint of the content), so a model version can name exactly what it
was trained on. Unreadable or non-tabular input is a TrainingDataError whose message says what to fix.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ml.errors import TrainingDataError

DATASET_PREFIX = "dataset:"
PACKAGE_PREFIX = "package:"
_SNIFF_BYTES = 64 * 1024
_DELIMITERS = ",;\t|"
_WESTERN = ("cp1252", "latin_1", "iso8859_15")
_PACKAGE_FILE_PREFERENCE = ("data/data.parquet", "data/data.csv", "data/data.jsonl")


@dataclass
class TrainingData:
    frame: pd.DataFrame
    lineage: dict


def load_training_data(source: str, principal=None) -> TrainingData:
    """The table named by `source`: a file path, `dataset:NAME` or `package:NAME@VERSION` (`package:NAME` = latest).

    Datasets and packages are checked against `principal` (core.tenancy); a dataset or package the principal
    may not use raises core.auth.PermissionDenied, with the same message as one that does not exist.
    """
    source = str(source).strip()
    if source.startswith(DATASET_PREFIX):
        return _from_dataset(source[len(DATASET_PREFIX):].strip(), principal)
    if source.startswith(PACKAGE_PREFIX):
        return _from_package(source[len(PACKAGE_PREFIX):].strip(), principal)
    path = Path(source).expanduser()
    frame = read_table_file(path)
    return TrainingData(frame, _lineage(frame, kind="file", source=str(path)))


def fingerprint(frame: pd.DataFrame) -> str:
    """sha256 of a canonical serialization (column names, dtypes, values as CSV text): same data, same hash."""
    digest = hashlib.sha256()
    digest.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode("utf-8"))
    digest.update(b"\n")
    for start in range(0, len(frame), 50_000):  # chunks bound the memory of the text copy
        chunk = frame.iloc[start:start + 50_000]
        digest.update(chunk.to_csv(index=False, header=False, lineterminator="\n").encode("utf-8"))
    return digest.hexdigest()


def _lineage(frame: pd.DataFrame, **fields) -> dict:
    return {**fields, "rows": int(len(frame)), "columns": [str(c) for c in frame.columns],
            "fingerprint": fingerprint(frame)}


# -- files --------------------------------------------------------------------------------------
def read_table_file(path: Path) -> pd.DataFrame:
    """A CSV (any common encoding and delimiter), TSV, Parquet or JSON Lines file as a DataFrame."""
    return _checked_table(read_any_table(path), path.name)


def read_any_table(path: Path, error: type[TrainingDataError] = TrainingDataError) -> pd.DataFrame:
    """The file's table, unchecked; a missing, unreadable or empty file raises `error` saying what to fix."""
    if not path.exists():
        raise error(f"No file at {path}; check the path.")
    if path.is_dir():
        raise error(f"{path} is a folder; give a CSV, Parquet or JSON Lines file.")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"{path} cannot be read ({exc.strerror or exc}); check its permissions.") from None
    if not raw.strip():
        raise error(f"{path.name} is empty; give a file with a header row and data rows.")
    suffix = path.suffix.lower()
    if raw[:4] == b"PAR1" or suffix in (".parquet", ".pq"):
        return _read_parquet(raw, path.name)
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(raw, path.name)
    return _read_csv(raw, path.name)


def _read_parquet(raw: bytes, name: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(io.BytesIO(raw))
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for a damaged file
        raise TrainingDataError(f"{name} is not a readable Parquet file ({type(exc).__name__}); export it again "
                                "or give a CSV.") from None


def _read_jsonl(raw: bytes, name: str) -> pd.DataFrame:
    try:
        return pd.read_json(io.StringIO(_decode(raw, name)), lines=True)
    except ValueError as exc:
        raise TrainingDataError(f"{name} is not valid JSON Lines ({exc}); one JSON object per line is "
                                "expected.") from None


def _decode(raw: bytes, name: str) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if b"\x00" in raw[:_SNIFF_BYTES]:
        raise TrainingDataError(f"{name} looks like a binary file, not a table; give a CSV or Parquet file.")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = from_bytes(raw)
    best = matches.best()
    if best is None:
        raise TrainingDataError(f"The text encoding of {name} cannot be recognised; save it as UTF-8 CSV.")
    # Short files often fit several single-byte code pages equally well; Windows-1252 (Western Europe, what
    # spreadsheet software writes by default) is then the likeliest.
    for match in matches:
        if (match.encoding in _WESTERN and match.chaos <= best.chaos
                and match.coherence >= best.coherence - 0.01):
            return raw.decode(match.encoding, errors="replace")
    return str(best)


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text[:_SNIFF_BYTES].splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        # The sniffer gives up on quoted multi-line cells; the header line alone still tells.
        header = text.split("\n", 1)[0]
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _read_csv(raw: bytes, name: str) -> pd.DataFrame:
    text = _decode(raw, name)
    delimiter = _sniff_delimiter(text)
    try:
        return pd.read_csv(io.StringIO(text), sep=delimiter, low_memory=False)
    except pd.errors.EmptyDataError:
        raise TrainingDataError(f"{name} has no columns; give a file with a header row and data rows.") from None
    except (pd.errors.ParserError, ValueError) as exc:
        detail = str(exc).splitlines()[0][:200]
        raise TrainingDataError(f"{name} is not a well-formed table ({detail}); check that every row has the "
                                "same number of fields as the header.") from None


def _checked_table(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    if frame.shape[1] < 2:
        raise TrainingDataError(f"{name} has {frame.shape[1]} column(s); training needs a target column and at "
                                "least one feature column. Is it a CSV with a header row?")
    if frame.empty:
        raise TrainingDataError(f"{name} has a header but no data rows.")
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(set(frame.columns)) != len(frame.columns):
        duplicated = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
        raise TrainingDataError(f"{name} has repeated column names ({', '.join(duplicated[:5])}); rename them.")
    return frame


# -- validated items ----------------------------------------------------------------------------
def _from_dataset(name: str, principal) -> TrainingData:
    from sqlmodel import select

    from core import tenancy
    from core.store.models import RefinementRun
    from core.store.sql import session_scope

    if not name:
        raise TrainingDataError("Give a dataset name after 'dataset:'.")
    dataset = tenancy.dataset_for(principal, name, action="train on this dataset")
    with session_scope() as session:
        run_id = session.exec(select(RefinementRun.id).where(RefinementRun.dataset_id == dataset["id"],
                                                             RefinementRun.status == "succeeded")
                              .order_by(RefinementRun.id.desc())).first()
    if run_id is None:
        raise TrainingDataError(f"Dataset '{name}' has no finished refinement run; refine it first, then train on "
                                "its kept items.")
    run = tenancy.run_for(principal, run_id, action="train on this run")
    path = Path(run.get("validated_path") or "")
    if not run.get("validated_path") or not path.exists():
        raise TrainingDataError(f"The kept items of run {run_id} of '{name}' are missing from the lake; refine "
                                "the dataset again.")
    frame = flatten_fields(pd.read_parquet(path))
    if frame.empty:
        raise TrainingDataError(f"Run {run_id} of '{name}' kept no items; loosen the recipe and refine again.")
    return TrainingData(frame, _lineage(frame, kind="dataset", source=DATASET_PREFIX + name, dataset=name,
                                        run_id=int(run_id)))


def _from_package(spec: str, principal) -> TrainingData:
    from sqlmodel import select

    from core import tenancy
    from core.store.models import DataPackage
    from core.store.sql import session_scope

    name, _, version = spec.partition("@")
    name, version = name.strip(), version.strip()
    if not name:
        raise TrainingDataError("Give a package as 'package:NAME@VERSION' (or 'package:NAME' for the latest).")
    with session_scope() as session:
        query = select(DataPackage.id).where(DataPackage.name == name, DataPackage.status == "published")
        if version:
            query = query.where(DataPackage.version == version)
        package_id = session.exec(query.order_by(DataPackage.id.desc())).first()
    if package_id is None:
        raise tenancy.NotFoundOrDenied(f"No published package '{spec}' that you can use.")
    package = tenancy.package_for(principal, package_id, action="train on this package")
    root = Path(package.get("path") or "")
    files = package.get("files") or {}
    candidates = [f for f in _PACKAGE_FILE_PREFERENCE if f in files] or sorted(
        f for f in files if f.startswith("data/"))
    if not package.get("path") or not candidates or not (root / candidates[0]).exists():
        raise TrainingDataError(f"The data file of package {name} {package['version']} is missing; verify or "
                                "rebuild the package.")
    frame = flatten_fields(read_table_file(root / candidates[0]))
    return TrainingData(frame, _lineage(frame, kind="package", source=PACKAGE_PREFIX + f"{name}@{package['version']}",
                                        package=name, version=package["version"], run_id=package.get("run_id")))


def dataset_rows_for_scoring(dataset_id: int) -> tuple[pd.DataFrame, dict[int, str]]:
    """A dataset's items with their fields as columns (empty when it has none), and item id -> raw document id,
    which predictions and valuations need to write back beside the original documents."""
    from sqlmodel import select

    from core.refine.runs import load_items
    from core.store.models import Item
    from core.store.sql import get_engine

    items = load_items(dataset_id)
    if items.empty:
        return items, {}
    with get_engine().connect() as connection:
        raw_ids = dict(connection.execute(select(Item.id, Item.raw_id).where(Item.dataset_id == dataset_id)).all())
    return flatten_fields(items), raw_ids


def flatten_fields(frame: pd.DataFrame) -> pd.DataFrame:
    """Items keep structured values (a listing's price, rooms, city) as a JSON `fields` cell: make them columns.

    A field whose name clashes with an item column is kept as `fields.NAME`. Nested values stay JSON text.
    """
    if "fields" not in frame.columns:
        return frame.reset_index(drop=True)
    parsed = [as_dict(value) for value in frame["fields"]]
    rest = frame.drop(columns=["fields"]).reset_index(drop=True)
    if not any(parsed):
        return rest
    fields = pd.DataFrame.from_records(
        [{k: (json.dumps(v, ensure_ascii=False, sort_keys=True) if isinstance(v, (dict, list)) else v)
          for k, v in d.items()} for d in parsed])
    fields.columns = [f"fields.{c}" if c in rest.columns else str(c) for c in fields.columns]
    return pd.concat([rest, fields], axis=1)


def as_dict(value) -> dict:
    """A dict, or a JSON object given as text; anything else is an empty dict."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}
