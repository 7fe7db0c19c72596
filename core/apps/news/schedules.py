"""Saved news workflow schedules, and the light scheduler thread that runs them while the workbench runs.

A schedule is a `NewsSchedule` row: a workflow (daily/weekly digest, topic brief, run report) over one of
the owner's datasets, every N hours. `run_due_schedules` claims each due row with a compare-and-set on
`next_run_at` (so two workbench processes never submit the same run), then submits a `news_generate` job
as the schedule's owner; the job runner re-checks that user's role when it starts and the workflow checks
dataset ownership, so a schedule can never do more than its owner could do by hand. Runs missed while
the workbench was down are not replayed one by one: the next run is the first slot after now.

`run_due_schedules` is called by the process's one scheduler thread (core/scheduler.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlmodel import select, update

from core.apps.news.workflows import WORKFLOWS
from core.auth import Principal, get_user
from core.store.models import Dataset, NewsSchedule
from core.store.sql import session_scope
from core.tenancy import NotFoundOrDenied, dataset_for, owns, require_supplier, sees_everything

log = logging.getLogger(__name__)
SCHEDULE_KINDS = ("daily", "weekly", "topic", "run")
MIN_EVERY_HOURS, MAX_EVERY_HOURS = 1, 24 * 31


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def save_schedule(principal: Principal | None, dataset: str, workflow: str, every_hours: int,
                  params: dict | None = None, first_run_at: datetime | None = None) -> dict:
    """Save a schedule over one of the principal's datasets; the first run is due at `first_run_at` (now)."""
    owned = dataset_for(principal, dataset, "schedule workflows on this dataset")
    if workflow not in SCHEDULE_KINDS:
        raise ValueError(f"Unknown workflow {workflow!r}; choose one of {', '.join(SCHEDULE_KINDS)}.")
    every_hours = int(every_hours)
    if not MIN_EVERY_HOURS <= every_hours <= MAX_EVERY_HOURS:
        raise ValueError(f"Run every {MIN_EVERY_HOURS} to {MAX_EVERY_HOURS} hours.")
    params = {k: v for k, v in (params or {}).items() if k in ("topic", "run_id", "use_openai", "analyse_first")}
    if workflow == "topic" and not params.get("topic"):
        raise ValueError("A scheduled topic brief needs a topic.")
    if workflow == "run" and not params.get("run_id"):
        raise ValueError("A scheduled run report needs a refinement run.")
    with session_scope() as session:
        row = NewsSchedule(dataset_id=owned["id"], workflow=workflow, params=params, every_hours=every_hours,
                           next_run_at=_aware(first_run_at or _now()), created_by=principal.id)
        session.add(row)
        session.flush()
        return row.model_dump()


def list_schedules(principal: Principal | None, dataset: str | None = None) -> list[dict]:
    """The principal's schedules (admins: all), with their dataset's name; newest first."""
    require_supplier(principal, "see schedules")
    query = select(NewsSchedule, Dataset.name).join(Dataset, Dataset.id == NewsSchedule.dataset_id)
    if dataset:
        query = query.where(NewsSchedule.dataset_id == dataset_for(principal, dataset)["id"])
    if not sees_everything(principal):
        query = query.where(NewsSchedule.created_by == principal.id)
    with session_scope() as session:
        return [{**row.model_dump(), "dataset": name, "label": WORKFLOWS[row.workflow]}
                for row, name in session.exec(query.order_by(NewsSchedule.id.desc()))]


def _own_schedule(session, principal: Principal | None, schedule_id: int) -> NewsSchedule:
    require_supplier(principal, "change schedules")
    row = session.get(NewsSchedule, schedule_id)
    if row is None or not owns(principal, row.created_by):
        raise NotFoundOrDenied(f"No schedule {schedule_id} that you can use.")
    return row


def set_schedule_enabled(principal: Principal | None, schedule_id: int, enabled: bool) -> dict:
    with session_scope() as session:
        row = _own_schedule(session, principal, schedule_id)
        row.enabled = bool(enabled)
        if enabled and _aware(row.next_run_at) < _now():
            row.next_run_at = _now()
        session.add(row)
        session.flush()
        return row.model_dump()


def delete_schedule(principal: Principal | None, schedule_id: int) -> None:
    with session_scope() as session:
        session.delete(_own_schedule(session, principal, schedule_id))


def _claim(row: NewsSchedule, now: datetime) -> bool:
    """Move `next_run_at` to the first slot after now, only if nobody else moved it first."""
    due = _aware(row.next_run_at)
    step = timedelta(hours=row.every_hours)
    following = due + step
    if following <= now:  # missed slots while the workbench was down: run once, then keep the rhythm
        following = due + step * ((now - due) // step + 1)
    with session_scope() as session:
        claimed = session.exec(update(NewsSchedule).where(NewsSchedule.id == row.id,
                                                          NewsSchedule.next_run_at == row.next_run_at)
                               .values(next_run_at=following, last_run_at=now))
        return claimed.rowcount == 1


def run_due_schedules(now: datetime | None = None,
                      submit: Callable[[str, dict, Principal], int] | None = None) -> list[int]:
    """Submit a `news_generate` job for every enabled schedule that is due; returns the job ids.

    System work (no acting principal): each job runs as its schedule's owner and is checked as them.
    An owner who is gone or no longer a supplier/admin has the schedule disabled, with nothing run.
    """
    from core.store import jobs  # noqa: PLC0415 - core.store.jobs imports the job modules lazily

    submit = submit or jobs.submit
    now = now or _now()
    with session_scope() as session:
        due = [row.model_copy() for row in session.exec(
            select(NewsSchedule).where(NewsSchedule.enabled == True, NewsSchedule.next_run_at <= now))]  # noqa: E712
    started = []
    for row in due:
        owner = get_user(row.created_by)
        if owner is None or owner.role not in ("supplier", "admin"):
            with session_scope() as session:
                stored = session.get(NewsSchedule, row.id)
                stored.enabled = False
                session.add(stored)
            log.warning("News schedule %s disabled: its owner may no longer run it", row.id)
            continue
        if not _claim(row, now):
            continue  # another process took this slot
        with session_scope() as session:
            dataset = session.get(Dataset, row.dataset_id)
        params = {**row.params, "workflow": row.workflow, "dataset": dataset.name if dataset else None,
                  "end": now.date().isoformat(), "schedule_id": row.id}
        try:
            job_id = submit("news_generate", params, owner)
        except Exception as exc:  # noqa: BLE001 - one bad schedule must not stop the others
            log.warning("News schedule %s could not start: %s", row.id, exc)
            continue
        with session_scope() as session:
            stored = session.get(NewsSchedule, row.id)
            stored.last_job_id = job_id
            session.add(stored)
        started.append(job_id)
    return started
