"""Packaged columns that are flat, typed and documented.

Items keep their source-specific values (author, published date, price, ...) in a `fields` dict. A buyer
should not have to parse JSON out of a CSV cell: each field becomes its own column, with one type per column
and a description in the Fields table, Croissant and datapackage.json.
"""

from __future__ import annotations

import json
import re
from ipaddress import ip_address
from urllib.parse import urlsplit

import pandas as pd

# Columns every package may carry, in words a buyer understands.
DESCRIPTIONS = {
    "id": "Item id in the workbench (stable across package versions built from the same dataset).",
    "title": "Title, headline or name of the item as extracted from the source.",
    "text": "Main text of the item, extracted from the page or file (markup removed).",
    "url": "Address the item was collected from, as the source gave it.",
    "demo_site": "True when the item comes from the workbench's local demo sites: their URLs point at "
                 "127.0.0.1 on a port chosen at start and do not open anywhere else.",
    "source_id": "Name of the source (saved crawl or upload) the item came from.",
    "source_app": "Application store the item belongs to (news, marketplace, property, uploads).",
    "data_type": "Kind of item: text, listing, tabular, image, audio or video.",
    "language": "ISO 639-1 code of the detected language.",
    "quality": "Overall quality score from 0 (poor) to 1 (good), the weighted mean of the quality signals.",
    "topic_label": "Topic cluster of the item, named by its most distinctive words.",
    "content_type": "Detected content type (article, listing, list page, ...).",
    "author": "Author or byline as published.",
    "published": "Date and time the source says the item was published.",
    "date": "Date the source gives for the item.",
    "posted_date": "Date the listing was posted.",
    "section": "Section or category of the publication the item appeared in.",
    "price": "Asking price as a number, in the currency of the currency column.",
    "currency": "ISO 4217 currency code of the price.",
    "sku": "Seller's stock-keeping unit.",
    "location": "Place the listing refers to.",
    "category": "Category the source files the item under.",
    "seller": "Seller named on the listing.",
    "availability": "Availability stated on the listing.",
    "brand": "Brand named on the listing.",
    "beds": "Number of bedrooms.",
    "baths": "Number of bathrooms.",
    "area_m2": "Floor area in square metres.",
    "images": "Image addresses of the listing (JSON list).",
    "attributes": "Further attributes the listing states (JSON object).",
    "media_path": "Path of the item's image, audio or video file inside the package (media/<id>.<extension>); "
                  "empty for items without a file. manifest.json gives its SHA-256.",
    "filename": "Name of the uploaded file, as the supplier gave it.",
    "mime_type": "Media type of the item's file (image/png, audio/x-wav, video/mp4, ...).",
}
_DATE_NAMES = re.compile(r"(^|_)(date|published|modified|updated|posted)(_|$)|^date_?published$", re.IGNORECASE)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _column_name(key: object, taken: set[str]) -> str | None:
    if not isinstance(key, str) or not key.strip() or "\n" in key or key.strip().startswith(_FORMULA_START):
        return None  # not a name a package column may carry; the value stays out rather than break the build
    name = key.strip()
    return f"field_{name}" if name in taken else name


def _typed(name: str, values: pd.Series) -> pd.Series:
    """One type per column: numbers stay numbers, dates become datetimes, anything mixed becomes text."""
    present = values.dropna()
    if present.empty:
        return values
    kinds = {type(v) for v in present}
    if kinds <= {int, float}:  # bool is its own type here, never mistaken for a number
        return pd.Series(pd.array(values.tolist(), dtype="Int64" if kinds == {int} else "Float64"),
                         index=values.index)
    if kinds == {bool} or kinds == {str}:
        if kinds == {str} and _DATE_NAMES.search(name):
            stamps = pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
            if stamps[values.notna()].notna().all():
                return stamps
        return values
    return values.map(lambda v: v if v is None or isinstance(v, str)
                      else json.dumps(v, ensure_ascii=False, sort_keys=True, default=str))


def _is_demo_url(url: object, source_id: object) -> bool:
    if not isinstance(url, str) or not str(source_id or "").startswith("demo-"):
        return False
    host = urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ip_address(host).is_loopback
    except ValueError:
        return False


def flatten_fields(rows: pd.DataFrame) -> pd.DataFrame:
    """`rows` with each key of its `fields` dicts as a typed column of its own (and no `fields` column),
    plus `demo_site` when any URL comes from the local demo sites."""
    rows = rows.copy()
    fields = rows.pop("fields") if "fields" in rows else pd.Series([{}] * len(rows), index=rows.index)
    fields = fields.map(lambda f: json.loads(f) if isinstance(f, str) else (f if isinstance(f, dict) else {}))
    taken = set(rows.columns)
    keys: dict[str, str] = {}
    for row_fields in fields:
        for key in row_fields:
            if key not in keys and (name := _column_name(key, taken | set(keys.values()))) is not None:
                keys[key] = name
    for key, name in keys.items():
        rows[name] = _typed(name, pd.Series([f.get(key) for f in fields], index=rows.index, dtype=object))
    if "url" in rows and "source_id" in rows:
        demo = [_is_demo_url(url, source) for url, source in zip(rows["url"], rows["source_id"], strict=True)]
        if any(demo):
            rows.insert(rows.columns.get_loc("url") + 1, "demo_site", demo)
    return rows


def column_descriptions(columns: list[str]) -> dict[str, str]:
    """A description for every column: the catalogue's, or where a field came from."""
    described = {}
    for name in columns:
        base = name.removeprefix("field_")
        described[name] = DESCRIPTIONS.get(name) or DESCRIPTIONS.get(base) or \
            f"Field '{base}' as extracted from the source."
    return described
