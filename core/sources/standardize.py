"""Raw documents -> standardized items (the row shape every refinement signal reads).

The raw document is never modified; an item points back at it by `raw_id`.
Listing fields become typed values (price as a number, currency as an ISO code)
whatever form the source gave them in.
"""

from __future__ import annotations

import json
import re
from typing import Any

from core import values
from core.applications import LISTING_APPS

TEXT_KEYS = ("text", "body", "content", "article", "articleBody", "description", "summary")
TITLE_KEYS = ("title", "name", "headline", "subject")
LISTING_KEYS = ("price", "currency", "sku", "availability", "brand", "gtin", "mpn", "location", "category",
                "seller", "posted_date", "images", "description", "beds", "baths", "area_m2", "attributes")
_CURRENCY_CODE = re.compile(r"^[A-Za-z]{3}$")


def parse_price(value: Any) -> tuple[float | None, str | None]:
    """A price as (amount, ISO currency) from numbers, strings like '1.299,00 €' or 'USD 12', or a dict with
    amount and currency. Zero and negative amounts are kept: the listing checks flag them as field errors."""
    if isinstance(value, dict):
        amount, _ = parse_price(value.get("amount") or value.get("price") or value.get("value"))
        return amount, normalize_currency(value.get("currency"))
    amount, currency = values.parse_price(value, placeholders_are_missing=False)
    return amount, normalize_currency(currency)


def normalize_currency(value: Any) -> str | None:
    """ISO 4217 code for a code or symbol; an unknown three-letter code is kept, upper-cased, so the listing
    checks can report it rather than it silently disappearing."""
    if not value or not isinstance(value, str):
        return None
    known = values.normalise_currency(value)
    if known:
        return known
    value = value.strip()
    return value.upper() if _CURRENCY_CODE.match(value) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if value == value else None
    match = re.search(r"-?\d+(?:[.,]\d+)?", str(value))
    return float(match.group(0).replace(",", ".")) if match else None


def listing_fields(source: dict) -> dict:
    """Typed listing fields from an extracted listing or an uploaded row."""
    fields: dict[str, Any] = {}
    attributes = dict(source.get("attributes") or {})
    for key in LISTING_KEYS:
        if key in source and source[key] not in (None, "", []):
            fields[key] = source[key]
    amount, currency = parse_price(source.get("price"))
    fields["price"] = amount
    fields["currency"] = normalize_currency(source.get("currency")) or currency
    for key in ("beds", "baths", "area_m2"):
        value = source.get(key, attributes.get(key))
        if value is not None:
            fields[key] = _number(value)
    if attributes:
        fields["attributes"] = attributes
    return fields


def _first(source: dict, keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = source.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


NAVIGATION_KINDS = {"feed", "index"}  # pages that lead to records but are not records themselves
MEDIA_MODALITY = {"image": "image", "audio": "audio", "video": "video"}  # mime type prefix -> data_type


def is_record(doc: dict) -> bool:
    return (doc.get("metadata") or {}).get("kind") not in NAVIGATION_KINDS


def standardize_document(doc: dict, app: str) -> dict:
    """One raw document -> the item fields (data_type, title, text, fields)."""
    metadata = doc.get("metadata") or {}
    kind = metadata.get("kind")
    if kind == "binary":
        modality = MEDIA_MODALITY.get(str(metadata.get("mime_type", "")).split("/")[0], "audio")
        return {"data_type": modality, "title": metadata.get("filename"), "text": "",
                "fields": {k: metadata.get(k) for k in ("filename", "mime_type", "bytes", "gridfs_id")}}
    source = _source_fields(doc, metadata)
    is_listing = kind == "listing" or app in LISTING_APPS or ("price" in source and kind != "article")
    title = _first(source, TITLE_KEYS)
    text = _first(source, TEXT_KEYS) or ""
    if is_listing:
        return {"data_type": "listing", "title": title, "text": text, "fields": listing_fields(source)}
    if text:
        extra = {k: v for k, v in source.items() if k not in TEXT_KEYS and k not in TITLE_KEYS and _jsonable(v)}
        return {"data_type": "text", "title": title, "text": text, "fields": extra}
    return {"data_type": "tabular", "title": title, "text": "",
            "fields": {k: v for k, v in source.items() if _jsonable(v)}}


def _source_fields(doc: dict, metadata: dict) -> dict:
    if metadata.get("extracted"):
        if metadata.get("kind") == "article":  # crawled before section labels were stripped at extraction
            from core.sources.extract_article import with_section_label_stripped

            return with_section_label_stripped(dict(metadata["extracted"]), doc.get("raw_content") or "")
        return dict(metadata["extracted"])
    fmt = metadata.get("format")
    if fmt in ("csv", "jsonl", "json", "parquet", "api"):
        try:
            value = json.loads(doc.get("raw_content") or "{}")
            return value if isinstance(value, dict) else {}
        except json.JSONDecodeError:
            return {}
    if fmt == "html":
        from core.sources.extract_article import extract_article

        return extract_article(doc.get("raw_content") or "", doc.get("url"))
    return {"text": doc.get("raw_content") or ""}


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
        return True
    except (TypeError, ValueError):
        return False
