"""Snapshots on a schedule: one saved schedule per user, and a light scheduler that submits due jobs.

A schedule says which underlyings to snapshot and how often. `run_due` is called every few seconds by
the process's one scheduler thread (core/scheduler.py) or by `python -m core options watch`, and submits
an `options_snapshot` job for each due schedule. Claiming a run is one compare-and-set
UPDATE that moves `next_run_at` on, so two loops (two app processes, or the app and the CLI watcher)
never submit the same run; a schedule whose previous job is still running is not submitted again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import select

from core.auth import PermissionDenied, Principal, get_user
from core.store import jobs
from core.store.models import OptionSchedule
from core.store.sql import session_scope
from core.tenancy import require_supplier

JOB_KIND = "options_snapshot"
MIN_INTERVAL_MINUTES = 1
MAX_INTERVAL_MINUTES = 7 * 24 * 60
MAX_SYMBOLS = 20
log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands datetimes back naive; they were written in UTC.
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _plain(row: OptionSchedule) -> dict:
    data = row.model_dump()
    for key in ("next_run_at", "last_run_at", "updated_at"):
        data[key] = _aware(data[key])
    return data


def save_schedule(principal: Principal | None, symbols: list[str], interval_minutes: int,
                  enabled: bool = True) -> dict:
    """Create or replace the principal's schedule. A newly enabled schedule is due at once."""
    require_supplier(principal, "schedule option snapshots")
    cleaned = list(dict.fromkeys(s.strip().upper() for s in symbols if s and s.strip()))
    if enabled and not cleaned:
        raise ValueError("Choose at least one underlying to snapshot.")
    if len(cleaned) > MAX_SYMBOLS:
        raise ValueError(f"At most {MAX_SYMBOLS} underlyings per schedule.")
    interval = int(interval_minutes)
    if not MIN_INTERVAL_MINUTES <= interval <= MAX_INTERVAL_MINUTES:
        raise ValueError(f"The interval must be between {MIN_INTERVAL_MINUTES} minute and "
                         f"{MAX_INTERVAL_MINUTES // 1440} days.")
    now = _now()
    with session_scope() as session:
        row = session.exec(select(OptionSchedule).where(OptionSchedule.owner_id == principal.id)).first()
        if row is None:
            row = OptionSchedule(owner_id=principal.id)
        was_enabled = bool(row.id) and row.enabled
        last = _aware(row.last_run_at)
        row.symbols, row.interval_minutes, row.enabled, row.updated_at = cleaned, interval, enabled, now
        if not enabled:
            row.next_run_at = None
        elif not was_enabled or last is None:
            row.next_run_at = now
        else:  # an edit keeps the rhythm: next run one (new) interval after the last
            row.next_run_at = max(now, last + timedelta(minutes=interval))
        session.add(row)
        session.flush()
        return _plain(row)


def get_schedule(principal: Principal | None) -> dict | None:
    """The principal's own schedule, with its last job (status, progress) when there is one."""
    require_supplier(principal, "see option snapshot schedules")
    with session_scope() as session:
        row = session.exec(select(OptionSchedule).where(OptionSchedule.owner_id == principal.id)).first()
        if row is None:
            return None
        data = _plain(row)
    data["last_job"] = jobs.get_job(principal, data["last_job_id"]) if data["last_job_id"] else None
    return data


def run_now(principal: Principal | None) -> int:
    """Submit the principal's scheduled snapshot at once (unless one is still running); returns the job id."""
    schedule = get_schedule(principal)
    if schedule is None or not schedule["symbols"]:
        raise ValueError("Save a schedule with at least one underlying first.")
    if schedule["last_job"] and schedule["last_job"]["status"] in ("queued", "running"):
        return schedule["last_job_id"]
    return _submit(principal, schedule["id"], schedule["symbols"], schedule["interval_minutes"], _now())


def _submit(principal: Principal, schedule_id: int, symbols: list[str], interval: int, now: datetime) -> int:
    job_id = jobs.submit(JOB_KIND, {"symbols": symbols, "schedule_id": schedule_id}, principal)
    with session_scope() as session:
        session.exec(update(OptionSchedule).where(OptionSchedule.id == schedule_id).values(
            last_job_id=job_id, last_run_at=now, next_run_at=now + timedelta(minutes=interval)))
    return job_id


def _busy(owner: Principal | None, job_id: int | None) -> bool:
    if owner is None or job_id is None:
        return False
    job = jobs.get_job(owner, job_id)
    return bool(job and job["status"] in ("queued", "running"))


def run_due(now: datetime | None = None) -> list[int]:
    """Submit a job for every enabled schedule that is due. A system step of the scheduler loop: each job
    runs as the schedule's owner, whose role is checked at submission and again when the job starts."""
    now = now or _now()
    with session_scope() as session:
        due = [_plain(r) for r in session.exec(select(OptionSchedule).where(
            OptionSchedule.enabled == True, OptionSchedule.next_run_at <= now))]  # noqa: E712 - SQL expression
    submitted = []
    for schedule in due:
        owner = get_user(schedule["owner_id"])
        if _busy(owner, schedule["last_job_id"]):
            continue  # the previous run is still going: do not stack a second one behind it
        next_run = now + timedelta(minutes=schedule["interval_minutes"])
        with session_scope() as session:
            claimed = session.exec(update(OptionSchedule).where(
                OptionSchedule.id == schedule["id"], OptionSchedule.enabled == True,  # noqa: E712
                OptionSchedule.next_run_at <= now).values(next_run_at=next_run)).rowcount
        if claimed != 1:
            continue  # another scheduler loop took this run
        try:
            if owner is None:
                raise PermissionDenied("the schedule's owner no longer exists")
            submitted.append(_submit(owner, schedule["id"], schedule["symbols"], schedule["interval_minutes"], now))
        except PermissionDenied as exc:
            log.warning("Disabling option snapshot schedule %s: %s", schedule["id"], exc)
            with session_scope() as session:
                session.exec(update(OptionSchedule).where(OptionSchedule.id == schedule["id"]).values(
                    enabled=False, next_run_at=None))
    return submitted
