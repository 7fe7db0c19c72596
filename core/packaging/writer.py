"""Build one immutable package version directory, atomically.

Everything is written into a hidden staging directory next to ``out_dir``, checked (row counts
of every data file, manifest re-verified), made read-only and only then renamed into place, so
an interrupted or failed build leaves nothing at ``out_dir``.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Sequence
from datetime import date, datetime
from numbers import Integral, Real
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.licenses import LicenseError, normalize_license
from core.packaging import croissant, datapackage, dataset_card
from core.packaging.manifest import file_entry, verify_package, write_manifest
from core.packaging.media import MediaFile
from core.packaging.types import ColumnSpec, DataFile, MediaEntry, PackageBuildError, PackageMeta, PackageResult
from core.packaging.versioning import is_valid_version
from core.store import processes

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


DATA_FORMATS = ("jsonl", "csv", "parquet")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BATCH_ROWS = 10_000
_ARROW_TYPES = {"text": pa.string(), "float": pa.float64(), "integer": pa.int64(), "boolean": pa.bool_(),
                "date": pa.date32()}
_PANDAS_DTYPES = {"text": "string", "float": "float64", "integer": "Int64", "boolean": "boolean"}


def _kind_of_values(values: list) -> str | None:
    """The one kind all non-null Python values share, or None when they mix or are unsupported."""
    if all(isinstance(value, str) for value in values):
        return "text"
    if all(isinstance(value, (bool, np.bool_)) for value in values):
        return "boolean"
    if all(isinstance(value, Real) and not isinstance(value, (bool, np.bool_)) for value in values):
        return "integer" if all(isinstance(value, Integral) for value in values) else "float"
    if all(isinstance(value, datetime) for value in values):
        return "datetime"
    if all(isinstance(value, date) and not isinstance(value, datetime) for value in values):
        return "date"
    return None


def _column_kind(name: str, series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_object_dtype(dtype) or isinstance(dtype, (pd.CategoricalDtype, pd.ArrowDtype)):
        values = series[series.notna()].tolist()
        kind = _kind_of_values(values)
        if kind is None:
            types = ", ".join(sorted({type(value).__name__ for value in values}))
            raise ValueError(f"column {name!r} holds values of types {types}; a package column must be all "
                             "text, numbers, booleans, dates or datetimes (json.dumps lists and dicts first)")
        return kind
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.StringDtype):
        return "text"
    raise ValueError(f"column {name!r} has dtype {dtype}, which a package cannot carry; cast it to text, "
                     "a number, a boolean, a date or a datetime")


def _normalized_column(name: str, series: pd.Series, kind: str) -> tuple[str, pd.Series]:
    """The column converted to the single dtype used for every output format."""
    present = series.notna()
    if kind in _PANDAS_DTYPES:
        values = [value if keep else None for value, keep in zip(series.astype(object), present, strict=True)]
        try:
            converted = pd.Series(pd.array(values, dtype=_PANDAS_DTYPES[kind]), index=series.index)
        except (OverflowError, TypeError, ValueError) as error:
            raise ValueError(f"column {name!r} cannot be stored as {kind}: {error}") from None
        infinite = np.isinf(converted.fillna(0).to_numpy(dtype=float)) if kind == "float" else []
        if any(infinite):
            label = converted.index[infinite][0]
            raise ValueError(f"column {name!r} is infinite at row {label} (0-based), which JSON cannot hold")
        return kind, converted
    if kind == "date":
        return kind, pd.Series([value if keep else None for value, keep in zip(series, present, strict=True)],
                               index=series.index, dtype=object)
    stamps = _as_timestamps(name, series, present)
    stamped = stamps[present]
    if stamps.dt.tz is None and len(stamped) and (stamped == stamped.dt.normalize()).all():
        dates = [stamp.date() if keep else None for stamp, keep in zip(stamps, present, strict=True)]
        return "date", pd.Series(dates, index=series.index, dtype=object)
    return kind, stamps


def _as_timestamps(name: str, series: pd.Series, present: pd.Series) -> pd.Series:
    try:
        return pd.to_datetime(series).dt.as_unit("us")
    except (TypeError, ValueError) as error:
        problem = error
    # Aware datetimes with different UTC offsets (a DST change, several zones) are still one
    # timeline: store them in UTC. Mixing aware and naive values has no safe reading.
    if all(getattr(value, "tzinfo", None) is not None for value in series[present]):
        return pd.to_datetime(series, utc=True).dt.as_unit("us")
    raise ValueError(f"column {name!r} mixes datetimes that cannot share one column: {problem}")


def _timestamp_type(stamps: pd.Series) -> pa.DataType:
    zone = stamps.dt.tz
    return pa.timestamp("us", tz=None if zone is None else str(zone))


def _check_column_names(columns: pd.Index) -> None:
    names = list(columns)
    if not names:
        raise ValueError("rows have no columns")
    for name in names:
        if not isinstance(name, str) or not name or name != name.strip() or "\n" in name:
            raise ValueError(f"column name {name!r} must be a non-empty string without surrounding spaces")
        if name.startswith(_FORMULA_START):
            raise ValueError(f"column name {name!r} starts with a spreadsheet formula character; rename it")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"duplicate column names: {', '.join(duplicates)}")


def normalize_rows(rows: pd.DataFrame, descriptions: dict[str, str]) -> tuple[pa.Table, list[ColumnSpec]]:
    """One typed Arrow table (with pandas metadata, so nullable ints survive) and the column specs.

    Descriptions for columns that are absent are ignored: callers keep one catalogue for all fields."""
    if not isinstance(rows, pd.DataFrame):
        raise ValueError(f"rows must be a pandas DataFrame, not {type(rows).__name__}")
    _check_column_names(rows.columns)
    if rows.empty:
        raise ValueError("rows is empty: a package needs at least one row")
    frame = rows.reset_index(drop=True)
    normalized, specs, arrow_fields = {}, [], []
    for name in frame.columns:
        kind, normalized[name] = _normalized_column(name, frame[name], _column_kind(name, frame[name]))
        specs.append(ColumnSpec(name, kind, descriptions.get(name, ""), bool(frame[name].isna().any())))
        arrow_fields.append(pa.field(name, _ARROW_TYPES.get(kind) or _timestamp_type(normalized[name])))
    schema = pa.schema(arrow_fields)
    table = pa.Table.from_pandas(pd.DataFrame(normalized), schema=schema, preserve_index=False)
    return table, specs


def escape_csv_formula(text: str) -> str:
    """Prefix cells a spreadsheet would run as a formula with an apostrophe (OWASP CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _json_ready(value: object) -> object:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _write_jsonl(table: pa.Table, columns: list[ColumnSpec], path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
            for row in batch.to_pylist():
                line = json.dumps({key: _json_ready(value) for key, value in row.items()},
                                  ensure_ascii=False, allow_nan=False)
                # Raw U+2028/U+2029 are valid JSON but split lines in JavaScript and splitlines().
                out.write(line.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n")


_CSV_CELL: dict[str, Callable[[object], str]] = {
    "text": escape_csv_formula, "float": repr, "integer": str, "boolean": lambda value: str(value).lower(),
    "date": _json_ready, "datetime": _json_ready,
}


def _write_csv(table: pa.Table, columns: list[ColumnSpec], path: Path) -> None:
    cells = [_CSV_CELL[column.kind] for column in columns]
    with open(path, "w", encoding="utf-8", newline="") as out:
        # RFC 4180 CRLF rows: the csv module then quotes any cell holding a bare CR or LF, which a
        # "\n" terminator would leave unquoted for a bare CR, splitting the row in most readers.
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([column.name for column in columns])
        for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
            for row in zip(*(column.to_pylist() for column in batch.columns), strict=True):
                writer.writerow(["" if value is None else to_text(value)
                                 for to_text, value in zip(cells, row, strict=True)])


def _write_parquet(table: pa.Table, columns: list[ColumnSpec], path: Path) -> None:
    pq.write_table(table, path)


_WRITERS = {"jsonl": _write_jsonl, "csv": _write_csv, "parquet": _write_parquet}


def write_data_file(table: pa.Table, columns: list[ColumnSpec], root: Path, data_format: str) -> DataFile:
    relative = f"data/data.{data_format}"
    _WRITERS[data_format](table, columns, root / relative)
    entry = file_entry(root / relative)
    return DataFile(relative, data_format, entry["bytes"], entry["sha256"])


def count_rows(path: Path, data_format: str) -> int:
    """Rows actually present in a written data file, read back independently of the writer."""
    if data_format == "parquet":
        return pq.ParquetFile(path).metadata.num_rows
    with open(path, encoding="utf-8", newline="") as handle:
        if data_format == "jsonl":
            return sum(1 for _ in handle)
        return sum(1 for _ in csv.reader(handle)) - 1


def meta_problems(meta: PackageMeta) -> list[str]:
    """Everything wrong with the metadata at once, so the user can fix it in one go."""
    problems = []
    if not isinstance(meta.name, str) or not _NAME.match(meta.name):
        problems.append(f"name {meta.name!r} must be a lowercase slug (letters, digits, '.', '_', '-')")
    for attribute in ("title", "description", "creator"):
        if not str(getattr(meta, attribute) or "").strip():
            problems.append(f"{attribute} is empty")
    if not is_valid_version(meta.version):
        problems.append(f"version {meta.version!r} is not a semantic version like '1.0.0'")
    try:
        normalize_license(meta.license)
    except LicenseError as error:
        problems.append(str(error))
    try:
        meta.created_iso()
    except (TypeError, ValueError):
        problems.append(f"created_at {meta.created_at!r} is not a datetime or ISO 8601 string")
    if meta.creator_type not in ("Organization", "Person"):
        problems.append("creator_type must be 'Organization' or 'Person'")
    for position, source in enumerate(meta.sources):
        if not isinstance(source, dict) or not str(source.get("source_id") or "").strip():
            problems.append(f"sources[{position}] needs a source_id")
    for attribute in ("keywords", "languages", "task_categories"):
        values = getattr(meta, attribute)
        if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
            problems.append(f"{attribute} must be a list of strings")
    return problems


def _chosen_formats(formats: Sequence[str]) -> list[str]:
    if isinstance(formats, str):
        formats = [formats]
    chosen = list(dict.fromkeys(str(name).lower() for name in formats))
    unknown = [name for name in chosen if name not in DATA_FORMATS]
    if not chosen or unknown:
        raise PackageBuildError(f"formats must be a non-empty choice of {', '.join(DATA_FORMATS)}"
                                + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    return chosen


def _write_json(path: Path, document: dict) -> None:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _first_row(table: pa.Table) -> dict | None:
    return table.slice(0, 1).to_pylist()[0] if table.num_rows else None


def write_media_files(root: Path, media: Sequence[MediaFile]) -> list[MediaEntry]:
    """Write each media file under root/media/, one at a time, and describe what was written."""
    written, seen = [], set()
    for item in media:
        relative = PurePosixPath(item.path)
        if relative.parts[:1] != ("media",) or len(relative.parts) != 2 or item.path in seen:
            raise PackageBuildError(f"media file path {item.path!r} must be a unique media/<name>")
        seen.add(item.path)
        target = root / item.path
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(item.load())
        entry = file_entry(target)
        written.append(MediaEntry(item.path, item.mime_type, entry["bytes"], entry["sha256"]))
    return written


def _build_into(staging: Path, table: pa.Table, columns: list[ColumnSpec], meta: PackageMeta,
                formats: list[str], media: Sequence[MediaFile] = ()) -> None:
    data_files = [write_data_file(table, columns, staging, name) for name in formats]
    for data_file in data_files:
        found = count_rows(staging / data_file.path, data_file.format)
        if found != table.num_rows:
            raise PackageBuildError(f"{data_file.path} holds {found} rows, expected {table.num_rows}")
    media_entries = write_media_files(staging, media)
    _write_json(staging / "croissant.json", croissant.croissant_document(meta, columns, data_files, media_entries))
    _write_json(staging / "datapackage.json",
                datapackage.datapackage_descriptor(meta, columns, data_files, media_entries))
    card = dataset_card.dataset_card(meta, columns, data_files, table.num_rows, _first_row(table), media_entries)
    (staging / "README.md").write_text(card, encoding="utf-8")


def _make_read_only(root: Path) -> None:
    """Files become read-only so a published version is not edited in place by accident."""
    read_only = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
    for path in root.rglob("*"):
        if path.is_file():
            path.chmod(read_only)
        else:
            path.chmod(0o755)
    root.chmod(0o755)  # mkdtemp creates 0700


def write_package_version(rows: pd.DataFrame, meta: PackageMeta, out_dir: Path,
                          formats: Sequence[str], media: Sequence[MediaFile] = ()) -> PackageResult:
    """Write data files, media files (media/, see core/packaging/media.py), croissant.json, datapackage.json,
    README.md and manifest.json to out_dir.

    Raises PackageBuildError for bad rows or metadata (nothing written), FileExistsError when
    out_dir already exists; any other failure is re-raised after the staging directory is removed.
    """
    out_dir = Path(out_dir)
    chosen = _chosen_formats(formats)
    problems = meta_problems(meta)
    if problems:
        raise PackageBuildError("package metadata is incomplete: " + "; ".join(problems))
    if out_dir.exists() or out_dir.is_symlink():
        raise FileExistsError(f"{out_dir} already exists: package versions are immutable, "
                              "publish under a new version instead")
    try:
        table, columns = normalize_rows(rows, meta.field_descriptions)
    except ValueError as error:
        raise PackageBuildError(str(error)) from error
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.{processes.temp_owner_tag()}.", suffix=".partial",
                                    dir=out_dir.parent))
    processes.mark_in_progress(staging)  # start-up recovery leaves it alone while we write it
    try:
        (staging / "data").mkdir()
        _build_into(staging, table, columns, meta, chosen, media)
        files = write_manifest(staging)
        problems = verify_package(staging)
        if problems:
            raise PackageBuildError("package failed its own verification: " + "; ".join(problems))
        _make_read_only(staging)
        if out_dir.exists():  # created by someone else while we were writing
            raise FileExistsError(f"{out_dir} appeared while the package was being built")
        os.rename(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        processes.mark_done(staging)
    return PackageResult(path=out_dir, files=files, row_count=table.num_rows,
                         checksums={relative: entry["sha256"] for relative, entry in files.items()})
