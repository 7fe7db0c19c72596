"""Every place a data subject appears, across the stores the principal may see.

Stores are scanned (not indexed): a request is rare and must not miss a record because an index did not
know a field, so every text field of every visible record is read once. The result lists one row per
(record, field) with a masked snippet, and keeps what an export or an erasure needs: the matching records
themselves and where they are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core import audit, tenancy
from core.auth import Principal
from core.privacy import places
from core.privacy.subject import Subject, masked_snippet

STORES = ("raw", "item", "lake", "raw_file", "package", "export")
STORE_LABELS = {"raw": "raw document", "item": "item", "lake": "lake file", "raw_file": "raw snapshot file",
                "package": "package version", "export": "export archive"}
PLACE_COLUMNS = ["store", "dataset", "record_id", "location", "field", "kind", "snippet"]


@dataclass
class Findings:
    subject: Subject
    places: list[dict] = field(default_factory=list)  # one per (record, field): PLACE_COLUMNS
    records: list[dict] = field(default_factory=list)  # each matching record once: store, location, id, row
    raw_ids: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # app -> document ids
    item_ids: list[int] = field(default_factory=list)
    lake_rows: dict[Path, list[int]] = field(default_factory=lambda: defaultdict(list))  # file -> row positions
    raw_files: list[Path] = field(default_factory=list)
    package_rows: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))  # package id -> rows
    packages: dict[int, dict] = field(default_factory=dict)
    exports: list[Path] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.places, columns=PLACE_COLUMNS)

    def counts(self) -> dict[str, int]:
        """Matching records per store (a record matching in three fields counts once)."""
        return {"raw": sum(len(ids) for ids in self.raw_ids.values()), "item": len(self.item_ids),
                "lake": sum(len(rows) for rows in self.lake_rows.values()), "raw_file": len(self.raw_files),
                "package": sum(len(rows) for rows in self.package_rows.values()), "export": len(self.exports)}


def _matched(findings: Findings, record: places.Record) -> bool:
    hit = False
    for field_name, text in record.fields.items():
        for match in findings.subject.matches(text):
            hit = True
            findings.places.append({"store": record.store, "dataset": record.dataset, "record_id": record.record_id,
                                    "location": record.location, "field": field_name, "kind": match.kind,
                                    "snippet": masked_snippet(text, match)})
    return hit


def _keep(findings: Findings, record: places.Record, row: dict | None) -> None:
    findings.records.append({"store": record.store, "dataset": record.dataset, "record_id": record.record_id,
                             "location": record.location, "record": row if row is not None else record.fields})


def find_subject(principal: Principal | None, subject: Subject,
                 progress: Callable[[float, str], None] | None = None, audited: bool = True) -> Findings:
    """Search every store the principal may see; an admin searches everyone's data, a supplier their own."""
    tenancy.require_supplier(principal, "search personal data")
    notify = progress or (lambda fraction, message: None)
    findings = Findings(subject)
    notify(0.05, "Searching raw documents")
    for record in places.raw_records(principal):
        if _matched(findings, record):
            findings.raw_ids[record.location].append(record.record_id)
            _keep(findings, record, record.row)
    notify(0.3, "Searching items")
    for record in places.item_records(principal):
        if _matched(findings, record):
            findings.item_ids.append(int(record.record_id))
            _keep(findings, record, record.row)
    notify(0.5, "Searching lake files")
    for path, frame, position, record in places.lake_records(principal):
        if _matched(findings, record):
            findings.lake_rows[path].append(position)
            _keep(findings, record, frame.iloc[position].to_dict())
    notify(0.65, "Searching raw snapshot files")
    for record in places.raw_file_records(principal):
        if _matched(findings, record):
            findings.raw_files.append(Path(record.location))
            _keep(findings, record, None)
    notify(0.8, "Searching package versions")
    for package, frame, position, record in places.package_records(principal):
        if _matched(findings, record):
            findings.package_rows[package["id"]].append(position)
            findings.packages[package["id"]] = package
            _keep(findings, record, frame.iloc[position].to_dict())
    findings.exports = places.export_archives(principal, subject.key())
    for path in findings.exports:
        findings.places.append({"store": "export", "dataset": "", "record_id": path.name, "location": str(path),
                                "field": "archive", "kind": "subject", "snippet": "an earlier export of this subject"})
    if audited:
        # Who looked for someone is itself recorded, but never whom: only counts and a keyed subject hash.
        audit.record("privacy_search", principal.id, f"subject:{subject.key()[:16]}", **findings.counts())
    notify(1.0, f"Found {len(findings.records):,} records")
    return findings
