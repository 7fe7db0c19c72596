"""Watched sources: which listing sources are re-scraped, how often, and the scheduler tick that runs them.

One watch per source, with its own interval. `run_due` is a tick of the process's one scheduler thread
(core/scheduler.py): it claims each due watch with a compare-and-set UPDATE on `next_run_at` (two workbench
processes never submit the same pass) and submits a `monitor_pass` job as the user who saved the watch; the
job runner re-checks that user's role, and the pass re-checks that they may still use the source. Passes
missed while the workbench was down are not replayed: the next one is one interval after now.

A source on a site that needs a login (Facebook Marketplace, or any source saved with `login_required`) is
never crawled: its watch is fed by the user's own exported files (exports.py) and is not scheduled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlmodel import delete, select, update

from core.apps.listings.monitor.searches import listing_source
from core.auth import PermissionDenied, Principal, get_user
from core.sources import registry
from core.store.models import Source
from core.store.models_listings import (
    MonitorEvent,
    MonitorInboxItem,
    MonitorListing,
    MonitorPass,
    MonitorPricePoint,
    MonitorWatch,
)
from core.store.sql import session_scope
from core.tenancy import NotFoundOrDenied, owns, require_supplier, sees_everything

JOB_KIND = "monitor_pass"
MIN_MINUTES, MAX_MINUTES = 5, 31 * 24 * 60
DEFAULT_MINUTES = 60
# Sites whose listings are only shown to a signed-in user: never crawled, fed by the user's own exports.
LOGIN_ONLY_HOSTS = ("facebook.com",)
log = logging.getLogger(__name__)


class MonitorError(ValueError):
    """A monitor action cannot be done as asked; the message says why and what to do."""


def _now() -> datetime:
    return datetime.now(UTC)


def needs_login(source: dict) -> bool:
    """Whether a source's listings sit behind a login on their site (then only exported files feed it)."""
    if (source.get("config") or {}).get("login_required"):
        return True
    for url in (source.get("config") or {}).get("urls", []):
        host = (urlsplit(url).hostname or "").lower()
        if any(host == h or host.endswith("." + h) for h in LOGIN_ONLY_HOSTS):
            return True
    return False


def save_login_only_source(principal: Principal | None, name: str, site_url: str, license: str | None = None) -> dict:
    """A marketplace source on a site that needs a login: saved so its exports have an owner and a name,
    marked so that nothing (scrape or monitor) ever crawls it."""
    return registry.save_source(principal, name, "marketplace", "url_list",
                                {"urls": [site_url], "login_required": True}, license=license)


def _minutes(every_minutes) -> int:
    try:
        minutes = int(every_minutes)
    except (TypeError, ValueError):
        raise MonitorError("The interval must be a whole number of minutes.") from None
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise MonitorError(f"Re-scrape every {MIN_MINUTES} minutes to {MAX_MINUTES // 1440} days.")
    return minutes


def save_watch(principal: Principal | None, source_name: str, every_minutes: int = DEFAULT_MINUTES,
               enabled: bool = True, notify_all: bool = False) -> dict:
    """Watch one of the principal's listing sources (or change its watch). A newly enabled watch is due at once;
    a changed interval keeps the rhythm (next pass one interval after the last)."""
    source = listing_source(principal, source_name)
    minutes, now = _minutes(every_minutes), _now()
    login_only = needs_login(source)
    with session_scope() as session:
        row = session.exec(select(MonitorWatch).where(MonitorWatch.source_id == source["id"])).first()
        if row is None:
            row = MonitorWatch(source_id=source["id"], source_name=source["name"], owner_id=source["created_by"],
                               created_by=principal.id)
        was_enabled = bool(row.id) and row.enabled
        row.every_minutes, row.enabled, row.notify_all = minutes, bool(enabled), bool(notify_all)
        last = row.last_run_at
        if not enabled or login_only:
            row.next_run_at = None
        elif not was_enabled or last is None:
            row.next_run_at = now
        else:
            row.next_run_at = max(now, last + timedelta(minutes=minutes))
        session.add(row)
        session.flush()
        return {**row.model_dump(), "needs_login": login_only}


def _visible(query, principal: Principal):
    return query if sees_everything(principal) else query.where(MonitorWatch.owner_id == principal.id)


def list_watches(principal: Principal | None) -> list[dict]:
    """The watches on the principal's sources (admins: all), each with its last pass."""
    require_supplier(principal, "see watched sources")
    with session_scope() as session:
        watches = [row.model_dump() for row in session.exec(_visible(select(MonitorWatch), principal)
                                                       .order_by(MonitorWatch.source_name))]
        last_ids = [w["id"] for w in watches]
        passes = {}
        if last_ids:
            for row in session.exec(select(MonitorPass).where(MonitorPass.watch_id.in_(last_ids))
                                    .order_by(MonitorPass.id)):
                passes[row.watch_id] = row.model_dump()
        sources = {s.id: s.model_dump() for s in session.exec(
            select(Source).where(Source.id.in_([w["source_id"] for w in watches] or [-1])))}
    for watch in watches:
        source = sources.get(watch["source_id"])
        watch["needs_login"] = bool(source) and needs_login(source)
        watch["source_missing"] = source is None or source["name"] != watch["source_name"]
        watch["last_pass"] = passes.get(watch["id"])
    return watches


def watch_for(principal: Principal | None, watch_id: int, action: str = "use this watch") -> dict:
    """A watch on a source the principal may use (its owner, or an admin)."""
    require_supplier(principal, action)
    with session_scope() as session:
        row = session.get(MonitorWatch, int(watch_id))
        watch = row.model_dump() if row is not None else None
    if watch is None or not owns(principal, watch["owner_id"]):
        raise NotFoundOrDenied(f"No watch {watch_id} that you can use.")
    try:
        source = listing_source(principal, watch["source_name"], action)
    except PermissionDenied:
        source = None
    if source is None or source["id"] != watch["source_id"]:
        # The source was deleted (or its name reused): the watch can still be seen and deleted, never run.
        return {**watch, "source": None, "needs_login": False, "source_missing": True}
    return {**watch, "source": source, "needs_login": needs_login(source), "source_missing": False}


def runnable_watch(principal: Principal | None, watch_id: int) -> dict:
    """A watch that a pass may run now: its source still exists and does not need a login."""
    watch = watch_for(principal, watch_id, "run a monitor pass")
    if watch["source_missing"]:
        raise MonitorError(f"The source {watch['source_name']} was deleted; stop watching it.")
    if watch["needs_login"]:
        raise MonitorError(f"{watch['source_name']} needs a login on its site and is never crawled: import your own "
                           "exported HTML or JSON files for it instead.")
    return watch


def watch_of_source(principal: Principal | None, source_name: str) -> dict | None:
    source = listing_source(principal, source_name)
    with session_scope() as session:
        row = session.exec(select(MonitorWatch).where(MonitorWatch.source_id == source["id"])).first()
        return {**row.model_dump(), "source": source, "needs_login": needs_login(source)} if row else None


def delete_watch(principal: Principal | None, watch_id: int) -> None:
    """Stop watching a source and forget its listings, passes and events (inbox entries included)."""
    watch = watch_for(principal, watch_id, "stop watching this source")
    with session_scope() as session:
        events = select(MonitorEvent.id).where(MonitorEvent.watch_id == watch["id"])
        session.exec(delete(MonitorInboxItem).where(MonitorInboxItem.event_id.in_(events)))
        for table in (MonitorEvent, MonitorPricePoint):
            session.exec(delete(table).where(table.watch_id == watch["id"]))
        session.exec(update(MonitorListing).where(MonitorListing.watch_id == watch["id"]).values(relist_of_id=None))
        for table in (MonitorListing, MonitorPass):
            session.exec(delete(table).where(table.watch_id == watch["id"]))
        session.exec(delete(MonitorWatch).where(MonitorWatch.id == watch["id"]))


def _busy(owner: Principal | None, job_id: int | None) -> bool:
    from core.store import jobs

    job = jobs.get_job(owner, job_id) if owner is not None and job_id is not None else None
    return bool(job and job["status"] in ("queued", "running"))


def _record_job(watch_id: int, job_id: int, now: datetime) -> None:
    with session_scope() as session:
        session.exec(update(MonitorWatch).where(MonitorWatch.id == watch_id).values(last_job_id=job_id,
                                                                                    last_run_at=now))


def run_now(principal: Principal | None, watch_id: int) -> int:
    """Submit a pass over a watched source at once (or return the one still running); the job id."""
    from core.store import jobs

    watch = runnable_watch(principal, watch_id)
    if _busy(principal, watch["last_job_id"]):
        return watch["last_job_id"]
    job_id = jobs.submit(JOB_KIND, {"watch_id": watch["id"]}, principal)
    _record_job(watch["id"], job_id, _now())
    return job_id


def _disable(watch_id: int, why: str) -> None:
    log.warning("Monitor watch %s disabled: %s", watch_id, why)
    with session_scope() as session:
        session.exec(update(MonitorWatch).where(MonitorWatch.id == watch_id).values(enabled=False, next_run_at=None))


def run_due(now: datetime | None = None, submit: Callable[[str, dict, Principal], int] | None = None) -> list[int]:
    """Submit a `monitor_pass` job for every enabled watch that is due; returns the job ids.

    System work (no acting principal): each job runs as the user who saved the watch. A watch whose user is
    gone, is no longer a supplier or admin, or may no longer use the source is disabled, with nothing run;
    a watch whose previous pass is still running is skipped for this slot.
    """
    from core.store import jobs

    submit = submit or jobs.submit
    now = now or _now()
    with session_scope() as session:
        due = [row.model_dump() for row in session.exec(select(MonitorWatch).where(
            MonitorWatch.enabled == True, MonitorWatch.next_run_at <= now))]  # noqa: E712 - SQL expression
    started = []
    for watch in due:
        owner = get_user(watch["created_by"])
        if _busy(owner, watch["last_job_id"]):
            continue
        with session_scope() as session:
            claimed = session.exec(update(MonitorWatch).where(
                MonitorWatch.id == watch["id"], MonitorWatch.enabled == True,  # noqa: E712
                MonitorWatch.next_run_at == watch["next_run_at"])
                .values(next_run_at=now + timedelta(minutes=watch["every_minutes"]))).rowcount
        if claimed != 1:
            continue  # another process took this slot
        try:
            if owner is None or owner.role not in ("supplier", "admin"):
                raise PermissionDenied("its owner may no longer run it")
            try:
                runnable_watch(owner, watch["id"])
            except MonitorError as exc:
                raise PermissionDenied(str(exc)) from None
            job_id = submit(JOB_KIND, {"watch_id": watch["id"]}, owner)
        except PermissionDenied as exc:
            _disable(watch["id"], str(exc))
            continue
        except Exception as exc:  # noqa: BLE001 - one bad watch must not stop the others
            log.warning("Monitor watch %s could not start: %s", watch["id"], exc)
            continue
        _record_job(watch["id"], job_id, now)
        started.append(job_id)
    return started
