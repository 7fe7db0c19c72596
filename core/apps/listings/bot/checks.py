"""What must hold before a draft is stored: no personal data, and every field a buyer of its category needs.

Personal data is found with the refinery's own detector (emails, phone numbers, cards, IBANs, IP addresses,
national ids), so a draft and a scraped listing meet the same rule. Each finding names the part of the draft
and the exact text; `redact_draft` replaces each with its label ([PHONE], [EMAIL]...).
"""

from __future__ import annotations

from core.apps.listings.bot.categories import category_of, field_label
from core.refine.signals.pii import find_pii, redact_pii

KIND_WORDS = {"email": "email address", "phone": "phone number", "card": "payment card number",
              "iban": "bank account (IBAN)", "ip": "IP address", "national_id": "national id number"}


def _texts(draft: dict) -> list[tuple[str, str]]:
    """(part, text) for every piece of text a draft shows: title, description, each attribute."""
    parts = [("title", draft.get("title") or ""), ("description", draft.get("description") or "")]
    parts += [(f"attribute '{name}'", value) for name, value in (draft.get("attributes") or {}).items()
              if isinstance(value, str)]
    return parts


def pii_findings(draft: dict) -> list[dict]:
    """Every piece of personal data in the draft: {part, kind, what, text}."""
    return [{"part": part, "kind": finding.kind, "what": KIND_WORDS.get(finding.kind, finding.kind),
             "text": finding.value}
            for part, text in _texts(draft) for finding in find_pii(text)]


def describe_pii(findings: list[dict]) -> list[str]:
    return [f"{f['what']} '{f['text']}' in the {f['part']}" for f in findings]


def redact_draft(draft: dict) -> dict:
    """A copy of the draft with each piece of personal data replaced by its label, and a note saying so."""
    findings = pii_findings(draft)
    redacted = {**draft, "title": redact_pii(draft.get("title") or ""),
                "description": redact_pii(draft.get("description") or ""),
                "attributes": {name: redact_pii(value) if isinstance(value, str) else value
                               for name, value in (draft.get("attributes") or {}).items()}}
    if findings:
        counts: dict[str, int] = {}
        for finding in findings:
            counts[finding["what"]] = counts.get(finding["what"], 0) + 1
        summary = ", ".join(f"{n} {what}{'s' if n > 1 else ''}" for what, n in counts.items())
        redacted["notes"] = [*(draft.get("notes") or []), f"Redacted {summary}."]
    return redacted


def missing_fields(draft: dict) -> tuple[list[str], list[str]]:
    """(required, recommended) fields the draft lacks, as messages naming each field."""
    category = category_of(draft.get("category"))
    present = {name for name, value in (draft.get("attributes") or {}).items() if value not in (None, "", [])}
    if (draft.get("title") or "").strip():
        present.add("title")
    if draft.get("price") is not None:
        present.add("price")
    required = [f"{field_label(name)} is required for {category.label.lower()} listings"
                for name in category.required if name not in present]
    recommended = [f"{field_label(name)} helps buyers of {category.label.lower()}"
                   for name in category.recommended if name not in present]
    return required, recommended


class DraftRefused(ValueError):
    """A draft cannot be stored as it is; `problems` says each reason and `pii` what personal data was found."""

    def __init__(self, problems: list[str], pii: list[dict] | None = None):
        super().__init__("The draft was not saved: " + "; ".join(problems) + ".")
        self.problems = problems
        self.pii = pii or []


def check_before_storing(draft: dict) -> None:
    """Raise DraftRefused naming every missing required field and every piece of personal data."""
    required, _ = missing_fields(draft)
    findings = pii_findings(draft)
    problems = [*required]
    if findings:
        problems.append("it contains personal data (" + "; ".join(describe_pii(findings))
                        + "): remove it or save with redaction")
    if problems:
        raise DraftRefused(problems, findings)
