"""Streamed ingest: a file of any size from disk into the raw store and items, in constant memory.

Used by `python -m core ingest`, the REST API (which spools the request body to a temporary file)
and bucket sources. Records are read one at a time (`stream_formats`), stored in batches with the
same bulk insert as the Upload page (idempotent on (source_id, content_hash)), and after every
committed batch a checkpoint records the last line and byte offset. A crash leaves that checkpoint;
ingesting the same file into the same dataset again resumes after it, and because the raw store
refuses duplicates nothing is doubled even if the crash came between the insert and the checkpoint.

The browser upload keeps `ingest.ingest_upload` (Streamlit holds the file in memory anyway, within
UPLOAD_MAX_MB); here the limit is INGEST_MAX_GB. Formats that are one record per file (text, HTML,
images) and ZIP archives are still read whole, within UPLOAD_MAX_MB.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bson import ObjectId
from sqlmodel import select

from core import audit, tenancy
from core.auth import PermissionDenied, Principal, require_role
from core.config import get_settings
from core.licenses import normalize_license
from core.privacy.suppression import SUPPRESSED_REASON
from core.safe_names import UnsafeNameError, safe_name, upload_base_name, upload_path_name
from core.sources.ingest import (
    IngestReport,
    _member_format,
    check_ingest_terms,
    ensure_dataset,
    ingest_upload,
    items_from_documents,
    rejected_in_batch,
    without_suppressed,
)
from core.sources.stream_formats import RecordStream, StreamItem, is_streamable, logical_name
from core.sources.upload_formats import UploadError
from core.store import lake
from core.store.models import Dataset
from core.store.models_ingest import IngestCheckpoint
from core.store.raw import RawStoreError, content_hash, get_raw_store, validate_app_name
from core.store.sql import session_scope

DEFAULT_ORIGIN = "enterprise"
MAX_REPORTED = 1_000  # rejected / repaired lines listed in a report; the counts are always complete
FINGERPRINT_SAMPLE = 1024 * 1024
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class StreamTarget:
    """Where the records of one file go and how they are labelled."""

    app: str
    dataset: str
    owner_id: int
    license: str
    origin: str
    notes: str
    source_id: str  # upload:<dataset> for uploads, the source name for a bucket source
    url_prefix: str  # each record's url is url_prefix + "#<line>"
    kind: str = "upload"
    extra_metadata: tuple[tuple[str, object], ...] = ()


def ingest_path(principal: Principal, path: str | Path, *, app: str, dataset: str, license: str, attest: bool,
                origin: str | None = None, progress: Progress | None = None, notes: str = "",
                filename: str | None = None) -> dict:
    """Ingest the file at `path` (shown as `filename`, default its own name) into `dataset`, streaming.

    Returns the IngestReport fields plus rejected_count, warnings_count, records_read, bytes_read,
    bytes_total, resumed_from_line, streamed and seconds. Raises UploadError for a file refused as a
    whole (nothing stored) and PermissionDenied for a dataset of another supplier."""
    require_role(principal, "supplier", "admin", action="upload data")
    path = Path(path)
    dataset = (dataset or "").strip()
    try:
        safe_name(dataset, "dataset name")
        shown = upload_base_name(filename or path.name)
    except UnsafeNameError as exc:
        raise UploadError(str(exc)) from None
    origin = origin or DEFAULT_ORIGIN
    check_ingest_terms(attest, license, origin)
    try:
        app = validate_app_name(app)
    except RawStoreError as exc:
        raise UploadError(str(exc)) from None
    if not path.is_file():
        raise UploadError(f"{shown} is not a readable file.")
    settings = get_settings()
    size = path.stat().st_size
    if not is_streamable(shown):
        # One record per file (text, HTML, images) or an archive: read whole, within the browser's limit.
        limit = settings.upload_max_mb * 1024 * 1024
        if size > limit:
            raise UploadError(f"{shown} is {size / 1e6:.1f} MB; files of this type are read whole and the limit "
                              f"is {limit / 1e6:.0f} MB (UPLOAD_MAX_MB). Large data streams as CSV, JSONL, JSON "
                              "or Parquet (optionally .gz).")
        started = time.monotonic()
        report = ingest_upload(principal, shown, path.read_bytes(), app=app, dataset=dataset, license=license,
                               origin=origin, attested=True, notes=notes, progress=progress)
        return {**report.as_dict(), "rejected_count": len(report.rejected), "warnings_count": len(report.warnings),
                "records_read": report.new + report.already_present + len(report.rejected), "bytes_read": size,
                "bytes_total": size, "resumed_from_line": 0, "streamed": False,
                "seconds": round(time.monotonic() - started, 3)}
    check_stream_size(shown, size)
    check_dataset_usable(principal, dataset, app, principal.id)
    target = StreamTarget(app=app, dataset=dataset, owner_id=principal.id, license=normalize_license(license),
                          origin=origin, notes=notes, source_id=f"upload:{dataset}",
                          url_prefix=f"upload://{dataset}/{shown}")
    report = stream_file(principal, path, shown, target, progress=progress)
    if settings.ingest_keep_snapshot:
        snapshot_name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}_" + upload_path_name(shown, max_length=80)
        with lake.atomic_path(lake.zone_path("raw", "uploads", dataset, snapshot_name)) as tmp:
            shutil.copyfile(path, tmp)  # the file exactly as received, before any parsing decisions
    audit.record("upload", principal.id, f"dataset:{dataset}", file=shown, new=report["new"],
                 already_present=report["already_present"], rejected=report["rejected_count"],
                 license=target.license, streamed=True, bytes=size)
    return report


def check_stream_size(name: str, size: int) -> None:
    limit_gb = get_settings().ingest_max_gb
    if size > limit_gb * 1e9:
        raise UploadError(f"{name} is {size / 1e9:.2f} GB; the limit for streamed ingest is {limit_gb:g} GB "
                          "(INGEST_MAX_GB). Split it into smaller files.")


def check_dataset_usable(principal: Principal, name: str, app: str, owner_id: int) -> None:
    """Refuse before reading a byte when the dataset exists and is someone else's or another app's."""
    with session_scope() as session:
        existing = session.exec(select(Dataset).where(Dataset.name == name)).first()
        if existing is None:
            return
        if not tenancy.owns(principal, existing.created_by) or existing.created_by != owner_id:
            raise PermissionDenied(f"The dataset name '{name}' is taken by another supplier; choose another name.")
        if existing.app != app:
            raise UploadError(f"Dataset '{name}' belongs to the {existing.app} application, not {app}.")


def file_fingerprint(path: Path, name: str) -> str:
    """Name, size and the first and last MiB: the same file under another (temporary) path, cheaply."""
    digest = hashlib.sha256(f"{name}\0{path.stat().st_size}\0".encode())
    with open(path, "rb") as handle:
        digest.update(handle.read(FINGERPRINT_SAMPLE))
        if path.stat().st_size > FINGERPRINT_SAMPLE:
            handle.seek(-FINGERPRINT_SAMPLE, 2)
            digest.update(handle.read(FINGERPRINT_SAMPLE))
    return digest.hexdigest()


@dataclass
class _Batch:
    """Records read since the last commit, with the lines rejected or repaired among them."""

    documents: list[dict] = field(default_factory=list)
    rejected: list[tuple[str, int, str]] = field(default_factory=list)
    warnings: list[tuple[str, int, str]] = field(default_factory=list)
    records_read: int = 0
    last: StreamItem | None = None


def stream_file(principal: Principal, path: Path, name: str, target: StreamTarget,
                progress: Progress | None = None) -> dict:
    """Stream the records of `path` into `target`'s dataset in batches, checkpointing each batch.

    Reading and parsing the next batch overlaps with storing the previous one (one writer thread, at
    most two batches in memory): the raw store's server works while this process parses."""
    notify = progress or (lambda fraction, message: None)
    started = time.monotonic()
    fingerprint = file_fingerprint(path, name)
    checkpoint = _open_checkpoint(target, fingerprint, name, path.stat().st_size, principal)
    report = _Tally.from_checkpoint(target, checkpoint)
    batch_size = get_settings().ingest_batch_size
    fetched_at = datetime.now(UTC)
    fmt = _member_format(logical_name(name))
    base = {"license": target.license, "origin": target.origin, "attested": True, "attested_by": principal.id,
            "notes": target.notes, "upload": name, **dict(target.extra_metadata)}
    notify(0.0, f"Reading {name}" + (f" from line {report.resumed_from + 1:,}" if report.resumed_from else ""))
    dataset_id: int | None = None
    batch, in_flight = _Batch(), None
    whole_object_limit = get_settings().upload_max_mb * 1024 * 1024
    with RecordStream(path, name, resume_line=checkpoint["line"], resume_offset=checkpoint["byte_offset"],
                      max_whole_object_bytes=whole_object_limit) as stream, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer") as writer:
        try:
            for item in stream:
                batch.last = item
                batch.records_read += 1
                if item.problem:
                    batch.rejected.append((name, item.line, item.problem))
                else:
                    if item.warning:
                        batch.warnings.append((name, item.line, item.warning))
                    raw_content = json.dumps(item.record, ensure_ascii=False, sort_keys=True, default=str)
                    batch.documents.append({
                        "_id": ObjectId(), "source_id": target.source_id, "url": f"{target.url_prefix}#{item.line}",
                        "fetched_at": fetched_at, "content_hash": content_hash(raw_content),
                        "raw_content": raw_content,
                        "metadata": {**base, "file": name, "line": item.line, "format": fmt, "kind": target.kind,
                                     "encoding": stream.encoding},
                    })
                # Counted in lines read, not records kept, so a long run of bad lines is flushed too.
                if batch.records_read >= batch_size:
                    if batch.documents:
                        dataset_id = dataset_id or _dataset_id(principal, target)
                    if in_flight is not None:
                        in_flight.result()  # at most one batch stored while the next is read
                        notify(stream.bytes_read / max(stream.bytes_total, 1), _progress_message(stream, report))
                    in_flight = writer.submit(_commit_batch, target, dataset_id, batch, report, checkpoint)
                    batch = _Batch()
            if in_flight is not None:
                in_flight.result()
            if batch.documents:
                dataset_id = dataset_id or _dataset_id(principal, target)
            _commit_batch(target, dataset_id, batch, report, checkpoint)
        except BaseException:
            if in_flight is not None and not in_flight.done():
                in_flight.exception()  # let the writer finish (its checkpoint is true) before marking failed
            _mark_checkpoint(checkpoint, "failed")
            raise
    if dataset_id is None and report.rejected_count:
        reasons = "; ".join(f"{f} line {n}: {r}" for f, n, r in report.rejected[:5])
        raise UploadError(f"{name} has no usable records ({reasons}).")
    if report.records_read == 0 and not report.resumed_from:
        raise UploadError(f"{name} has no records; there is nothing to ingest.")
    _mark_checkpoint(checkpoint, "done", report)
    notify(1.0, _progress_message(stream, report))
    return report.as_dict(bytes_total=path.stat().st_size, seconds=time.monotonic() - started)


def _progress_message(stream: RecordStream, report: _Tally) -> str:
    return (f"Read {stream.bytes_read / 1e6:,.1f} of {stream.bytes_total / 1e6:,.1f} MB; "
            f"{report.new:,} new, {report.already_present:,} already present, {report.rejected_count:,} rejected")


def _dataset_id(principal: Principal, target: StreamTarget) -> int:
    info = ensure_dataset(principal, target.dataset, target.app, target.license, target.origin, True, target.notes,
                          owner_id=target.owner_id)
    return info["id"]


def _commit_batch(target: StreamTarget, dataset_id: int | None, batch: _Batch, report: _Tally,
                  checkpoint: dict) -> None:
    """Store one batch, add its counts to the report and move the checkpoint past its last line."""
    if batch.documents:
        new, present, rejected, items = store_batch(target.app, dataset_id, batch.documents)
        report.new += new
        report.already_present += present
        report.items_created += items
        for position, why in rejected:
            metadata = batch.documents[position]["metadata"]
            batch.rejected.append((metadata["file"], metadata["line"], why))
    report.records_read += batch.records_read
    for name, line, reason in sorted(batch.rejected, key=lambda r: r[1]):
        report.reject(name, line, reason)
    for name, line, what in batch.warnings:
        report.warn(name, line, what)
    if dataset_id is not None and batch.last is not None:
        checkpoint["line"], checkpoint["byte_offset"] = batch.last.line, batch.last.offset
        _save_checkpoint(checkpoint, report)


def store_batch(app: str, dataset_id: int, documents: list[dict]) -> tuple[int, int, list, int]:
    """Insert raw documents and create the items they lack. Returns (new, present, rejected, items).

    Unlike `ingest.store_documents`, a document already in the raw store still gets its item when the
    dataset has none for it: a crash between the raw insert and the item insert must not leave raw
    records without items after the resume."""
    raw = get_raw_store()
    documents, positions, suppressed = without_suppressed(dataset_id, documents)
    if not documents:
        return 0, 0, rejected_in_batch([], positions, suppressed), 0
    result = raw.insert_documents(app, documents, batch_size=len(documents))
    new_ids = set(result.new_ids)
    rejected_positions = {position for position, _ in result.rejected}
    fresh = [d for d in documents if str(d["_id"]) in new_ids]
    present = [d for i, d in enumerate(documents) if str(d["_id"]) not in new_ids and i not in rejected_positions]
    if present:
        fresh_hashes = {d["content_hash"] for d in fresh}
        wanted = {d["content_hash"]: d for d in present if d["content_hash"] not in fresh_hashes}
        if wanted:
            source_id = documents[0]["source_id"]
            stored = raw.collection(app).find({"source_id": source_id, "content_hash": {"$in": list(wanted)}},
                                              {"_id": 1, "content_hash": 1})
            fresh.extend({**wanted[doc["content_hash"]], "_id": doc["_id"]} for doc in stored
                         if doc["content_hash"] in wanted)
    items = items_from_documents(app, dataset_id, fresh)
    return result.new, result.already_present, rejected_in_batch(result.rejected, positions, suppressed), items


# -- checkpoints ----------------------------------------------------------------------------------
def _open_checkpoint(target: StreamTarget, fingerprint: str, name: str, size: int, principal: Principal) -> dict:
    """The unfinished checkpoint of this file in this dataset (to resume), or a fresh, unsaved one."""
    with session_scope() as session:
        row = session.exec(select(IngestCheckpoint).where(IngestCheckpoint.dataset_name == target.dataset,
                                                          IngestCheckpoint.fingerprint == fingerprint)).first()
        if row is not None and row.status != "done":
            return row.model_dump()
        return {"id": row.id if row else None, "dataset_name": target.dataset, "fingerprint": fingerprint,
                "filename": name[:300], "bytes_total": size, "line": 0, "byte_offset": None, "status": "running",
                "report": {}, "created_by": principal.id}


def _save_checkpoint(checkpoint: dict, report: _Tally) -> None:
    with session_scope() as session:
        row = session.get(IngestCheckpoint, checkpoint["id"]) if checkpoint["id"] else None
        if row is None:
            row = IngestCheckpoint(**{k: v for k, v in checkpoint.items() if k != "id"})
        row.line, row.byte_offset, row.status = checkpoint["line"], checkpoint["byte_offset"], "running"
        row.report, row.updated_at = report.saved_state(), datetime.now(UTC)
        session.add(row)
        session.flush()
        checkpoint["id"] = row.id


def _mark_checkpoint(checkpoint: dict, status: str, report: _Tally | None = None) -> None:
    if not checkpoint["id"]:
        return
    with session_scope() as session:
        row = session.get(IngestCheckpoint, checkpoint["id"])
        if row is None:
            return
        row.status, row.updated_at = status, datetime.now(UTC)
        if report is not None:
            row.report = report.saved_state()
        session.add(row)


class _Tally:
    """The running report of one file, including what a crashed earlier run had already committed."""

    def __init__(self, target: StreamTarget, resumed_from: int = 0, saved: dict | None = None):
        saved = saved or {}
        self.target = target
        self.resumed_from = resumed_from
        self.new = saved.get("new", 0)
        self.already_present = saved.get("already_present", 0)
        self.items_created = saved.get("items_created", 0)
        self.rejected = [tuple(r) for r in saved.get("rejected", [])]
        self.warnings = [tuple(w) for w in saved.get("warnings", [])]
        self.rejected_count = saved.get("rejected_count", 0)
        self.warnings_count = saved.get("warnings_count", 0)
        self.records_read = saved.get("records_read", 0)
        self.suppressed = saved.get("suppressed", 0)
        self.bytes_read = 0

    @classmethod
    def from_checkpoint(cls, target: StreamTarget, checkpoint: dict) -> _Tally:
        if checkpoint["status"] == "done" or not checkpoint["line"]:
            return cls(target)
        return cls(target, resumed_from=checkpoint["line"], saved=checkpoint["report"])

    @property
    def stored(self) -> int:
        return self.new + self.already_present

    def reject(self, name: str, line: int, reason: str) -> None:
        self.rejected_count += 1
        self.suppressed += reason == SUPPRESSED_REASON
        if len(self.rejected) < MAX_REPORTED:
            self.rejected.append((name, line, reason))

    def warn(self, name: str, line: int, what: str) -> None:
        self.warnings_count += 1
        if len(self.warnings) < MAX_REPORTED:
            self.warnings.append((name, line, what))

    def saved_state(self) -> dict:
        return {"new": self.new, "already_present": self.already_present, "items_created": self.items_created,
                "rejected": [list(r) for r in self.rejected], "warnings": [list(w) for w in self.warnings],
                "rejected_count": self.rejected_count, "warnings_count": self.warnings_count,
                "records_read": self.records_read, "suppressed": self.suppressed}

    def as_dict(self, bytes_total: int, seconds: float) -> dict:
        report = IngestReport(dataset=self.target.dataset, app=self.target.app, new=self.new,
                              already_present=self.already_present, rejected=list(self.rejected),
                              items_created=self.items_created, warnings=list(self.warnings),
                              suppressed=self.suppressed)
        return {**report.as_dict(), "rejected_count": self.rejected_count, "warnings_count": self.warnings_count,
                "records_read": self.records_read, "bytes_read": bytes_total, "bytes_total": bytes_total,
                "resumed_from_line": self.resumed_from, "streamed": True, "seconds": round(seconds, 3)}
