"""Exported files for sources whose listings need a login (Facebook Marketplace): never scraped behind it.

The user saves what they see while signed in (the page as HTML, or a JSON export from their account or a
browser tool) and imports it here. Each listing in the file becomes a raw document of the source (with the
file's name, who attested the right to use it and when), then the file goes through the same pass logic as
a crawl: new listings, price drops, relists, back in stock. An export is usually one search's results, not
everything the site lists, so a listing missing from it is only reported gone when the user says the file
lists everything.

Accepted:
- JSON: a list of listings, or an object holding one (under "listings", "items", "data", "results"... at any
  depth), each with a title and a URL or id; price as a number, a string ("€1.200") or {amount, currency}.
- HTML: a saved results page (every link to a listing, /item/ in its path, is a card: its lines give the
  title, the price and the place) or a saved single listing page (read like a crawled one).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

from lxml import html as lxml_html

from core import audit
from core.apps.listings.monitor.changes import listing_from_document
from core.apps.listings.monitor.passes import Collected, apply_pass, fail_pass, pass_lock, raw_ids_by_hash, start_pass
from core.apps.listings.monitor.searches import listing_source
from core.apps.listings.monitor.watches import MonitorError, save_watch, watch_of_source
from core.auth import Principal
from core.config import get_settings
from core.safe_names import UnsafeNameError, slug_from, upload_base_name, upload_path_name
from core.sources.extract_listing import extract_listing
from core.sources.html_text import decode_html
from core.sources.ingest import ensure_dataset, store_documents
from core.store import lake
from core.values import normalise_currency, parse_price

MAX_DEPTH = 6
_LIST_KEYS = ("listings", "items", "results", "data", "edges", "marketplace_listings", "products")
_FIELDS = {
    "title": ("title", "name", "marketplace_listing_title", "listing_title", "headline"),
    "url": ("url", "link", "permalink", "listing_url", "href", "story_url"),
    "id": ("id", "listing_id", "item_id"),
    "price": ("price", "listing_price", "formatted_price", "amount"),
    "currency": ("currency", "price_currency"),
    "location": ("location", "city", "location_text", "place"),
    "category": ("category", "marketplace_category", "category_name"),
    "description": ("description", "text", "body", "redacted_description"),
    "availability": ("availability", "status", "listing_status", "in_stock", "is_sold", "sold", "is_pending"),
    "seller": ("seller", "seller_name", "marketplace_listing_seller"),
    "sku": ("sku",),
}
_SOLD_WORDS = ("sold", "pending", "unavailable", "outofstock", "sold out")


class ExportError(MonitorError):
    """An exported file cannot be used; the message says why."""


def _first(row: dict, names: tuple[str, ...]):
    lowered = {str(k).lower(): v for k, v in row.items()}
    for name in names:
        value = lowered.get(name)
        if value not in (None, "", [], {}):
            return name, value
    return None, None


def _text(value) -> str | None:
    if isinstance(value, dict):
        value = value.get("text") or value.get("name") or value.get("city") or value.get("display_name")
        if isinstance(value, dict):
            return _text(value)
    if value is None or isinstance(value, (list, dict)):
        return None
    return str(value).strip() or None


def _availability(name: str | None, value) -> str | None:
    if name in ("is_sold", "sold", "is_pending"):
        return "OutOfStock" if value else "InStock"
    if name == "in_stock":
        return "InStock" if value else "OutOfStock"
    text = str(value).strip().lower()
    if any(word in text.replace("_", " ") for word in _SOLD_WORDS):
        return "OutOfStock"
    return "InStock" if text else None


def _price(value) -> tuple[float | None, str | None]:
    if isinstance(value, dict):
        amount, currency = _price(value.get("amount") or value.get("value") or value.get("formatted_amount"))
        return amount, normalise_currency(value.get("currency")) or currency
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value), None
    amount, currency = parse_price(str(value)) if value is not None else (None, None)
    return amount, normalise_currency(currency)


def canonical_url(url: str, base_url: str) -> str:
    """Absolute, without the tracking query Marketplace adds to item links."""
    absolute = urljoin(base_url, url.strip())
    parts = urlsplit(absolute)
    if "/item/" in parts.path:
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def _listing_rows(value, depth: int = 0) -> list[dict]:
    """The list of listing objects in a JSON export: the top level, or the largest list under a known key."""
    if depth > MAX_DEPTH:
        return []
    if isinstance(value, list):
        rows = [v.get("node", v) if isinstance(v, dict) else v for v in value]
        if rows and all(isinstance(v, dict) for v in rows):
            return rows
        return []
    if not isinstance(value, dict):
        return []
    candidates = [_listing_rows(value[key], depth + 1) for key in value if str(key).lower() in _LIST_KEYS]
    candidates += [_listing_rows(v, depth + 1) for k, v in value.items()
                   if str(k).lower() not in _LIST_KEYS and isinstance(v, (dict, list))]
    return max(candidates, key=len, default=[])


def listings_from_json(data: bytes, base_url: str) -> tuple[list[dict], list[tuple[str, str]]]:
    """(listings as extracted fields with their raw row, rejected (where, why))."""
    try:
        payload = json.loads(data.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError) as exc:
        raise ExportError(f"The file is not JSON: {exc}") from None
    rows = _listing_rows(payload)
    listings, rejected = [], []
    for position, row in enumerate(rows, 1):
        _, title = _first(row, _FIELDS["title"])
        _, url = _first(row, _FIELDS["url"])
        _, ident = _first(row, _FIELDS["id"])
        if not url and ident is not None:
            url = f"/marketplace/item/{ident}/"
        if not _text(title) or not isinstance(url, str):
            rejected.append((f"listing {position}", "no title, or neither a URL nor an id"))
            continue
        amount, currency = _price(_first(row, _FIELDS["price"])[1])
        availability_name, availability = _first(row, _FIELDS["availability"])
        extracted = {"title": _text(title), "price": amount,
                     "currency": normalise_currency(_text(_first(row, _FIELDS["currency"])[1])) or currency,
                     "location": _text(_first(row, _FIELDS["location"])[1]),
                     "category": _text(_first(row, _FIELDS["category"])[1]),
                     "description": _text(_first(row, _FIELDS["description"])[1]),
                     "seller": _text(_first(row, _FIELDS["seller"])[1]), "sku": _text(_first(row, _FIELDS["sku"])[1]),
                     "availability": _availability(availability_name, availability)
                     if availability_name else "InStock"}
        raw = json.dumps(row, ensure_ascii=False, sort_keys=True, default=str)
        listings.append({"url": canonical_url(url, base_url), "raw_content": raw, "format": "json",
                         "extracted": {k: v for k, v in extracted.items() if v is not None}})
    return listings, rejected


def _card(anchor) -> dict:
    lines = [" ".join(t.split()) for t in anchor.itertext() if t.strip()]
    price = currency = title = location = None
    rest = []
    for line in lines:
        amount, found = parse_price(line)
        if price is None and amount is not None and (found or line.strip()[:1].isdigit() and len(line) < 20):
            price, currency = amount, normalise_currency(found)
        else:
            rest.append(line)
    title = rest[0] if rest else None
    location = rest[1] if len(rest) > 1 else None
    sold = any(word in " ".join(lines).lower() for word in ("sold", "pending"))
    return {"title": title, "price": price, "currency": currency, "location": location,
            "availability": "OutOfStock" if sold else "InStock"}


def listings_from_html(data: bytes, base_url: str) -> tuple[list[dict], list[tuple[str, str]]]:
    text = decode_html(data, "text/html")
    tree = lxml_html.document_fromstring(text) if text.strip() else None
    if tree is None:
        raise ExportError("The file is empty.")
    cards: dict[str, dict] = {}
    for anchor in tree.xpath("//a[@href]"):
        href = anchor.get("href", "")
        if "/item/" not in urlsplit(href).path:
            continue
        url = canonical_url(href, base_url)
        fields = _card(anchor)
        if fields["title"] and url not in cards:
            raw = lxml_html.tostring(anchor, encoding="unicode")
            cards[url] = {"url": url, "raw_content": raw, "format": "html",
                          "extracted": {k: v for k, v in fields.items() if v is not None}}
    if len(cards) >= 2:
        return list(cards.values()), []
    # One saved listing page: read it as a crawl reads one, with its own address from the page.
    own = tree.xpath("//link[@rel='canonical']/@href | //meta[@property='og:url']/@content")
    url = canonical_url(own[0], base_url) if own else next(iter(cards), None)
    if not url:
        return [], [("page", "no listing links and no address of its own (canonical link or og:url)")]
    fields = extract_listing(text, url)
    if not fields.get("title"):
        return [], [("page", "no listing title found")]
    return [{"url": url, "raw_content": text, "format": "html",
             "extracted": {k: v for k, v in fields.items() if v not in (None, [], {})}}], []


def parse_export(filename: str, data: bytes, base_url: str) -> tuple[list[dict], list[tuple[str, str]]]:
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix == "json":
        return listings_from_json(data, base_url)
    if suffix in ("html", "htm"):
        return listings_from_html(data, base_url)
    raise ExportError("Import an exported .json or a saved .html page.")


def import_export(principal: Principal | None, source_name: str, filename: str, data: bytes, *,
                  attested: bool, complete: bool = False) -> dict:
    """Import the user's own exported file for a source as one monitor pass (the watch is created if needed).

    `complete`: the file lists everything the source lists now, so a known listing missing from it is gone.
    """
    source = listing_source(principal, source_name, "import listings for this source")
    if not attested:
        raise ExportError("Confirm that the file is your own export and that you may use it; nothing was imported.")
    limit = get_settings().upload_max_mb * 1024 * 1024
    if len(data) > limit:
        raise ExportError(f"The file is larger than the {get_settings().upload_max_mb} MB upload limit.")
    try:
        filename = upload_base_name(filename)
        snapshot_name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}_" + upload_path_name(filename, max_length=80)
        source_dir = slug_from(source["name"], "source name")
    except UnsafeNameError as exc:
        raise ExportError(str(exc)) from None
    base_url = (source["config"].get("urls") or ["https://invalid.example/"])[0]
    found, rejected = parse_export(filename, data, base_url)
    if not found:
        reasons = "; ".join(f"{where}: {why}" for where, why in rejected[:3])
        raise ExportError(f"No listing found in {filename}" + (f" ({reasons})." if reasons else "."))
    watch = watch_of_source(principal, source_name) or save_watch(principal, source_name, enabled=False)
    watch = {**watch, "source": source}
    snapshot = lake.zone_path("raw", "exports", source_dir, snapshot_name)
    with lake.atomic_path(snapshot) as tmp:
        tmp.write_bytes(data)  # the file exactly as received
    dataset = ensure_dataset(principal, source["config"].get("dataset") or source_dir, source["app"],
                             license=source["license"], origin="web", attested=True, owner_id=source["created_by"])
    fetched_at = datetime.now(UTC)
    documents = [{"source_id": source["name"], "url": row["url"], "fetched_at": fetched_at,
                  "content_hash": hashlib.sha256(row["raw_content"].encode("utf-8", "surrogatepass")).hexdigest(),
                  "raw_content": row["raw_content"],
                  "metadata": {"kind": "listing", "format": "export", "export_file": filename, "export_format":
                               row["format"], "extracted": row["extracted"], "attested": True,
                               "attested_by": principal.id, "origin": "user export", "license": source["license"],
                               "status": None}} for row in found]
    new, present, refused, _ = store_documents(source["app"], dataset["id"], documents)
    stored = raw_ids_by_hash(source["app"], source["name"], [d["content_hash"] for d in documents])
    collected = Collected(complete=bool(complete), counts={"file_listings": len(documents), "stored_new": new,
                                                          "rejected": len(rejected) + len(refused)})
    for doc in documents:
        listing = listing_from_document({**doc, "_id": stored.get(doc["content_hash"])}, source["app"])
        if listing is not None:
            collected.seen[listing.key] = listing
    if not complete:
        collected.notes.append("Imported export: listings missing from the file were not marked gone.")
    with pass_lock(watch["id"]):
        pass_id = start_pass(watch, "export", principal, None)
        try:
            outcome = apply_pass(watch, source, pass_id, collected)
        except BaseException as exc:
            fail_pass(pass_id, exc)
            raise
    audit.record("monitor_export_import", principal.id, f"source:{source['name']}", file=filename,
                 listings=len(documents), new=new, already_present=present, complete=bool(complete))
    return {**outcome, "file": filename, "stored_new": new, "already_present": present,
            "rejected": rejected + [(f"listing {pos + 1}", why) for pos, why in refused]}
