"""The raw store: original documents in MongoDB, one database per application.

Documents keep their original form: `{source_id, url, fetched_at, content_hash,
raw_content, metadata}`. A unique index on (source_id, content_hash) makes
re-scrapes idempotent, and a changed page (new hash) becomes a new version of the
record beside the old one. Bulk `insert_many(ordered=False)` is used because
per-document upserts are slow on the embedded server.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Iterable

import gridfs
import pymongo
from bson import ObjectId
from pymongo.errors import BulkWriteError, OperationFailure, PyMongoError

from core.config import Settings, get_settings
from core.store.embedded_mongo import embedded_manager

DB_PREFIX = "dbw_"
COLLECTION = "documents"
_APP_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
DUPLICATE_KEY = 11000
REQUIRED_KEYS = ("source_id", "url", "fetched_at", "content_hash", "raw_content", "metadata")


class RawStoreError(RuntimeError):
    """The raw store is unreachable or refused an operation."""


@dataclass
class InsertReport:
    new: int = 0
    already_present: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (position in batch, reason)
    new_ids: list[str] = field(default_factory=list)

    def merge(self, other: InsertReport, offset: int = 0) -> None:
        self.new += other.new
        self.already_present += other.already_present
        self.rejected.extend((pos + offset, why) for pos, why in other.rejected)
        self.new_ids.extend(other.new_ids)


def content_hash(content: str | bytes) -> str:
    data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    return hashlib.sha256(data).hexdigest()


def day_number(moment: datetime | date) -> int:
    return moment.year * 10000 + moment.month * 100 + moment.day


def validate_app_name(app: str) -> str:
    if not _APP_NAME.match(app or ""):
        raise RawStoreError(
            f"Application name {app!r} is not valid: use lower-case letters, digits and _ (max 41 characters)."
        )
    return app


class RawStore:
    def __init__(self, uri: str, embedded: bool = False):
        self.uri = uri
        self.embedded = embedded
        self.client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000, tz_aware=True)
        self._indexed: set[str] = set()
        self._lock = threading.Lock()

    # -- structure -------------------------------------------------------------------------
    def database(self, app: str):
        return self.client[DB_PREFIX + validate_app_name(app)]

    def collection(self, app: str):
        coll = self.database(app)[COLLECTION]
        if app not in self._indexed:
            with self._lock:
                if app not in self._indexed:
                    self._ensure_indexes(coll)
                    self._indexed.add(app)
        return coll

    @staticmethod
    def _ensure_indexes(coll) -> None:
        # The embedded server renames indexes and rejects re-creating a text index, so compare by
        # key fields and treat a refused text index as present.
        present = {tuple(field for field, _ in info["key"]) for info in coll.index_information().values()}
        wanted = [
            ([("source_id", pymongo.ASCENDING), ("content_hash", pymongo.ASCENDING)], True),
            ([("fetched_at", pymongo.DESCENDING)], False),
            ([("url", pymongo.ASCENDING)], False),
            ([("fetched_day", pymongo.ASCENDING)], False),
        ]
        for keys, unique in wanted:
            if tuple(field for field, _ in keys) not in present:
                coll.create_index(keys, unique=unique)
        with contextlib.suppress(OperationFailure):
            # Full-text index (FTS5 on the embedded server): word search without scanning documents.
            coll.create_index([("raw_content", pymongo.TEXT), ("url", pymongo.TEXT)], name="tx_content")

    def apps(self) -> list[str]:
        names = self.client.list_database_names()
        return sorted(n[len(DB_PREFIX):] for n in names if n.startswith(DB_PREFIX))

    # -- writes ----------------------------------------------------------------------------
    def insert_documents(self, app: str, documents: Iterable[dict[str, Any]], batch_size: int = 1000) -> InsertReport:
        """Insert new documents; count those already present; reject malformed ones with a reason."""
        report = InsertReport()
        batch: list[dict] = []
        positions: list[int] = []
        coll = self.collection(app)
        for position, doc in enumerate(documents):
            problem = _document_problem(doc)
            if problem:
                report.rejected.append((position, problem))
                continue
            prepared = dict(doc)
            prepared.setdefault("_id", ObjectId())
            # A derived integer day (YYYYMMDD): on the embedded server, range filters over datetimes or
            # date-like strings take ~1 s per 20k documents, over integers a few ms.
            prepared["fetched_day"] = day_number(doc["fetched_at"])
            batch.append(prepared)
            positions.append(position)
            if len(batch) >= batch_size:
                report.merge(self._insert_batch(coll, batch, positions))
                batch, positions = [], []
        if batch:
            report.merge(self._insert_batch(coll, batch, positions))
        return report

    @staticmethod
    def _insert_batch(coll, batch: list[dict], positions: list[int]) -> InsertReport:
        report = InsertReport()
        failed: dict[int, str] = {}
        try:
            coll.insert_many(batch, ordered=False)
        except BulkWriteError as exc:
            for err in exc.details.get("writeErrors", []):
                failed[err["index"]] = "duplicate" if err.get("code") == DUPLICATE_KEY else err.get("errmsg", "error")
        except PyMongoError as exc:
            raise RawStoreError(f"The raw store refused the batch: {exc}") from exc
        for index, doc in enumerate(batch):
            reason = failed.get(index)
            if reason is None:
                report.new += 1
                report.new_ids.append(str(doc["_id"]))
            elif reason == "duplicate":
                report.already_present += 1
            else:
                report.rejected.append((positions[index], reason))
        return report

    def delete_documents(self, app: str, ids: list[str]) -> int:
        result = self.collection(app).delete_many({"_id": {"$in": [ObjectId(i) for i in ids]}})
        return result.deleted_count

    # -- reads -----------------------------------------------------------------------------
    def find(self, app: str, query: dict | None = None, *, sort=(("fetched_at", -1),), skip: int = 0,
             limit: int = 50, projection: dict | None = None) -> list[dict]:
        cursor = self.collection(app).find(query or {}, projection)
        if sort:
            cursor = cursor.sort(list(sort))
        return [_plain(doc) for doc in cursor.skip(skip).limit(limit)]

    def get(self, app: str, raw_id: str) -> dict | None:
        try:
            doc = self.collection(app).find_one({"_id": ObjectId(raw_id)})
        except Exception:  # an id that is not an ObjectId is simply not there
            return None
        return _plain(doc) if doc else None

    def estimated_count(self, app: str) -> int:
        # count_documents({}) is a full scan on the embedded server; the estimate reads metadata.
        return self.collection(app).estimated_document_count()

    def count(self, app: str, query: dict) -> int:
        return self.collection(app).count_documents(query)

    # -- binary files ----------------------------------------------------------------------
    def put_file(self, app: str, data: bytes, filename: str, metadata: dict | None = None) -> str:
        fs = gridfs.GridFS(self.database(app))
        return str(fs.put(data, filename=filename, metadata=metadata or {}))

    def get_file(self, app: str, file_id: str) -> tuple[bytes, dict]:
        fs = gridfs.GridFS(self.database(app))
        grid_out = fs.get(ObjectId(file_id))
        return grid_out.read(), {"filename": grid_out.filename, "metadata": grid_out.metadata or {}}

    # -- health ----------------------------------------------------------------------------
    def health(self) -> dict:
        try:
            self.client.admin.command("ping")
        except PyMongoError as exc:
            return {"ok": False, "kind": self.kind, "error": str(exc)}
        counts = {app: self.estimated_count(app) for app in self.apps()}
        return {"ok": True, "kind": self.kind, "documents": counts, "total": sum(counts.values())}

    @property
    def kind(self) -> str:
        return "embedded (nx-27017)" if self.embedded else "MongoDB"

    def close(self) -> None:
        self.client.close()


def _document_problem(doc: Any) -> str | None:
    if not isinstance(doc, dict):
        return "not a document"
    missing = [k for k in REQUIRED_KEYS if k not in doc]
    if missing:
        return "missing " + ", ".join(missing)
    if not isinstance(doc["fetched_at"], datetime):
        return "fetched_at is not a datetime"
    return None


def _plain(doc: dict) -> dict:
    doc = dict(doc)
    doc["_id"] = str(doc["_id"])
    fetched = doc.get("fetched_at")
    if isinstance(fetched, datetime) and fetched.tzinfo is None:
        doc["fetched_at"] = fetched.replace(tzinfo=UTC)
    return doc


_stores: dict[str, RawStore] = {}
_stores_lock = threading.Lock()


def get_raw_store(settings: Settings | None = None) -> RawStore:
    """The process-wide raw store: MONGODB_URI if set, else the embedded server."""
    settings = settings or get_settings()
    key = settings.mongodb_uri or str(settings.data_dir / "mongo")
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            if settings.mongodb_uri:
                store = RawStore(settings.mongodb_uri)
            else:
                server = embedded_manager(settings.data_dir / "mongo").ensure_running()
                store = RawStore(server.uri, embedded=True)
            _stores[key] = store
        return store


def close_raw_stores() -> None:
    with _stores_lock:
        for store in _stores.values():
            store.close()
        _stores.clear()
