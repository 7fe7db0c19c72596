"""Ingest: raw documents into the raw store, then standardized items into the SQL store.

Used by uploads (the Upload page and `python -m core ingest`) and by scrapes.
Nothing is ingested without a rights attestation; the licence, origin and who
attested travel with every raw document as provenance.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Callable

from bson import ObjectId
from sqlalchemy import insert
from sqlmodel import select

from core import audit, tenancy
from core.auth import PermissionDenied, Principal, require_role
from core.config import get_settings
from core.licenses import is_valid_license, normalize_license
from core.privacy.suppression import SUPPRESSED_REASON, drop_suppressed
from core.safe_names import UnsafeNameError, safe_name, upload_base_name, upload_path_name
from core.sources.standardize import is_record, standardize_document
from core.sources.upload_formats import ParsedFile, UploadError, UploadLimits, parse_file
from core.store import lake
from core.store.models import Dataset, Item
from core.store.raw import RawStoreError, content_hash, get_raw_store, validate_app_name
from core.store.sql import session_scope

ORIGINS = ("university", "enterprise", "crowd", "web")
BATCH = 1000


@dataclass
class IngestReport:
    dataset: str
    app: str
    new: int = 0
    already_present: int = 0
    rejected: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, reason)
    items_created: int = 0
    binaries_stored: int = 0
    warnings: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, what was repaired): kept
    suppressed: int = 0  # records naming an erased data subject, dropped (also listed in rejected)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Provenance:
    license: str
    origin: str
    attested_by: int
    notes: str = ""


def ensure_dataset(principal: Principal, name: str, app: str, license: str | None = None, origin: str | None = None,
                   attested: bool = False, notes: str = "", owner_id: int | None = None) -> dict:
    """The dataset `name`, created for `owner_id` (default: the principal) if it does not exist yet.

    An existing dataset is only ever added to by its owner or an admin, and only with records of that
    same owner (a scrape writes into its source owner's dataset, whoever started it).
    """
    owner_id = principal.id if owner_id is None else owner_id
    name = (name or "").strip()
    try:
        safe_name(name, "dataset name")  # the name becomes a directory under data/raw, processed and validated
    except UnsafeNameError as exc:
        raise UploadError(str(exc)) from None
    with session_scope() as session:
        dataset = session.exec(select(Dataset).where(Dataset.name == name)).first()
        if dataset is None:
            dataset = Dataset(name=name, app=app, license=license, origin=origin, attested=attested,
                              attested_by=principal.id if attested else None, notes=notes, created_by=owner_id)
            session.add(dataset)
            session.flush()
        elif not tenancy.owns(principal, dataset.created_by) or dataset.created_by != owner_id:
            raise PermissionDenied(f"The dataset name '{name}' is taken by another supplier; choose another name.")
        elif dataset.app != app:
            raise UploadError(f"Dataset '{name}' belongs to the {dataset.app} application, not {app}.")
        return dataset.model_dump()


def store_documents(app: str, dataset_id: int, documents: list[dict]) -> tuple[int, int, list, int]:
    """Insert raw documents; standardize the new ones into items. Returns (new, present, rejected, items)."""
    raw = get_raw_store()
    documents, positions, suppressed = without_suppressed(dataset_id, documents)
    for doc in documents:
        doc.setdefault("_id", ObjectId())  # known before insert, so the new ones can be matched to items
    report = raw.insert_documents(app, documents)
    new_ids = set(report.new_ids)
    new_docs = [d for d in documents if str(d.get("_id")) in new_ids]
    items = items_from_documents(app, dataset_id, new_docs)
    return report.new, report.already_present, rejected_in_batch(report.rejected, positions, suppressed), items


def without_suppressed(dataset_id: int, documents: list[dict]) -> tuple[list[dict], list[int], list[int]]:
    """The documents to store, each one's position in the batch, and the positions dropped because they
    name an erased data subject: an erasure must survive a re-scrape or re-upload (core/privacy/suppression.py)."""
    kept, suppressed = drop_suppressed(dataset_id, documents)
    dropped = set(suppressed)
    return kept, [i for i in range(len(documents)) if i not in dropped], suppressed


def rejected_in_batch(rejected: list, positions: list[int], suppressed: list[int]) -> list:
    """Rejections of the stored documents mapped back to batch positions, plus the suppressed ones."""
    mapped = [(positions[pos], why) for pos, why in rejected]
    return sorted(mapped + [(pos, SUPPRESSED_REASON) for pos in suppressed])


def items_from_documents(app: str, dataset_id: int, documents: list[dict]) -> int:
    rows = []
    for doc in filter(is_record, documents):
        standard = standardize_document(doc, app)
        rows.append({
            "dataset_id": dataset_id, "source_app": app, "source_id": doc["source_id"], "raw_id": str(doc["_id"]),
            "url": (doc.get("url") or "")[:2000] or None, "content_hash": doc["content_hash"],
            "title": (standard["title"] or "")[:1000] or None, "text": standard["text"],
            "data_type": standard["data_type"],
            "fields": standard["fields"], "created_at": datetime.now(UTC),
        })
    if not rows:
        return 0
    with session_scope() as session:
        existing = set(session.exec(
            select(Item.source_id, Item.content_hash).where(
                Item.dataset_id == dataset_id, Item.content_hash.in_([r["content_hash"] for r in rows]))
        ).all())
        fresh = [r for r in rows if (r["source_id"], r["content_hash"]) not in existing]
        if fresh:
            session.execute(insert(Item), fresh)
    return len(fresh)


def upload_documents(parsed: ParsedFile, dataset: str, filename: str, provenance: Provenance) -> tuple[list, int]:
    """Raw documents for the records of an uploaded file, plus binaries stored in GridFS."""
    fetched_at = datetime.now(UTC)
    source_id = f"upload:{dataset}"
    base = {"license": provenance.license, "origin": provenance.origin, "attested": True,
            "attested_by": provenance.attested_by, "notes": provenance.notes, "upload": filename}
    documents = []
    for record in parsed.records:
        line, member = record.pop("_line"), record.pop("_file")
        fmt = _member_format(member)
        if fmt in ("text", "html"):
            raw_content = record["text" if fmt == "text" else "html"]
        else:
            # Structured rows are kept as canonical JSON: the original values, stable for hashing.
            raw_content = json.dumps(record, ensure_ascii=False, sort_keys=True, default=str)
        documents.append({
            "source_id": source_id, "url": f"upload://{dataset}/{member}#{line}", "fetched_at": fetched_at,
            "content_hash": content_hash(raw_content), "raw_content": raw_content,
            "metadata": {**base, "file": member, "line": line, "format": fmt, "kind": "upload",
                         "encoding": parsed.encoding},
        })
    raw = get_raw_store()
    for binary in parsed.binaries:
        gridfs_id = raw.put_file("uploads", binary.data, binary.name, {**base, "mime_type": binary.mime_type})
        documents.append({
            "source_id": source_id, "url": f"upload://{dataset}/{binary.name}", "fetched_at": fetched_at,
            "content_hash": content_hash(binary.data), "raw_content": "",
            "metadata": {**base, "file": binary.name, "kind": "binary", "mime_type": binary.mime_type,
                         "bytes": len(binary.data), "gridfs_id": gridfs_id, "filename": binary.name,
                         **({"container": binary.container} if binary.container else {})},
        })
    return documents, len(parsed.binaries)


def _member_format(name: str) -> str:
    suffix = name.lower().rsplit(".", 1)[-1]
    aliases = {"tsv": "csv", "ndjson": "jsonl", "txt": "text", "md": "text", "htm": "html"}
    return aliases.get(suffix, suffix)


def check_type_limits(filename: str, data: bytes, parsed: ParsedFile, settings) -> None:
    """UploadError when a text file, or an image, audio or video file (alone or in an archive), exceeds its
    type's limit."""
    megabyte = 1024 * 1024
    if parsed.format not in ("binary", "zip") and len(data) > settings.upload_max_text_mb * megabyte:
        raise UploadError(f"{filename} is {len(data) / megabyte:.1f} MB; text and table uploads are limited to "
                          f"{settings.upload_max_text_mb} MB (setting upload_max_text_mb).")
    for binary in parsed.binaries:
        kind = binary.mime_type.split("/")[0] if binary.mime_type.startswith(("image/", "video/")) else "audio"
        limit = getattr(settings, f"upload_max_{kind}_mb")
        if len(binary.data) > limit * megabyte:
            raise UploadError(f"{binary.name} is {len(binary.data) / megabyte:.1f} MB; {kind} files are limited "
                              f"to {limit} MB (setting upload_max_{kind}_mb). Nothing was ingested.")


def check_ingest_terms(attested: bool, license: str | None, origin: str | None) -> None:
    """Refuse, before anything is read or written, an ingest without the rights attestation, with a licence
    that is not SPDX, or with an unknown origin (the same rule for browser, CLI, API and bucket ingest)."""
    if not attested:
        raise UploadError("Confirm that you have the right to supply this data; nothing was ingested.")
    if not is_valid_license(license or ""):
        raise UploadError(f"'{license}' is not an SPDX licence identifier (for example CC-BY-4.0, MIT, CC0-1.0).")
    if origin not in ORIGINS:
        raise UploadError(f"Origin must be one of {', '.join(ORIGINS)}.")


def ingest_upload(principal: Principal, filename: str, data: bytes, *, app: str, dataset: str, license: str,
                  origin: str, attested: bool, notes: str = "",
                  progress: Callable[[float, str], None] | None = None) -> IngestReport:
    """Parse, check and ingest an uploaded file. Raises UploadError for a file refused as a whole."""
    require_role(principal, "supplier", "admin", action="upload data")
    # Both names reach a path below; check them before anything else so nothing is written under a bad one.
    dataset = (dataset or "").strip()
    try:
        safe_name(dataset, "dataset name")
        filename = upload_base_name(filename)
        snapshot_name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}_" + upload_path_name(filename, max_length=80)
    except UnsafeNameError as exc:
        raise UploadError(str(exc)) from None
    check_ingest_terms(attested, license, origin)
    try:
        app = validate_app_name(app)
    except RawStoreError as exc:
        raise UploadError(str(exc)) from None
    license = normalize_license(license)
    settings = get_settings()
    limits = UploadLimits(max_file_bytes=settings.upload_max_mb * 1024 * 1024)
    notify = progress or (lambda fraction, message: None)
    notify(0.05, f"Reading {filename}")
    parsed = parse_file(filename, data, limits)
    check_type_limits(filename, data, parsed, settings)
    if not parsed.records and not parsed.binaries:
        reasons = "; ".join(f"{f} line {n}: {r}" for f, n, r in parsed.rejected[:5])
        raise UploadError(f"{filename} has no usable records" + (f" ({reasons})" if reasons else "") + ".")
    # Ownership first: nothing of this file may land under another supplier's dataset directory.
    info = ensure_dataset(principal, dataset, app, license, origin, True, notes)
    snapshot = lake.zone_path("raw", "uploads", dataset, snapshot_name)
    with lake.atomic_path(snapshot) as tmp:
        tmp.write_bytes(data)  # the file exactly as received, before any parsing decisions
    provenance = Provenance(license=license, origin=origin, attested_by=principal.id, notes=notes)
    documents, binaries = upload_documents(parsed, dataset, filename, provenance)
    report = IngestReport(dataset=dataset, app=app, rejected=list(parsed.rejected), binaries_stored=binaries,
                          warnings=list(parsed.warnings))
    for start in range(0, len(documents), BATCH):
        batch = documents[start:start + BATCH]
        new, present, rejected, items = store_documents(app, info["id"], batch)
        report.new += new
        report.already_present += present
        report.items_created += items
        report.rejected.extend((filename, start + pos + 1, why) for pos, why in rejected)
        report.suppressed += sum(why == SUPPRESSED_REASON for _, why in rejected)
        notify(0.1 + 0.9 * min(1.0, (start + len(batch)) / len(documents)), f"Stored {start + len(batch):,} records")
    audit.record("upload", principal.id, f"dataset:{dataset}", file=filename, new=report.new,
                 already_present=report.already_present, rejected=len(report.rejected), license=license)
    return report
