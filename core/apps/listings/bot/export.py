"""Drafts out of the workbench, for the user to post themselves: JSON, CSV and a plain-text/Markdown copy.

CSV cells that a spreadsheet would run as a formula (=, +, -, @ first) are prefixed with a quote.
"""

from __future__ import annotations

import csv
import io
import json

from core.apps.listings.bot.categories import field_label
from core.apps.listings.bot.drafts import get_draft
from core.apps.listings.bot.templates import money
from core.auth import Principal
from core.values import whole_if_integral

EXPORT_FORMATS = {"json": "application/json", "csv": "text/csv", "md": "text/markdown"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ("id", "version", "category", "title", "price", "currency", "description", "attributes",
               "suggested_price", "price_basis", "updated_at")


def _public(draft: dict) -> dict:
    basis = draft.get("price_basis") or {}
    return {"id": draft["id"], "version": draft["version"], "category": draft["category"], "title": draft["title"],
            "description": draft["description"], "attributes": draft["attributes"],
            "price": whole_if_integral(draft["price"]),
            "currency": draft["currency"], "suggested_price": basis.get("estimate"),
            "price_basis": basis.get("note", ""), "updated_at": draft["updated_at"].isoformat()}


def _cell(value) -> str:
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else ("" if value is None else str(value))
    return "'" + text if text.startswith(_FORMULA_START) else text


def markdown_copy(draft: dict) -> str:
    lines = [f"# {draft['title']}", ""]
    if draft.get("price") is not None:
        lines += [f"**Price:** {money(draft['price'], draft['currency'])}", ""]
    lines += [draft["description"], ""]
    if draft.get("attributes"):
        lines += [f"- **{field_label(k)}:** {v}" for k, v in draft["attributes"].items()] + [""]
    return "\n".join(lines)


def export_drafts(principal: Principal | None, draft_ids: list[int], fmt: str) -> bytes:
    """The chosen drafts (each checked for ownership) in `fmt`: json, csv or md."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"Export format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}.")
    if not draft_ids:
        raise ValueError("Choose at least one draft to export.")
    drafts = [get_draft(principal, int(i)) for i in draft_ids]
    if fmt == "json":
        return json.dumps([_public(d) for d in drafts], ensure_ascii=False, indent=2).encode()
    if fmt == "md":
        return "\n---\n\n".join(markdown_copy(d) for d in drafts).encode()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for draft in drafts:
        public = _public(draft)
        writer.writerow([_cell(public[c]) for c in CSV_COLUMNS])
    return buffer.getvalue().encode()
