"""Erasure (GDPR Art. 17) of one data subject across every store the principal may act on.

What happens in each store, and why:
- raw documents: the matching spans (email, phone, name) are replaced by "[erased]" in the content, the url
  and every metadata string; the document stays. A raw document is often about something else (an article
  naming the person in passing, a listing with a seller's phone): deleting it would destroy other people's
  data and the provenance of items built from it, while the person's data is gone either way. The document
  records which fields were redacted and by which erasure (`metadata.privacy_erasure`).
- items: the same redaction in title, text, url and fields, so refinement records keep their item and a
  later refinement run never sees the person again.
- lake files (processed and validated Parquet/JSONL): the matching rows are removed, each file rewritten
  to a temporary sibling and renamed over it; they are derived copies, and what ML and packages read.
- raw snapshot files (uploads as received, users' exported files): deleted when they name the person; the
  raw store keeps the (redacted) records they held.
- package versions: unsold ones rebuilt without the rows, sold ones flagged for their buyers (packages.py).
- earlier export archives of this subject: deleted.
- the suppression list gets the subject's identifiers (keyed hashes), so a re-scrape does not bring them back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bson import ObjectId
from sqlmodel import select

from core import audit, tenancy
from core.auth import Principal
from core.privacy import packages, suppression
from core.privacy.places import package_data_file, read_table
from core.privacy.search import Findings, find_subject
from core.privacy.subject import Subject, redact
from core.store import lake
from core.store.models import Item
from core.store.models_privacy import PrivacyErasure
from core.store.raw import get_raw_store
from core.store.sql import session_scope


def _redacted(value, subject: Subject, path: str, changed: list[str]):
    """`value` with the subject's identifiers redacted in every string, nested; changed field paths appended."""
    if isinstance(value, str):
        matches = subject.matches(value)
        if matches:
            changed.append(path)
            return redact(value, matches)
        return value
    if isinstance(value, dict):
        return {k: _redacted(v, subject, f"{path}.{k}" if path else str(k), changed) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v, subject, f"{path}[{i}]", changed) for i, v in enumerate(value)]
    return value


def erase_raw(findings: Findings, erasure_id: int) -> dict:
    store, redacted, fields = get_raw_store(), 0, 0
    for app, ids in findings.raw_ids.items():
        collection = store.collection(app)
        for doc in collection.find({"_id": {"$in": [ObjectId(i) for i in ids]}}):
            changed: list[str] = []
            update = {key: _redacted(doc.get(key), findings.subject, key, changed)
                      for key in ("raw_content", "url", "metadata") if doc.get(key) is not None}
            if not changed:
                continue
            update["metadata"] = {**update.get("metadata", {}), "privacy_erasure": {
                "erasure_id": erasure_id, "fields": changed, "at": datetime.now(UTC).isoformat()}}
            collection.update_one({"_id": doc["_id"]}, {"$set": update})
            redacted += 1
            fields += len(changed)
    return {"documents_redacted": redacted, "fields_redacted": fields}


def erase_items(findings: Findings) -> dict:
    redacted = 0
    with session_scope() as session:
        for item in session.exec(select(Item).where(Item.id.in_(findings.item_ids or [-1]))):
            changed: list[str] = []
            item.title = _redacted(item.title, findings.subject, "title", changed)
            item.text = _redacted(item.text, findings.subject, "text", changed)
            item.url = _redacted(item.url, findings.subject, "url", changed)
            item.fields = _redacted(dict(item.fields or {}), findings.subject, "fields", changed)
            if changed:
                session.add(item)
                redacted += 1
    return {"items_redacted": redacted}


def erase_lake(findings: Findings) -> dict:
    rows_removed = 0
    for path, positions in findings.lake_rows.items():
        frame = read_table(path)
        kept = frame.drop(index=frame.index[sorted(set(positions))])
        if path.suffix == ".parquet":
            lake.write_parquet(kept, path)
        else:
            lake.write_jsonl(kept.to_dict(orient="records"), path)
        rows_removed += len(frame) - len(kept)
    return {"files_rewritten": len(findings.lake_rows), "rows_removed": rows_removed}


def erase_packages(findings: Findings, erasure_id: int) -> dict:
    sold = packages.sold_package_ids(list(findings.package_rows))
    outcomes = []
    for package_id, positions in findings.package_rows.items():
        package = findings.packages[package_id]
        if package_id in sold:
            frame = read_table(package_data_file(package))
            ids = [str(frame["id"].iat[p]) if "id" in frame else f"row {p + 1}" for p in sorted(set(positions))]
            outcomes.append(packages.flag_sold(package, ids, erasure_id))
        else:
            outcomes.append(packages.rebuild_without(package, positions, erasure_id))
    return {"versions_rebuilt": sum(o["action"] == "rebuilt" for o in outcomes),
            "versions_withdrawn": sum(o["action"] == "withdrawn" for o in outcomes),
            "sold_versions_flagged": sum(o["action"] == "flagged" for o in outcomes), "versions": outcomes}


def _delete_files(paths: list[Path]) -> int:
    for path in paths:
        path.unlink(missing_ok=True)
    return len(paths)


def erase_subject(principal: Principal | None, subject: Subject, job_id: int | None = None,
                  progress: Callable[[float, str], None] | None = None) -> dict:
    """Erase the subject from every store the principal may act on; returns the report (counts per store)."""
    tenancy.require_supplier(principal, "erase personal data")
    notify = progress or (lambda fraction, message: None)
    scope_owner = None if tenancy.sees_everything(principal) else principal.id
    with session_scope() as session:
        erasure = PrivacyErasure(subject_key=subject.key(), scope_owner_id=scope_owner, job_id=job_id,
                                 requested_by=principal.id)
        session.add(erasure)
        session.flush()
        erasure_id = erasure.id
    try:
        # Suppress first: a scrape running during the erasure must not add the person back behind it.
        suppressed = suppression.add_subject(subject, scope_owner, principal.id, erasure_id)
        findings = find_subject(principal, subject, lambda f, m: notify(0.4 * f, m), audited=False)
        found = findings.counts()
        notify(0.45, "Redacting raw documents")
        report = {"erasure_id": erasure_id, "found": found, "raw": erase_raw(findings, erasure_id)}
        notify(0.55, "Redacting items")
        report["items"] = erase_items(findings)
        notify(0.65, "Rewriting lake files")
        report["lake"] = erase_lake(findings)
        notify(0.75, "Deleting raw snapshot files and earlier exports")
        report["raw_files"] = {"files_deleted": _delete_files(findings.raw_files)}
        report["exports"] = {"archives_deleted": _delete_files(findings.exports)}
        notify(0.8, "Rebuilding and flagging package versions")
        report["packages"] = erase_packages(findings, erasure_id)
        report["suppression"] = {"identifiers_added": suppressed, "scope": "all data" if scope_owner is None
                                 else "your data"}
    except BaseException as exc:
        _finish(erasure_id, "failed", {"error": f"{type(exc).__name__}: {exc}"[:2000]})
        raise
    _finish(erasure_id, "succeeded", report)
    audit.record("privacy_erase", principal.id, f"subject:{subject.key()[:16]}", erasure_id=erasure_id,
                 **{store: json.loads(json.dumps(counts, default=str)) for store, counts in report.items()
                    if store not in ("erasure_id", "packages")},
                 packages={k: v for k, v in report["packages"].items() if k != "versions"})
    notify(1.0, "Erasure finished")
    return report


def _finish(erasure_id: int, status: str, report: dict) -> None:
    with session_scope() as session:
        erasure = session.get(PrivacyErasure, erasure_id)
        erasure.status, erasure.report, erasure.finished_at = status, report, datetime.now(UTC)
        session.add(erasure)


def erasure_history(principal: Principal | None, limit: int = 50) -> list[dict]:
    """The principal's erasures (an admin: everyone's), newest first: what changed, never whom."""
    tenancy.require_supplier(principal, "see erasures")
    with session_scope() as session:
        query = select(PrivacyErasure).order_by(PrivacyErasure.id.desc()).limit(limit)
        if not tenancy.sees_everything(principal):
            query = query.where(PrivacyErasure.requested_by == principal.id)
        return [e.model_dump() for e in session.exec(query)]

