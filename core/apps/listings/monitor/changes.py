"""The event logic: what changed between the listings a pass saw and what the monitor knew before.

Pure functions over plain values (no stores), so they are tested with planted changes directly.

A listing is identified by its key, the path (and query) of its URL: the same item page re-scraped is the
same listing whatever its position on the index pages, and a demo site restarted on another port keeps its
keys. Rules, each chosen so that an unchanged re-scrape yields nothing:

- new: a key not known before that is not a relist of a known item.
- relist: a new key that the refinement's relist grouping (`listing_relist_clusters`: fuzzy title without
  relist words such as "reduced", same location and currency, price within 15%, no conflicting SKU,
  category or numbers) puts with a known listing. A relist is one event, never also "new", and the old
  listing it replaces is not also reported gone.
- price_drop: the same key at a lower price in the same currency (amount and percent); a rise is no event.
- back_in_stock: a listing seen sold out before and in stock now, or a gone listing listed again.
- gone: an active listing not seen, only when the pass saw every listing page (a partial crawl proves
  nothing), or when its page answered 404/410.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import pandas as pd

from core.refine.signals.duplicates import listing_relist_clusters
from core.sources.standardize import standardize_document
from core.values import IN_STOCK, OUT_OF_STOCK, normalise_availability

KINDS = ("new", "price_drop", "relist", "back_in_stock", "gone")
KIND_LABELS = {"new": "New listing", "price_drop": "Price drop", "relist": "Relisted", "back_in_stock": "Back in stock",
               "gone": "Gone"}
PRICE_EPSILON = 0.005  # prices are compared in cents
# Typed fields kept beside title and price: what searches and relist matching read.
KEPT_FIELDS = ("sku", "seller", "brand", "beds", "baths", "posted_date")
MAX_DESCRIPTION = 2000


@dataclass(frozen=True)
class Listing:
    """One listing: as a pass saw it, or as the monitor knew it (then with its row id and status)."""

    key: str
    url: str
    title: str | None = None
    price: float | None = None
    currency: str | None = None
    in_stock: bool | None = None
    category: str | None = None
    location: str | None = None
    fields: dict = field(default_factory=dict)
    raw_id: str | None = None
    id: int | None = None
    status: str = "active"  # active | gone | relisted
    last_seen_at: datetime | None = None


@dataclass(frozen=True)
class Change:
    kind: str
    listing: Listing  # as seen now; for "gone", as last known
    before: Listing | None = None  # the same key's previous state (price drop, back in stock, gone)
    relist_of: Listing | None = None

    @property
    def old_price(self) -> float | None:
        earlier = self.relist_of or self.before
        return earlier.price if earlier is not None else None

    @property
    def new_price(self) -> float | None:
        return None if self.kind == "gone" else self.listing.price

    @property
    def drop_amount(self) -> float | None:
        old, new = self.old_price, self.new_price
        return round(old - new, 2) if old is not None and new is not None and new < old - PRICE_EPSILON else None

    @property
    def drop_pct(self) -> float | None:
        amount = self.drop_amount
        return round(100.0 * amount / self.old_price, 2) if amount is not None and self.old_price else None


def listing_key(url: str) -> str:
    """The path (query, fragment) of a listing URL: stable across hosts and ports of one source."""
    parts = urlsplit(url or "")
    key = parts.path or "/"
    if parts.query:
        key += f"?{parts.query}"
    if parts.fragment:
        key += f"#{parts.fragment}"
    return key


def in_stock_of(availability) -> bool | None:
    state = normalise_availability(availability)
    return True if state == IN_STOCK else False if state == OUT_OF_STOCK else None


def _text(value, limit: int = 200) -> str | None:
    if value is None or isinstance(value, (list, dict)):
        return None
    return str(value).strip()[:limit] or None


def listing_from_document(doc: dict, app: str) -> Listing | None:
    """The listing a raw document shows (crawled page, API item or exported row); None for other pages."""
    standard = standardize_document(doc, app)
    if standard["data_type"] != "listing":
        return None
    values = standard["fields"]
    kept = {name: values[name] for name in KEPT_FIELDS if values.get(name) not in (None, "", [])}
    if standard["text"]:
        kept["description"] = standard["text"][:MAX_DESCRIPTION]
    price = values.get("price")
    return Listing(key=listing_key(doc["url"]), url=doc["url"], title=_text(standard["title"], 1000),
                   price=float(price) if isinstance(price, (int, float)) else None,
                   currency=_text(values.get("currency"), 10), in_stock=in_stock_of(values.get("availability")),
                   category=_text(values.get("category")), location=_text(values.get("location")), fields=kept,
                   raw_id=str(doc["_id"]) if doc.get("_id") is not None else None)


def _dropped(before: Listing, now: Listing) -> bool:
    if before.price is None or now.price is None:
        return False
    if before.currency and now.currency and before.currency != now.currency:
        return False  # a different currency is not a cheaper price
    return now.price < before.price - PRICE_EPSILON


def _relist_rows(listings: list[Listing], prefix: str) -> list[dict]:
    return [{"id": f"{prefix}{position}", "data_type": "listing", "title": listing.title,
             "fields": {"price": listing.price, "currency": listing.currency, "location": listing.location,
                        "category": listing.category, "sku": listing.fields.get("sku"),
                        "beds": listing.fields.get("beds"), "baths": listing.fields.get("baths")}}
            for position, listing in enumerate(listings)]


def match_relists(new: list[Listing], known: list[Listing], vanished: set[str]) -> dict[str, Listing]:
    """new key -> the known listing it relists, by the refinement's relist groups.

    When a group holds several known listings (an item relisted before), the one that disappeared in this
    pass is preferred, then a gone one, then the most recently seen.
    """
    if not new or not known:
        return {}
    frame = pd.DataFrame(_relist_rows(new, "n") + _relist_rows(known, "k"))
    clusters = listing_relist_clusters(frame)
    members: dict[str, list[str]] = {}
    for member, cluster in zip(frame["id"], clusters, strict=True):
        members.setdefault(cluster, []).append(member)
    matched = {}
    for group in members.values():
        olds = [known[int(m[1:])] for m in group if m.startswith("k")]
        if not olds:
            continue
        best = max(olds, key=lambda k: (k.key in vanished, k.status == "gone",
                                        k.last_seen_at.timestamp() if k.last_seen_at else 0.0, k.key))
        for m in group:
            if m.startswith("n"):
                matched[new[int(m[1:])].key] = best
    return matched


def detect_changes(known: Mapping[str, Listing], seen: Mapping[str, Listing], *, complete: bool,
                   removed: Iterable[str] = ()) -> list[Change]:
    """The changes of one pass. `known`: the watch's listings by key (active and gone; relisted ones are
    left out by the caller). `seen`: this pass's listings by key. `complete`: every listing page answered.
    `removed`: keys whose page answered 404/410 (gone even after a partial pass)."""
    removed = set(removed)
    vanished = {key for key, before in known.items()
                if before.status == "active" and key not in seen and (complete or key in removed)}
    fresh = [listing for key, listing in seen.items() if key not in known]
    relisted = match_relists(fresh, [k for k in known.values() if k.status in ("active", "gone")], vanished)
    changes = []
    for key, now in seen.items():
        before = known.get(key)
        if before is None:
            changes.append(Change("relist", now, relist_of=relisted[key]) if key in relisted else Change("new", now))
            continue
        if before.status != "active" and now.in_stock is not False:
            changes.append(Change("back_in_stock", now, before))  # taken down, now listed again
        elif before.status == "active" and before.in_stock is False and now.in_stock is True:
            changes.append(Change("back_in_stock", now, before))
        if _dropped(before, now):
            changes.append(Change("price_drop", now, before))
    replaced = {change.relist_of.key for change in changes if change.relist_of is not None}
    changes += [Change("gone", known[key], known[key]) for key in sorted(vanished - replaced)]
    return sorted(changes, key=lambda c: (KINDS.index(c.kind), c.listing.key))
