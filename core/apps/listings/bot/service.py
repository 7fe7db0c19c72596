"""Drafting a listing: fields or a rough note in, a reviewed draft out (not yet stored).

The draft carries everything the user should see before saving: the text, the attributes, the price and its
basis, how it was written (template or OpenAI, with the reason for any fallback), the personal data found and
the fields still missing.
"""

from __future__ import annotations

from core.apps.listings.bot.checks import KIND_WORDS, missing_fields, pii_findings
from core.apps.listings.bot.fields import normalise_fields
from core.apps.listings.bot.note import parse_note
from core.apps.listings.bot.pricing import suggest_price
from core.apps.listings.bot.templates import money, template_draft
from core.auth import Principal
from core.refine.signals.pii import find_pii
from core.tenancy import require_supplier


def _openai_config():
    from core.apps.news.openai_summaries import OpenAIConfig

    return OpenAIConfig.from_env()


def fields_from_note(note: str) -> tuple[dict, dict]:
    """(typed fields, evidence) read from a rough note; ValueError for an empty or oversized note."""
    parsed = parse_note(note)
    return normalise_fields(parsed.fields), parsed.evidence


def draft_listing(principal: Principal | None, *, fields: dict | None = None, note: str | None = None,
                  use_openai: bool = True, variant: int | None = None, openai_config=None) -> dict:
    """A draft from structured `fields` or a rough `note` (fields win where both give a value).

    Raises FieldError / ValueError for unusable input; never stores anything.
    """
    principal = require_supplier(principal, "draft listings")
    evidence: dict = {}
    merged: dict = {}
    if note and note.strip():
        merged, evidence = fields_from_note(note)
    if fields:
        given = normalise_fields({**{k: v for k, v in merged.items() if k != "extra"}, **fields})
        merged = {**merged, **given}
    if not merged:
        raise ValueError("Give a rough note or some fields to draft from.")
    notes: list[str] = []
    suggestion = suggest_price(principal, merged)
    if merged.get("price") is None and suggestion.get("estimate") is not None:
        merged["price"] = suggestion["estimate"]
        merged.setdefault("currency", suggestion.get("currency"))
        notes.append(f"No price was given: the suggested {money(suggestion['estimate'], suggestion['currency'])} "
                     "is used. Change it if you want another price.")
    merged.setdefault("currency", suggestion.get("currency") or "EUR")
    text = template_draft(merged, variant)
    config = openai_config if openai_config is not None else (_openai_config() if use_openai else None)
    if use_openai and config is not None:
        from core.apps.listings.bot.openai_drafts import OpenAIUnavailable, openai_wording

        try:
            text = {**text, **openai_wording(merged, config)}
        except OpenAIUnavailable as exc:
            notes.append(f"OpenAI was not used ({exc}); the local template wrote this draft.")
    draft = {"category": merged["category"], "title": text["title"], "description": text["description"],
             "attributes": text["attributes"], "price": merged.get("price"), "currency": merged["currency"],
             "price_basis": suggestion, "method": text["method"], "notes": notes, "fields": merged,
             "evidence": evidence}
    notes.extend(personal_data_left_out(note, draft))
    return with_checks(draft)


def personal_data_left_out(note: str | None, draft: dict) -> list[str]:
    """Say which personal data of the note the draft does not carry, so nothing disappears unexplained."""
    if not note:
        return []
    shown = " ".join([draft["title"], draft["description"], *map(str, draft["attributes"].values())])
    return [f"Left out of the draft: the {KIND_WORDS.get(f.kind, f.kind)} '{f.value}' from your note (personal "
            "data; type it into the text yourself if you really want it in the listing)."
            for f in find_pii(note) if f.value not in shown]


def with_checks(draft: dict) -> dict:
    """The draft with its current check results: personal data found, required and recommended fields missing."""
    required, recommended = missing_fields(draft)
    return {**draft, "pii": pii_findings(draft), "missing": required, "recommended": recommended}
