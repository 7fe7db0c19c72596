"""Where owned data lives, as the principal may see it: each store is a function yielding its records.

A record is one thing the subject can be in (a raw document, an Item row, a row of a lake or package file,
a raw snapshot file, an export archive) with the text fields to match. Search, export and erasure all walk
the same functions, so whatever a search shows is exactly what an erasure touches.
An admin walks every store; a supplier walks only their own datasets, sources and packages.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlmodel import select

from core import tenancy
from core.auth import Principal
from core.config import get_settings
from core.safe_names import UnsafeNameError, safe_name
from core.store import lake
from core.store.models import DataPackage, Dataset, Item, Source
from core.store.raw import COLLECTION as RAW_COLLECTION
from core.store.raw import get_raw_store
from core.store.sql import session_scope

LAKE_ZONES = ("processed", "validated")
TABULAR_SUFFIXES = (".parquet", ".jsonl")
TEXT_FILE_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".txt", ".md", ".html", ".htm", ".xml")
EXPORT_DIR = "privacy-exports"
ITEM_BATCH = 2000


@dataclass
class Record:
    store: str  # raw | item | lake | raw_file | package | export
    dataset: str  # dataset, source or package name: where a person would look
    record_id: str
    location: str  # app database, file path or package version
    fields: dict[str, str] = field(default_factory=dict)  # field path -> text
    row: dict | None = None  # the whole record, for the export archive


def flatten_text(value, prefix: str = "") -> dict[str, str]:
    """Every string inside nested dicts and lists, keyed by its dotted path (metadata.author.email)."""
    if isinstance(value, str):
        return {prefix: value} if value else {}
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for key, inner in value.items():
            out.update(flatten_text(inner, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, (list, tuple)):
        for index, inner in enumerate(value):
            out.update(flatten_text(inner, f"{prefix}[{index}]"))
    return out


# -- scope --------------------------------------------------------------------------------------------------------
def owned_dataset_names(principal: Principal) -> set[str] | None:
    """Names of the datasets the principal owns; None for an admin (every dataset)."""
    if tenancy.sees_everything(principal):
        return None
    with session_scope() as session:
        return set(session.exec(select(Dataset.name).where(Dataset.created_by == principal.id)).all())


def _owned_export_dirs(principal: Principal) -> set[str] | None:
    """raw/exports/<dir> holds a source's exported files under its slug; suppliers see their sources' dirs."""
    if tenancy.sees_everything(principal):
        return None
    from core.safe_names import slug_from

    with session_scope() as session:
        names = session.exec(select(Source.name).where(Source.created_by == principal.id)).all()
    dirs = set()
    for name in names:
        try:
            dirs.add(slug_from(name))
        except UnsafeNameError:
            continue
    return dirs


# -- raw documents ------------------------------------------------------------------------------------------------
def raw_records(principal: Principal) -> Iterator[Record]:
    """Every raw document of every application database the principal may see (content, url and metadata)."""
    store = get_raw_store()
    query = tenancy.scoped_query(principal, {}, action="search personal data")
    projection = {"source_id": 1, "url": 1, "raw_content": 1, "metadata": 1, "fetched_at": 1}
    for app in store.apps():
        database = store.database(app)
        if RAW_COLLECTION not in database.list_collection_names():
            continue  # an application database without raw documents (logs only): nothing to create or read
        for doc in database[RAW_COLLECTION].find(query, projection):
            texts = {"url": doc.get("url") or ""}
            if isinstance(doc.get("raw_content"), str):
                texts["raw_content"] = doc["raw_content"]
            texts.update(flatten_text(doc.get("metadata") or {}, "metadata"))
            yield Record("raw", str(doc.get("source_id")), str(doc["_id"]), app, texts,
                         {**doc, "_id": str(doc["_id"])})


# -- items --------------------------------------------------------------------------------------------------------
def item_records(principal: Principal) -> Iterator[Record]:
    dataset_ids = tenancy.visible_dataset_ids(principal)
    if dataset_ids == []:
        return
    last_id = 0
    while True:  # keyset pages: one short session each, never the whole table in memory
        with session_scope() as session:
            query = (select(Item, Dataset.name).join(Dataset, Dataset.id == Item.dataset_id)
                     .where(Item.id > last_id).order_by(Item.id).limit(ITEM_BATCH))
            if dataset_ids is not None:
                query = query.where(Item.dataset_id.in_(dataset_ids))
            rows = [(item.model_dump(), name) for item, name in session.exec(query)]
        if not rows:
            return
        for item, dataset_name in rows:
            texts = {"title": item["title"] or "", "text": item["text"] or "", "url": item["url"] or ""}
            texts.update(flatten_text(item["fields"] or {}, "fields"))
            yield Record("item", dataset_name, str(item["id"]), f"item {item['id']}", texts, item)
        last_id = rows[-1][0]["id"]


# -- lake files ---------------------------------------------------------------------------------------------------
def lake_files(principal: Principal) -> Iterator[tuple[str, Path]]:
    """(dataset, path) of each Parquet/JSONL file in the processed and validated zones of visible datasets."""
    owned = owned_dataset_names(principal)
    for zone in LAKE_ZONES:
        root = lake.zone_path(zone)
        if not root.is_dir():
            continue
        for dataset_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
            if owned is not None and dataset_dir.name not in owned:
                continue
            for path in sorted(dataset_dir.rglob("*")):
                if path.suffix in TABULAR_SUFFIXES and path.is_file() and not path.name.startswith("."):
                    yield dataset_dir.name, path


def read_table(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return lake.read_parquet(path)
    with open(path, encoding="utf-8") as handle:
        return pd.DataFrame([json.loads(line) for line in handle if line.strip()])


def table_records(frame: pd.DataFrame, store: str, dataset: str, location: str) -> Iterator[tuple[int, Record]]:
    """(row position, record) for each row of a table; only text columns (and JSON-in-text) are matched."""
    text_columns = [c for c in frame.columns if frame[c].dtype == object or isinstance(frame[c].dtype, pd.StringDtype)]
    id_column = "id" if "id" in frame.columns else None
    for position, row in enumerate(frame[text_columns].itertuples(index=False, name=None)):
        texts: dict[str, str] = {}
        for column, value in zip(text_columns, row, strict=True):
            texts.update(flatten_text(value if isinstance(value, (str, dict, list)) else None, str(column)))
        record_id = str(frame[id_column].iat[position]) if id_column else f"row {position + 1}"
        yield position, Record(store, dataset, record_id, location, texts)


def lake_records(principal: Principal) -> Iterator[tuple[Path, pd.DataFrame, int, Record]]:
    """(file, its table, row position, record); the whole row is read only for the rows that match."""
    for dataset, path in lake_files(principal):
        frame = read_table(path)
        for position, record in table_records(frame, "lake", dataset, str(path)):
            yield path, frame, position, record


# -- raw snapshot files (uploads exactly as received, users' exported files) --------------------------------------
def raw_file_records(principal: Principal) -> Iterator[Record]:
    owned_datasets = owned_dataset_names(principal)
    owned_exports = _owned_export_dirs(principal)
    for subdir, owned in (("uploads", owned_datasets), ("exports", owned_exports)):
        root = lake.zone_path("raw", subdir)
        if not root.is_dir():
            continue
        for owner_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
            if owned is not None and owner_dir.name not in owned:
                continue
            for path in sorted(owner_dir.rglob("*")):
                if path.is_file() and path.suffix.lower() in TEXT_FILE_SUFFIXES:
                    text = path.read_text(encoding="utf-8", errors="replace")
                    yield Record("raw_file", owner_dir.name, path.name, str(path), {"content": text})


# -- packages -----------------------------------------------------------------------------------------------------
def visible_packages(principal: Principal) -> list[dict]:
    """Published package versions of the principal's datasets (admins: all) with a data file to read."""
    with session_scope() as session:
        query = (select(DataPackage, Dataset.name).join(Dataset, Dataset.id == DataPackage.dataset_id)
                 .where(DataPackage.status == "published").order_by(DataPackage.id))
        if not tenancy.sees_everything(principal):
            query = query.where(Dataset.created_by == principal.id)
        return [{**package.model_dump(), "dataset": name} for package, name in session.exec(query)]


def package_data_file(package: dict) -> Path | None:
    """The package's Parquet data file, else its JSONL one (every format holds the same rows)."""
    if not package.get("path"):
        return None
    for relative in ("data/data.parquet", "data/data.jsonl"):
        path = Path(package["path"]) / relative
        if path.is_file():
            return path
    return None


def package_records(principal: Principal) -> Iterator[tuple[dict, pd.DataFrame, int, Record]]:
    for package in visible_packages(principal):
        path = package_data_file(package)
        if path is None:
            continue
        frame = read_table(path)
        location = f"{package['name']} {package['version']}"
        for position, record in table_records(frame, "package", package["dataset"], location):
            yield package, frame, position, record


# -- export archives ----------------------------------------------------------------------------------------------
def export_dir(principal: Principal) -> Path:
    return get_settings().data_dir / EXPORT_DIR / safe_name(f"user-{principal.id}", "export directory")


def export_archives(principal: Principal, subject_key: str) -> list[Path]:
    """This subject's export archives: the principal's own, or everyone's for an admin."""
    root = get_settings().data_dir / EXPORT_DIR
    dirs = [root / p.name for p in root.iterdir() if p.is_dir()] if (
        tenancy.sees_everything(principal) and root.is_dir()) else [export_dir(principal)]
    prefix = f"subject-{subject_key[:16]}-"
    return sorted(p for d in dirs if d.is_dir() for p in d.iterdir() if p.name.startswith(prefix))
