"""A monitor pass: collect what a watched source lists now, then record state, events and inbox at once.

A crawl pass is an ordinary scrape of the saved source (`core.sources.jobs.collect_source`: robots.txt,
per-host delay, retries, the network allow-list and conditional requests), observed as it goes: every listing
page handed to the raw store, plus every page that answered 304 (unchanged: its last known state stands).
An export pass reads the user's own exported files instead (exports.py). Both end in `apply_pass`, which in
one SQL transaction compares with the known listings (changes.py), updates them, writes the events, delivers
them to the inboxes of the users whose searches match, and records the day's prices for the statistics.

The first pass over a watch records the baseline: what is listed now is known from then on, and raises no
event. One pass per watch runs at a time (a lock on the watch row, released when the pass ends; a lock left
by a pass whose job is no longer running is taken over).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlmodel import select, update

from core.apps.listings.monitor.changes import (
    KINDS,
    Change,
    Listing,
    detect_changes,
    listing_from_document,
    listing_key,
)
from core.apps.listings.monitor.searches import search_matches, searches_for_source
from core.apps.listings.monitor.watches import MonitorError, runnable_watch
from core.auth import Principal
from core.sources.standardize import is_record
from core.store import lake
from core.store.models import Job
from core.store.models_listings import (
    MonitorEvent,
    MonitorInboxItem,
    MonitorListing,
    MonitorPass,
    MonitorPricePoint,
    MonitorWatch,
)
from core.store.raw import get_raw_store
from core.store.sql import session_scope

DEMO_LISTING_SOURCES = ("demo-marketplace", "demo-property")
GONE_STATUSES = ("HTTP 404", "HTTP 410")
_HASH_BATCH = 500
LOCK_GRACE = timedelta(minutes=10)  # a lock with no pass under it for this long was left by a dead process


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Collected:
    """What one pass saw: listings by key, whether every listing page answered, keys proven gone."""

    seen: dict[str, Listing] = field(default_factory=dict)
    complete: bool = True
    removed: set[str] = field(default_factory=set)
    counts: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# -- the lock ------------------------------------------------------------------------------------------
def _stale_lock(session, watch_id: int, held: datetime) -> bool:
    """The lock belongs to a pass that can no longer finish: its job stopped running (a dead process), or it
    was taken long ago and no pass ever started under it."""
    holder = session.exec(select(MonitorPass).where(MonitorPass.watch_id == watch_id, MonitorPass.status == "running")
                          .order_by(MonitorPass.id.desc())).first()
    if holder is None:
        return held < _now() - LOCK_GRACE
    job = session.get(Job, holder.job_id) if holder.job_id else None
    if job is not None and job.status in ("queued", "running"):
        return False
    if job is None and holder.started_at > _now() - timedelta(hours=1):
        return False  # an import (no job) that is still under way
    holder.status, holder.finished_at, holder.note = "failed", _now(), "Interrupted: its process stopped."
    session.add(holder)
    return True


@contextmanager
def pass_lock(watch_id: int) -> Iterator[None]:
    started = _now()
    with session_scope() as session:
        row = session.get(MonitorWatch, watch_id)
        held = row.pass_started_at if row is not None else None
        if held is not None and not _stale_lock(session, watch_id, held):
            raise MonitorError("A pass over this source is already running; its events arrive when it ends.")
        unchanged = MonitorWatch.pass_started_at == held if held else MonitorWatch.pass_started_at.is_(None)
        claimed = session.exec(update(MonitorWatch).where(MonitorWatch.id == watch_id, unchanged)
                               .values(pass_started_at=started)).rowcount
    if claimed != 1:
        raise MonitorError("A pass over this source is already running; its events arrive when it ends.")
    try:
        yield
    finally:
        with session_scope() as session:
            session.exec(update(MonitorWatch).where(MonitorWatch.id == watch_id,
                                                    MonitorWatch.pass_started_at == started)
                         .values(pass_started_at=None))


def start_pass(watch: dict, kind: str, principal: Principal, job_id: int | None) -> int:
    with session_scope() as session:
        row = MonitorPass(watch_id=watch["id"], kind=kind, job_id=job_id, created_by=principal.id)
        session.add(row)
        session.flush()
        return row.id


def fail_pass(pass_id: int, error: BaseException) -> None:
    with session_scope() as session:
        row = session.get(MonitorPass, pass_id)
        row.status, row.finished_at = "failed", _now()
        row.note = f"{type(error).__name__}: {error}"[:2000]
        session.add(row)


# -- collecting ----------------------------------------------------------------------------------------
def raw_ids_by_hash(app: str, source_id: str, hashes: list[str]) -> dict[str, str]:
    """The stored raw document id of each content hash (unchanged pages keep their first document)."""
    found: dict[str, str] = {}
    coll = get_raw_store().collection(app)
    for start in range(0, len(hashes), _HASH_BATCH):
        for doc in coll.find({"source_id": source_id, "content_hash": {"$in": hashes[start:start + _HASH_BATCH]}},
                             {"_id": 1, "content_hash": 1}):
            found[doc["content_hash"]] = str(doc["_id"])
    return found


def _latest_listing(app: str, source_id: str, url: str) -> Listing | None:
    docs = get_raw_store().find(app, {"source_id": source_id, "url": url}, limit=1)
    return listing_from_document(docs[0], app) if docs else None


def _known_listings(watch_id: int) -> dict[str, Listing]:
    with session_scope() as session:
        return {row.key: listing_of(row) for row in session.exec(
            select(MonitorListing).where(MonitorListing.watch_id == watch_id))}


def _forget_validators(source: dict, urls: list[str]) -> None:
    """Drop saved validators, so pages whose state is unknown are fetched in full next time."""
    path = lake.zone_path("raw", "http-cache", f"{source['id']}.json")
    if urls and path.exists():
        cache = json.loads(path.read_text())
        for url in urls:
            cache.pop(url, None)
        lake.write_json(cache, path)


def crawl_listings(ctx, source: dict, known: dict[str, Listing]) -> Collected:
    """Scrape the source once (into the raw store, as a scrape job does) and read its listings off the crawl."""
    from core.sources.jobs import collect_source

    app, collected, hashes = source["app"], Collected(), {}

    def observe(documents: list[dict]) -> None:
        for doc in documents:
            listing = listing_from_document(doc, app) if is_record(doc) else None
            if listing is not None:
                collected.seen[listing.key] = listing
                hashes[listing.key] = doc["content_hash"]

    summary, report = collect_source(ctx, source["name"], (0.0, 0.9), observe)
    stored = raw_ids_by_hash(app, source["name"], sorted(set(hashes.values())))
    for key, digest in hashes.items():
        collected.seen[key] = _with_raw_id(collected.seen[key], stored.get(digest))
    unknown = []
    for url in report.not_modified_urls:  # unchanged since the last fetch: the last known state stands
        key = listing_key(url)
        listing = known.get(key) or _latest_listing(app, source["name"], url)
        if listing is None:
            unknown.append(url)
        else:
            collected.seen[key] = listing
    _forget_validators(source, unknown)
    for url, reason in report.errors:
        key = listing_key(url)
        if key in known and reason.startswith(GONE_STATUSES):
            collected.removed.add(key)
        elif key in known:
            collected.seen.setdefault(key, known[key])  # not readable this time: nothing is concluded
        else:
            collected.complete = False  # an index page (or a new listing) failed: absence proves nothing
    if report.stopped or report.page_budget_reached:
        collected.complete = False
    if not collected.complete:
        collected.notes.append("Some listing pages did not answer, so listings not seen were not marked gone.")
    if unknown:
        collected.notes.append(f"{len(unknown)} unchanged page(s) had no stored copy; they are read in full next time.")
    collected.counts = {"pages": summary["pages"], "not_modified": summary["not_modified"],
                        "errors": summary["errors"], "stored_new": summary["stored_new"]}
    return collected


def _with_raw_id(listing: Listing, raw_id: str | None) -> Listing:
    return replace(listing, raw_id=raw_id or listing.raw_id)


def _refresh_demo_sites(principal: Principal, source: dict) -> dict:
    """The demo sites live in this process: start them (on new ports) and point their sources there."""
    host = urlsplit((source["config"].get("urls") or [""])[0]).hostname or ""
    if source["name"] not in DEMO_LISTING_SOURCES or not host.startswith("127."):
        return source
    from core.sources.jobs import register_demo_sources
    from core.tenancy import source_for

    register_demo_sources(principal)
    return source_for(principal, source["name"])


def run_pass(ctx, watch_id: int) -> dict:
    """One crawl pass over a watched source, as the job's principal (who must be able to use the source)."""
    principal = ctx.principal
    watch = runnable_watch(principal, watch_id)
    source = _refresh_demo_sites(principal, watch["source"])
    with pass_lock(watch["id"]):
        pass_id = start_pass(watch, "crawl", principal, ctx.job_id)
        try:
            collected = crawl_listings(ctx, source, _known_listings(watch["id"]))
            ctx.progress(0.95, "Comparing with what was known")
            outcome = apply_pass(watch, source, pass_id, collected)
        except BaseException as exc:
            fail_pass(pass_id, exc)
            raise
    ctx.log(outcome["summary"])
    return outcome


# -- applying ------------------------------------------------------------------------------------------
def listing_of(row: MonitorListing) -> Listing:
    return Listing(key=row.key, url=row.url, title=row.title, price=row.price, currency=row.currency,
                   in_stock=row.in_stock, category=row.category, location=row.location, fields=dict(row.fields or {}),
                   raw_id=row.raw_id, id=row.id, status=row.status, last_seen_at=row.last_seen_at)


def _days(since: datetime, until: datetime) -> float:
    return round((until - since).total_seconds() / 86400.0, 4)


def _update_row(row: MonitorListing, listing: Listing, now: datetime) -> None:
    row.url, row.raw_id, row.title, row.price = listing.url[:2000], listing.raw_id, listing.title, listing.price
    row.currency, row.in_stock, row.category, row.location = (listing.currency, listing.in_stock, listing.category,
                                                              listing.location)
    row.fields, row.status, row.last_seen_at, row.gone_at = dict(listing.fields), "active", now, None
    if listing.in_stock is False and row.ended_at is None:
        row.ended_at, row.days_to_end = now, _days(row.first_seen_at, now)  # sold out: time to sell
    elif listing.in_stock is not False and row.ended_at is not None:
        row.ended_at = row.days_to_end = None  # listed and in stock again: it did not sell


def _recipients(change: Change, searches: list[dict], notify_user: int | None) -> dict[int, dict | None]:
    """user id -> the first of their searches the change matches (None: they watch every change)."""
    chosen: dict[int, dict | None] = {}
    for search in searches:
        if search["created_by"] not in chosen and search_matches(search, change.listing):
            chosen[search["created_by"]] = search
    if notify_user is not None:
        chosen.setdefault(notify_user, None)
    return chosen


def event_row(change: Change, watch_id: int, pass_id: int, listing_id: int, relist_of_id: int | None,
              now: datetime) -> MonitorEvent:
    listing = change.listing
    detail = {"key": listing.key, "category": listing.category, "location": listing.location,
              "in_stock": listing.in_stock}
    if change.relist_of is not None:
        detail["relist_of"] = {"key": change.relist_of.key, "title": change.relist_of.title,
                               "url": change.relist_of.url, "price": change.relist_of.price}
    return MonitorEvent(watch_id=watch_id, pass_id=pass_id, listing_id=listing_id, kind=change.kind,
                        title=listing.title, url=listing.url[:2000], raw_id=listing.raw_id, old_price=change.old_price,
                        new_price=change.new_price, currency=listing.currency, drop_amount=change.drop_amount,
                        drop_pct=change.drop_pct, relist_of_id=relist_of_id, detail=detail, created_at=now)


def _record_prices(session, watch_id: int, rows: list[MonitorListing], day) -> None:
    if not rows:
        return
    existing = {point.listing_id: point for point in session.exec(select(MonitorPricePoint).where(
        MonitorPricePoint.listing_id.in_([r.id for r in rows]), MonitorPricePoint.day == day))}
    for row in rows:
        point = existing.get(row.id) or MonitorPricePoint(watch_id=watch_id, listing_id=row.id, day=day)
        point.price, point.currency, point.category = row.price, row.currency, row.category
        point.in_stock = row.in_stock
        session.add(point)


def apply_pass(watch: dict, source: dict, pass_id: int, collected: Collected) -> dict:
    """Compare, update the known listings, write events and inbox entries and the day's prices: one transaction."""
    now = _now()
    searches = searches_for_source(source)
    notify_user = watch["created_by"] if watch["notify_all"] else None
    with session_scope() as session:
        stored = session.get(MonitorWatch, watch["id"])
        baseline = stored.passes == 0
        rows = {row.key: row for row in session.exec(select(MonitorListing)
                                                     .where(MonitorListing.watch_id == watch["id"]))}
        known = {key: listing_of(row) for key, row in rows.items() if row.status != "relisted"}
        changes = [] if baseline else detect_changes(known, collected.seen, complete=collected.complete,
                                                     removed=collected.removed)
        for key, listing in collected.seen.items():
            row = rows.get(key)
            if row is None:
                row = rows[key] = MonitorListing(watch_id=watch["id"], key=key[:1000], url=listing.url[:2000],
                                                 first_seen_at=now)
            _update_row(row, listing, now)
            session.add(row)
        for change in changes:
            if change.kind == "gone":
                row = rows[change.listing.key]
                row.status, row.gone_at = "gone", now
                if row.ended_at is None:
                    row.ended_at, row.days_to_end = now, _days(row.first_seen_at, now)
                session.add(row)
            elif change.kind == "relist":
                old = rows[change.relist_of.key]
                if old.key not in collected.seen:
                    old.status, old.gone_at = "relisted", old.gone_at or now
                    old.ended_at = old.days_to_end = None  # taken down to be listed again: not sold
                session.add(old)
        session.flush()
        events = []
        for change in changes:
            relist_of_id = rows[change.relist_of.key].id if change.relist_of is not None else None
            if relist_of_id is not None:
                rows[change.listing.key].relist_of_id = relist_of_id
            events.append(event_row(change, watch["id"], pass_id, rows[change.listing.key].id, relist_of_id, now))
        session.add_all(events)
        session.flush()
        delivered = 0
        for change, event in zip(changes, events, strict=True):
            for user_id, search in _recipients(change, searches, notify_user).items():
                session.add(MonitorInboxItem(user_id=user_id, event_id=event.id, created_at=now,
                                             search_id=search["id"] if search else None,
                                             search_name=search["name"] if search else None))
                delivered += 1
        _record_prices(session, watch["id"], [rows[key] for key in collected.seen], now.date())
        per_kind = {kind: sum(1 for c in changes if c.kind == kind) for kind in KINDS}
        summary = (f"{source['name']}: {len(collected.seen)} listings"
                   + (" (baseline: events start with the next pass)" if baseline else
                      ", " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in per_kind.items() if n)
                      if changes else ", no change"))
        pass_row = session.get(MonitorPass, pass_id)
        pass_row.status, pass_row.finished_at, pass_row.baseline = "succeeded", _now(), baseline
        pass_row.complete, pass_row.listings, pass_row.events = collected.complete, len(collected.seen), len(events)
        pass_row.counts = {**collected.counts, **per_kind, "delivered": delivered}
        pass_row.note = " ".join([summary + ".", *collected.notes])
        session.add(pass_row)
        stored.passes += 1
        stored.last_run_at = now
        session.add(stored)
        event_ids = [event.id for event in events]
    return {"pass_id": pass_id, "baseline": baseline, "complete": collected.complete,
            "listings": len(collected.seen), "events": len(event_ids), "event_ids": event_ids, "by_kind": per_kind,
            "delivered": delivered, "summary": summary}
