"""Live listings: what the watched sources list now, read from their raw store (marketplace or property).

The monitor's SQL rows say which listings are active and which raw document each was last seen as; the
values shown (title, price, place, stock, photos) come from those raw documents, scoped to the principal.
"""

from __future__ import annotations

from bson import ObjectId
from sqlmodel import select

from core.apps.listings.monitor.changes import Listing, in_stock_of
from core.apps.listings.monitor.passes import listing_of
from core.apps.listings.monitor.searches import search_matches
from core.apps.listings.monitor.watches import list_watches
from core.auth import Principal
from core.store.models import Source
from core.store.models_listings import MonitorListing, MonitorSearch
from core.store.raw import get_raw_store
from core.store.sql import session_scope
from core.tenancy import NotFoundOrDenied, scoped_query

MAX_LIVE = 2000


def _search(principal: Principal, search_id: int | None) -> dict | None:
    if search_id is None:
        return None
    with session_scope() as session:
        row = session.get(MonitorSearch, int(search_id))
        if row is None or row.created_by != principal.id:
            raise NotFoundOrDenied(f"No search {search_id} that you can use.")
        return row.model_dump()


def live_listings(principal: Principal | None, *, search_id: int | None = None, source: str | None = None,
                  limit: int = 500) -> list[dict]:
    """Active listings of the principal's watched sources (admins: all), optionally only those a saved search
    matches, newest first, with their values from the raw store."""
    watches = [w for w in list_watches(principal) if not w["source_missing"]]
    search = _search(principal, search_id)
    if source:
        watches = [w for w in watches if w["source_name"] == source]
    if search and search["source_name"]:
        watches = [w for w in watches if w["source_name"] == search["source_name"]]
    if not watches:
        return []
    by_watch = {w["id"]: w for w in watches}
    with session_scope() as session:
        apps = dict(session.exec(select(Source.id, Source.app).where(
            Source.id.in_([w["source_id"] for w in watches]))).all())
        rows = session.exec(select(MonitorListing).where(MonitorListing.watch_id.in_(list(by_watch)),
                                                         MonitorListing.status == "active")
                            .order_by(MonitorListing.first_seen_at.desc(), MonitorListing.id.desc())
                            .limit(MAX_LIVE)).all()
        listings: list[tuple[Listing, dict]] = [(listing_of(row), {"watch_id": row.watch_id,
                                                                   "first_seen_at": row.first_seen_at}) for row in rows]
    if search:
        listings = [(listing, extra) for listing, extra in listings if search_matches(search, listing)]
    listings = listings[:max(1, min(int(limit), MAX_LIVE))]
    by_app: dict[str, list[ObjectId]] = {}
    for listing, extra in listings:
        if listing.raw_id and ObjectId.is_valid(listing.raw_id):
            app = apps.get(by_watch[extra["watch_id"]]["source_id"], "marketplace")
            by_app.setdefault(app, []).append(ObjectId(listing.raw_id))
    documents: dict[str, dict] = {}
    for app, ids in by_app.items():
        query = scoped_query(principal, {"_id": {"$in": ids}}, "see live listings")
        for doc in get_raw_store().find(app, query, sort=None, limit=len(ids), projection={"raw_content": 0}):
            documents[doc["_id"]] = doc
    return [row for row in (_row(listing, extra, documents.get(listing.raw_id or ""), by_watch)
                            for listing, extra in listings) if row is not None]


def _row(listing: Listing, extra: dict, doc: dict | None, by_watch: dict) -> dict | None:
    if doc is None:
        return None  # its raw record was deleted, or is not the principal's to read
    shown = (doc.get("metadata") or {}).get("extracted") or {}
    in_stock = in_stock_of(shown["availability"]) if shown.get("availability") else listing.in_stock
    return {"title": shown.get("title") or listing.title, "price": listing.price, "currency": listing.currency,
            "location": shown.get("location") or listing.location,
            "category": shown.get("category") or listing.category, "in_stock": in_stock, "url": doc.get("url"),
            "source": by_watch[extra["watch_id"]]["source_name"], "first_seen_at": extra["first_seen_at"],
            "fetched_at": doc.get("fetched_at"), "raw_id": doc["_id"]}
