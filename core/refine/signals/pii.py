"""PII signals: emails, phone numbers, payment cards, IBANs, IP addresses and national ids.

Each kind is found by a cheap regex and confirmed by a checksum or a real validator (pii_patterns.py,
pii_checks.py); phonenumbers only sees the few spans that already look like phone numbers. Overlapping
findings are resolved by kind priority, so one span is counted once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from core.refine.signals.pii_patterns import (
    KIND_PRIORITY,
    NUMERIC_FINDERS,
    email_windows,
    find_emails,
    find_ipv6_addresses,
    may_contain_ipv6,
    numeric_windows,
)

PII_KINDS = ("email", "phone", "card", "iban", "ip", "national_id")
REDACTION_LABELS = {"email": "[EMAIL]", "phone": "[PHONE]", "card": "[CARD]", "iban": "[IBAN]", "ip": "[IP]",
                    "national_id": "[NATIONAL_ID]"}
PII_SIGNAL_COLUMNS = ("pii_count", *(f"pii_{kind}" for kind in PII_KINDS), "pii_spans")


@dataclass(frozen=True)
class PiiFinding:
    kind: str
    start: int
    end: int
    value: str


def _resolve_overlaps(text_length: int, spans: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Keep the highest-priority kind (then the longest span) wherever findings overlap."""
    # One byte per character marks what is taken: linear in the findings, even for a 5 MB page of them.
    taken = bytearray(text_length)
    kept: list[tuple[str, int, int]] = []
    for kind, start, end in sorted(set(spans), key=lambda span: (KIND_PRIORITY[span[0]], span[1] - span[2],
                                                                 span[1])):
        if taken.find(1, start, end) == -1:
            taken[start:end] = b"\x01" * (end - start)
            kept.append((kind, start, end))
    return sorted(kept, key=lambda span: span[1])


def find_pii(text: str) -> list[PiiFinding]:
    """PII findings in ``text``, ordered by position, never overlapping."""
    if not isinstance(text, str) or not text:
        return []
    spans = [span for low, high in email_windows(text) for span in find_emails(text, low, high)]
    for low, high in numeric_windows(text):
        spans.extend(span for finder in NUMERIC_FINDERS for span in finder(text, low, high))
    if may_contain_ipv6(text):
        spans.extend(find_ipv6_addresses(text))
    kept = _resolve_overlaps(len(text), spans)
    return [PiiFinding(kind, start, end, text[start:end]) for kind, start, end in kept]


def redact_pii(text: str, findings: list[PiiFinding] | None = None) -> str:
    """``text`` with each finding replaced by its label ([EMAIL], [PHONE], [CARD], [IBAN], [IP] or
    [NATIONAL_ID]).

    Pass the findings of an earlier ``find_pii(text)`` to avoid scanning twice.
    """
    if not isinstance(text, str):
        return text
    findings = find_pii(text) if findings is None else sorted(findings, key=lambda finding: finding.start)
    pieces, cursor = [], 0
    for finding in findings:
        if finding.start < cursor:
            continue  # overlapping findings passed in by hand: the first one already covers this text
        pieces.append(text[cursor:finding.start])
        pieces.append(REDACTION_LABELS[finding.kind])
        cursor = finding.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def pii_signals(texts: pd.Series) -> pd.DataFrame:
    """Per text: ``pii_count`` (all findings), a count per kind (``pii_email`` ... ``pii_national_id``) and
    ``pii_spans``, a JSON list of ``[kind, start, end]``. Same index as ``texts``; missing texts count 0."""
    rows = []
    for text in texts:
        findings = find_pii(text) if isinstance(text, str) else []
        counts = dict.fromkeys(PII_KINDS, 0)
        for finding in findings:
            counts[finding.kind] += 1
        rows.append((len(findings), *counts.values(),
                     json.dumps([[finding.kind, finding.start, finding.end] for finding in findings])))
    frame = pd.DataFrame(rows, columns=list(PII_SIGNAL_COLUMNS), index=texts.index)
    if frame.empty:
        frame = frame.astype({column: "int64" for column in PII_SIGNAL_COLUMNS[:-1]})
    return frame
