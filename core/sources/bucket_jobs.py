"""Jobs over buckets: ingest a bucket source incrementally; upload a package version to a bucket.

A bucket source is ingested object by object: an object whose ETag, size and mtime match the last
successful ingest is skipped; a new or changed one is downloaded to a temporary file (constant
memory) and streamed into the source's dataset like any large file. Each object's outcome is
recorded (BucketObjectSeen), so an interrupted run loses at most the object it was on, and a failed
object is tried again next time.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from core import audit, tenancy
from core.auth import Principal
from core.licenses import normalize_license
from core.safe_names import UnsafeNameError, safe_name
from core.sources.buckets import BucketError, bucket_filesystem, list_objects, parse_bucket_url, upload_package
from core.sources.ingest import ORIGINS
from core.sources.stream_formats import is_streamable
from core.sources.stream_ingest import StreamTarget, check_dataset_usable, check_stream_size, stream_file
from core.sources.upload_formats import UploadError
from core.store.jobs import JobContext, job_function
from core.store.models_ingest import BucketObjectSeen
from core.store.sql import session_scope


def ingest_bucket_source(principal: Principal, name: str, progress=None, should_stop=lambda: False,
                         log=lambda line: None) -> dict:
    """Ingest every new or changed object under a bucket source's prefix. Returns counts per outcome."""
    source = tenancy.source_for(principal, name, action="ingest bucket sources")
    if source["kind"] != "bucket":
        raise BucketError(f"'{name}' is a {source['kind']} source, not a bucket.")
    config = source["config"]
    dataset, origin = config.get("dataset") or "", config.get("origin") or "enterprise"
    try:
        safe_name(dataset, "dataset name")
    except UnsafeNameError as exc:
        raise BucketError(f"The source's dataset: {exc}") from None
    if not config.get("attested") or not source.get("license"):
        raise BucketError("A bucket source needs a licence and the rights attestation before it is ingested.")
    if origin not in ORIGINS:
        raise BucketError(f"Origin must be one of {', '.join(ORIGINS)}.")
    check_dataset_usable(principal, dataset, source["app"], source["created_by"])
    location = parse_bucket_url(config["url"])
    fs = bucket_filesystem(location, config.get("endpoint_url"), config.get("region"))
    objects = list_objects(fs, location, config.get("pattern") or "*")
    seen = _seen_objects(source["id"])
    totals = {"objects": len(objects), "ingested": 0, "unchanged": 0, "skipped": 0, "failed": 0, "new": 0,
              "already_present": 0, "rejected": 0, "items": 0}
    notify = progress or (lambda fraction, message: None)
    for index, obj in enumerate(objects):
        if should_stop():
            log("Stopped at the user's request; the objects done so far are recorded.")
            break
        notify(index / max(len(objects), 1), f"{obj['key']} ({index + 1} of {len(objects)})")
        previous = seen.get(obj["key"])
        if previous and previous["status"] == "ingested" and _same_version(previous, obj):
            totals["unchanged"] += 1
            continue
        filename = obj["key"].rsplit("/", 1)[-1]
        if not is_streamable(filename):
            totals["skipped"] += 1
            log(f"skipped {obj['key']}: only CSV, TSV, JSON, JSONL and Parquet (optionally .gz) are ingested "
                "from buckets")
            continue
        target = StreamTarget(app=source["app"], dataset=dataset, owner_id=source["created_by"],
                              license=normalize_license(source["license"]), origin=origin, notes="",
                              source_id=name, url_prefix=f"{location.scheme}://{obj['key']}", kind="bucket",
                              extra_metadata=(("bucket_etag", obj["etag"]),))
        try:
            report = _ingest_object(principal, fs, obj, filename, target)
        except (UploadError, BucketError, OSError) as exc:
            totals["failed"] += 1
            log(f"failed {obj['key']}: {exc}")
            _record_object(source["id"], obj, "failed", {"error": str(exc)[:1000]})
            continue
        totals["ingested"] += 1
        for key, field in (("new", "new"), ("already_present", "already_present"), ("rejected", "rejected_count"),
                           ("items", "items_created")):
            totals[key] += report[field]
        for _member, line, reason in report["rejected"][:50]:
            log(f"rejected {obj['key']} line {line}: {reason}")
        _record_object(source["id"], obj, "ingested", {k: report[k] for k in (
            "new", "already_present", "rejected_count", "items_created", "records_read")})
    notify(1.0, f"{totals['ingested']} objects ingested, {totals['unchanged']} unchanged")
    audit.record("bucket_ingest", principal.id, f"source:{name}", **{k: totals[k] for k in (
        "objects", "ingested", "unchanged", "failed", "new")})
    return totals


def _ingest_object(principal: Principal, fs, obj: dict, filename: str, target: StreamTarget) -> dict:
    check_stream_size(filename, obj["size"])
    with tempfile.TemporaryDirectory(prefix="dbw-bucket-") as folder:
        local = Path(folder) / "object"
        fs.get_file(obj["key"], str(local))  # streamed to disk by s3fs, never held in memory
        return stream_file(principal, local, filename, target)


def _same_version(previous: dict, obj: dict) -> bool:
    return (previous["etag"], previous["size"], previous["mtime"]) == (obj["etag"], obj["size"], obj["mtime"])


def _seen_objects(source_id: int) -> dict[str, dict]:
    with session_scope() as session:
        rows = session.exec(select(BucketObjectSeen).where(BucketObjectSeen.source_id == source_id)).all()
        return {row.key: row.model_dump() for row in rows}


def _record_object(source_id: int, obj: dict, status: str, report: dict) -> None:
    with session_scope() as session:
        row = session.exec(select(BucketObjectSeen).where(BucketObjectSeen.source_id == source_id,
                                                          BucketObjectSeen.key == obj["key"])).first()
        row = row or BucketObjectSeen(source_id=source_id, key=obj["key"][:1024], size=obj["size"])
        row.etag, row.size, row.mtime = obj["etag"], obj["size"], obj["mtime"]
        row.status, row.report, row.ingested_at = status, report, datetime.now(UTC)
        session.add(row)


@job_function("bucket_ingest")
def bucket_ingest_job(ctx: JobContext, params: dict) -> dict:
    """params: {"source": name of a bucket source}."""
    name = params.get("source") or ""
    return ingest_bucket_source(ctx.principal, name, progress=ctx.progress, should_stop=ctx.should_stop,
                                log=ctx.log)


@job_function("bucket_package_upload")
def bucket_package_upload_job(ctx: JobContext, params: dict) -> dict:
    """params: {"package_id", "url" (s3://bucket/prefix), optional "endpoint_url", "region"}."""
    ctx.progress(0.05, f"Uploading package {params.get('package_id')} to {params.get('url')}")
    result = upload_package(ctx.principal, int(params["package_id"]), params.get("url") or "",
                            endpoint_url=params.get("endpoint_url"), region=params.get("region"))
    ctx.log(f"Uploaded {result['files']} files ({result['bytes']:,} bytes) to {result['url']}, checksums verified")
    return {k: v for k, v in result.items() if k != "checksums"}
