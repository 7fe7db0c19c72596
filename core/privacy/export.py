"""A data subject's access request: everything found, as one machine-readable ZIP archive.

The archive holds `manifest.json` (when, by whom, the identifiers searched, counts per store and every place
found) and `records/<store>.jsonl` (each matching record whole, as stored). It is written under
DATA_DIR/privacy-exports/user-<id>/ with a name made of a keyed hash of the subject and a timestamp, so the
file name says nothing about the person; an erasure of the same subject deletes it.
"""

from __future__ import annotations

import json
import zipfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from core import audit, tenancy
from core.auth import Principal
from core.privacy import places
from core.privacy.search import Findings, find_subject
from core.privacy.subject import Subject
from core.safe_names import safe_name
from core.store import lake

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def archive_name(subject: Subject, moment: datetime) -> str:
    return safe_name(f"subject-{subject.key()[:16]}-{moment:%Y%m%dT%H%M%S%f}.zip", "export file name")


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows)


def write_archive(principal: Principal, findings: Findings) -> Path:
    moment = datetime.now(UTC)
    by_store: dict[str, list[dict]] = defaultdict(list)
    for record in findings.records:
        by_store[record["store"]].append(record)
    manifest = {
        "format": "databroker-subject-export", "format_version": FORMAT_VERSION,
        "created_at": moment.isoformat(), "created_by": principal.email,
        "scope": "all data" if tenancy.sees_everything(principal) else f"data owned by {principal.email}",
        "subject": findings.subject.as_dict(), "counts": findings.counts(),
        "files": {store: f"records/{store}.jsonl" for store in sorted(by_store)},
        "places": findings.places,
    }
    target = places.export_dir(principal) / archive_name(findings.subject, moment)
    with lake.atomic_path(target) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False, default=str))
        for store, rows in sorted(by_store.items()):
            archive.writestr(f"records/{store}.jsonl", _jsonl(rows))
    return target


def export_subject(principal: Principal | None, subject: Subject, progress=None) -> dict:
    """Search, then write the archive; returns its path and the counts per store."""
    findings = find_subject(principal, subject, progress, audited=False)
    path = write_archive(principal, findings)
    counts = findings.counts()
    audit.record("privacy_export", principal.id, f"subject:{subject.key()[:16]}", file=path.name, **counts)
    return {"path": str(path), "file_name": path.name, "counts": counts, "places": len(findings.places)}
