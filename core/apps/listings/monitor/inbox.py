"""The inbox: events delivered to one user, with unread counts, filters, mark-read and the record behind each.

Everybody's inbox is their own: entries are read, filtered and marked by their user only (an admin's too).
The events of a pass, with whom they went to, are for the people who may use the watched source.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import select, update

from core import explore
from core.apps.listings.monitor.changes import KIND_LABELS, KINDS
from core.apps.listings.monitor.watches import watch_for
from core.auth import Principal
from core.store.models import Source, User
from core.store.models_listings import MonitorEvent, MonitorInboxItem, MonitorListing, MonitorPass, MonitorWatch
from core.store.sql import session_scope
from core.tenancy import NotFoundOrDenied, require_supplier

MAX_ROWS = 1000


def _event_dict(event: MonitorEvent, source_name: str) -> dict:
    data = event.model_dump()
    data["source"] = source_name
    data["label"] = KIND_LABELS.get(event.kind, event.kind)
    return data


def unread_counts(principal: Principal | None) -> dict[str, int]:
    """Unread entries per event kind, and "total"."""
    require_supplier(principal, "read the monitor inbox")
    with session_scope() as session:
        rows = session.exec(select(MonitorEvent.kind, func.count()).join(
            MonitorInboxItem, MonitorInboxItem.event_id == MonitorEvent.id).where(
            MonitorInboxItem.user_id == principal.id, MonitorInboxItem.read_at.is_(None)).group_by(MonitorEvent.kind))
        counts = {kind: 0 for kind in KINDS} | dict(rows.all())
    return {**counts, "total": sum(counts.values())}


def inbox(principal: Principal | None, *, kinds: list[str] | None = None, unread_only: bool = False,
          source: str | None = None, search_id: int | None = None, limit: int = 200) -> list[dict]:
    """The principal's inbox, newest first, filtered by event kind, read state, source and search."""
    require_supplier(principal, "read the monitor inbox")
    query = (select(MonitorInboxItem, MonitorEvent, MonitorWatch.source_name)
             .join(MonitorEvent, MonitorEvent.id == MonitorInboxItem.event_id)
             .join(MonitorWatch, MonitorWatch.id == MonitorEvent.watch_id)
             .where(MonitorInboxItem.user_id == principal.id))
    if kinds:
        query = query.where(MonitorEvent.kind.in_(list(kinds)))
    if unread_only:
        query = query.where(MonitorInboxItem.read_at.is_(None))
    if source:
        query = query.where(MonitorWatch.source_name == source)
    if search_id is not None:
        query = query.where(MonitorInboxItem.search_id == int(search_id))
    query = query.order_by(MonitorEvent.created_at.desc(), MonitorEvent.id.desc()).limit(min(int(limit), MAX_ROWS))
    with session_scope() as session:
        return [{**_event_dict(event, source_name), "event_id": event.id, "id": item.id,
                 "read": item.read_at is not None, "search_id": item.search_id,
                 "search": item.search_name or "(every change)"}
                for item, event, source_name in session.exec(query)]


def mark_read(principal: Principal | None, item_ids: list[int], read: bool = True) -> int:
    """Mark the principal's own entries read (or unread again); others' ids are ignored. Returns how many."""
    require_supplier(principal, "change the monitor inbox")
    ids = [int(i) for i in item_ids]
    if not ids:
        return 0
    with session_scope() as session:
        return session.exec(update(MonitorInboxItem).where(
            MonitorInboxItem.user_id == principal.id, MonitorInboxItem.id.in_(ids))
            .values(read_at=datetime.now(UTC) if read else None)).rowcount


def mark_all_read(principal: Principal | None) -> int:
    require_supplier(principal, "change the monitor inbox")
    with session_scope() as session:
        return session.exec(update(MonitorInboxItem).where(
            MonitorInboxItem.user_id == principal.id, MonitorInboxItem.read_at.is_(None))
            .values(read_at=datetime.now(UTC))).rowcount


def open_event(principal: Principal | None, item_id: int, mark: bool = True) -> dict:
    """One inbox entry in full: the event, the listing as now known, the listing it relists, and the raw record
    behind it (as Raw Explorer shows it, when the principal may see raw records of the source)."""
    require_supplier(principal, "read the monitor inbox")
    with session_scope() as session:
        found = session.exec(select(MonitorInboxItem, MonitorEvent, MonitorWatch, Source.app)
                             .join(MonitorEvent, MonitorEvent.id == MonitorInboxItem.event_id)
                             .join(MonitorWatch, MonitorWatch.id == MonitorEvent.watch_id)
                             .join(Source, Source.id == MonitorWatch.source_id, isouter=True)
                             .where(MonitorInboxItem.id == int(item_id))).first()
        if found is None or found[0].user_id != principal.id:
            raise NotFoundOrDenied(f"No inbox entry {item_id} that you can use.")
        item, event, watch, app = found
        listing = session.get(MonitorListing, event.listing_id)
        relisted = session.get(MonitorListing, event.relist_of_id) if event.relist_of_id else None
        result = {**_event_dict(event, watch.source_name), "id": item.id, "event_id": event.id,
                  "search": item.search_name or "(every change)", "app": app or "marketplace",
                  "listing": listing.model_dump() if listing else None,
                  "relist_of": relisted.model_dump() if relisted else None}
    if mark and item.read_at is None:
        mark_read(principal, [item.id])
    result["record"] = None
    if event.raw_id:
        try:
            result["record"] = explore.record_detail(principal, result["app"], event.raw_id)
        except NotFoundOrDenied:
            result["record"] = None  # the raw record was deleted, or is not the principal's to read
    return result


def pass_events(principal: Principal | None, pass_id: int) -> list[dict]:
    """The events of one pass, with the users and searches they went to (for people who may use the source)."""
    with session_scope() as session:
        run = session.get(MonitorPass, int(pass_id))
    if run is None:
        raise NotFoundOrDenied(f"No monitor pass {pass_id} that you can use.")
    watch = watch_for(principal, run.watch_id, "see monitor passes")
    with session_scope() as session:
        events = session.exec(select(MonitorEvent).where(MonitorEvent.pass_id == run.id)
                              .order_by(MonitorEvent.id)).all()
        delivered: dict[int, list[dict]] = {}
        recipients = (select(MonitorInboxItem, User.email).join(User, User.id == MonitorInboxItem.user_id)
                      .where(MonitorInboxItem.event_id.in_([e.id for e in events] or [-1])))
        for item, email in session.exec(recipients):
            delivered.setdefault(item.event_id, []).append({"user": email, "search": item.search_name})
        return [{"event_id": e.id, "pass_id": e.pass_id, "source": watch["source_name"], "kind": e.kind,
                 "title": e.title, "url": e.url, "raw_id": e.raw_id, "old_price": e.old_price,
                 "new_price": e.new_price, "currency": e.currency, "drop_amount": e.drop_amount,
                 "drop_pct": e.drop_pct, "relist_of": e.detail.get("relist_of"), "created_at": e.created_at,
                 "delivered_to": delivered.get(e.id, [])} for e in events]


def recent_passes(principal: Principal | None, watch_id: int, limit: int = 20) -> list[dict]:
    watch_for(principal, watch_id, "see monitor passes")
    with session_scope() as session:
        return [row.model_dump() for row in session.exec(select(MonitorPass).where(MonitorPass.watch_id == watch_id)
                                                         .order_by(MonitorPass.id.desc()).limit(limit))]
