"""Background jobs: long work (scrape, refine, package, train) off the UI thread.

A job is a row in the Job table plus a function `fn(ctx, params) -> dict`, registered with the
roles allowed to run it. The runner checks the submitting principal's role when the job is created
and again, from the user table, when it starts (a role may have changed in between), and hands the
principal to the function as `ctx.principal` for its ownership checks.
The Streamlit app submits it to a process-wide thread pool, so leaving a page
or rerunning a script does not stop it; the page polls the row. The CLI runs
the same function in the foreground. A crash marks the row failed with the
error; a row left running by a process that died is marked failed at start-up.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Callable

from sqlmodel import select

from core.auth import PermissionDenied, Principal, get_user, require_role
from core.config import get_settings
from core.store.models import Job
from core.store.processes import pid_alive
from core.store.sql import session_scope

JobFunction = Callable[["JobContext", dict], dict]
_REGISTRY: dict[str, JobFunction] = {}
_ROLES: dict[str, tuple[str, ...]] = {}
DATA_ROLES = ("supplier", "admin")
# Called before a kind is looked up; the layer above installs them (core/job_kinds.py via core/bootstrap.py),
# so this module never names the features that register jobs.
_KIND_LOADERS: list[Callable[[], None]] = []
MAX_LOG_CHARS = 200_000
PROGRESS_WRITE_INTERVAL_S = 0.5

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_active: set[int] = set()


class JobCancelled(RuntimeError):
    """Raised inside a job function when the user asked it to stop."""


def job_function(kind: str, roles: tuple[str, ...] = DATA_ROLES) -> Callable[[JobFunction], JobFunction]:
    """Register `fn` as the job `kind`, runnable only by principals holding one of `roles`."""
    def register(fn: JobFunction) -> JobFunction:
        _REGISTRY[kind] = fn
        _ROLES[kind] = roles
        return fn
    return register


def add_kind_loader(loader: Callable[[], None]) -> None:
    """Have `loader` (which imports the modules that register jobs) run before any kind is looked up."""
    if loader not in _KIND_LOADERS:
        _KIND_LOADERS.append(loader)


def _load_job_modules() -> None:
    for loader in list(_KIND_LOADERS):
        loader()


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class JobContext:
    job_id: int
    principal: Principal | None = None  # who submitted the job, re-read and re-checked at start
    echo: Callable[[str], None] | None = None
    _last_write: float = 0.0
    _pending_log: list[str] = field(default_factory=list)

    def progress(self, fraction: float, message: str | None = None) -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        now = time.monotonic()
        if now - self._last_write < PROGRESS_WRITE_INTERVAL_S and fraction < 1.0:
            return  # throttled: the UI polls every second, more writes only cost locks
        self._last_write = now
        self._flush(progress=fraction, message=message)
        if self.echo and message:
            self.echo(f"[{fraction:5.1%}] {message}")

    def log(self, line: str) -> None:
        stamped = f"{_now():%H:%M:%S} {line}"
        self._pending_log.append(stamped)
        if self.echo:
            self.echo(line)
        if len(self._pending_log) >= 20:
            self._flush()

    def should_stop(self) -> bool:
        with session_scope() as session:
            job = session.get(Job, self.job_id)
            return bool(job and job.cancel_requested)

    def check_cancelled(self) -> None:
        if self.should_stop():
            raise JobCancelled("Stopped at the user's request.")

    def _flush(self, progress: float | None = None, message: str | None = None) -> None:
        with session_scope() as session:
            job = session.get(Job, self.job_id)
            if job is None:
                return
            if progress is not None:
                job.progress = progress
            if message is not None:
                job.message = message[:500]
            if self._pending_log:
                job.log = (job.log + "\n".join(self._pending_log) + "\n")[-MAX_LOG_CHARS:]
                self._pending_log.clear()
            session.add(job)


def create_job(kind: str, params: dict | None, principal: Principal | None) -> int:
    _load_job_modules()
    if kind not in _REGISTRY:
        raise ValueError(f"Unknown job kind {kind!r}; known: {', '.join(sorted(_REGISTRY)) or 'none'}")
    require_role(principal, *_ROLES[kind], action=f"start {kind} jobs")
    with session_scope() as session:
        job = Job(kind=kind, params=params or {}, created_by=principal.id, message="Waiting to start")
        session.add(job)
        session.flush()
        return job.id


def _submitter(job: Job) -> Principal:
    """The submitting principal as the user table knows them now, checked against the job's roles."""
    principal = get_user(job.created_by) if job.created_by is not None else None
    if principal is None:
        raise PermissionDenied("The account that started this job no longer exists.")
    return require_role(principal, *_ROLES[job.kind], action=f"run {job.kind} jobs")


def execute(job_id: int, echo: Callable[[str], None] | None = None) -> dict:
    """Run a created job in the current thread, recording status, result or error."""
    _load_job_modules()
    with session_scope() as session:
        job = session.get(Job, job_id)
        kind, params = job.kind, dict(job.params)
        job.status, job.started_at, job.owner_pid, job.message = "running", _now(), os.getpid(), "Starting"
        session.add(job)
        job_row = job.model_copy()
    ctx = JobContext(job_id, echo=echo)
    _active.add(job_id)
    try:
        ctx.principal = _submitter(job_row)
        result = _REGISTRY[kind](ctx, params) or {}
        status, error, message = "succeeded", None, "Done"
    except JobCancelled as exc:
        result, status, error, message = {}, "failed", str(exc), "Stopped"
    except PermissionDenied as exc:
        result, status, error, message = {}, "failed", str(exc), "Refused"
    except Exception as exc:  # noqa: BLE001 - any crash must end as a failed row, never a lost job
        result, status, message = {}, "failed", "Failed"
        error = f"{type(exc).__name__}: {exc}"
        ctx._pending_log.append(traceback.format_exc())
    finally:
        _active.discard(job_id)
    ctx._flush(progress=1.0 if status == "succeeded" else None, message=message)
    with session_scope() as session:
        job = session.get(Job, job_id)
        job.status, job.error, job.result, job.finished_at = status, error, result, _now()
        session.add(job)
    return {"status": status, "error": error, "result": result}


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=get_settings().job_workers, thread_name_prefix="job")
        return _executor


def submit(kind: str, params: dict | None, principal: Principal | None) -> int:
    """Create a job and start it in the background; returns the job id at once."""
    job_id = create_job(kind, params, principal)
    _pool().submit(execute, job_id)
    return job_id


def run_foreground(kind: str, params: dict | None, principal: Principal | None,
                   echo: Callable[[str], None] | None = print) -> dict:
    job_id = create_job(kind, params, principal)
    outcome = execute(job_id, echo=echo)
    outcome["job_id"] = job_id
    return outcome


def request_cancel(principal: Principal | None, job_id: int) -> None:
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None or not _may_see(principal, job.created_by):
            raise PermissionDenied(f"No job {job_id} that you can stop.")
        if job.status in ("queued", "running"):
            job.cancel_requested = True
            session.add(job)


def _may_see(principal: Principal | None, owner_id: int | None) -> bool:
    return principal is not None and (principal.role == "admin" or owner_id == principal.id)


def get_job(principal: Principal | None, job_id: int) -> dict | None:
    """A job the principal started (admins: any job); None when there is none they may see."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        return job.model_dump() if job and _may_see(principal, job.created_by) else None


def recent_jobs(principal: Principal | None, limit: int = 20, kind: str | None = None) -> list[dict]:
    """The latest jobs the principal started (admins: everyone's)."""
    if principal is None:
        raise PermissionDenied("Sign in to see jobs.")
    with session_scope() as session:
        query = select(Job).order_by(Job.id.desc()).limit(limit)
        if kind:
            query = query.where(Job.kind == kind)
        if principal.role != "admin":
            query = query.where(Job.created_by == principal.id)
        return [job.model_dump(exclude={"log"}) for job in session.exec(query)]


def fail_orphaned_jobs() -> int:
    """Mark jobs whose process is gone as failed, so nothing shows 'running' forever."""
    failed = 0
    with session_scope() as session:
        for job in session.exec(select(Job).where(Job.status.in_(("queued", "running")))):
            pid = job.owner_pid
            ours = pid == os.getpid() and job.id in _active
            alive_elsewhere = pid is not None and pid != os.getpid() and pid_alive(pid)
            if ours or alive_elsewhere or (job.status == "queued" and pid is None and job.id in _active):
                continue
            if job.status == "queued" and pid is None and _recent(job.created_at):
                continue  # just submitted by a live process, not started yet
            job.status, job.finished_at = "failed", _now()
            job.error = job.error or "Interrupted: the process running this job stopped before it finished."
            session.add(job)
            failed += 1
    return failed


def _recent(created_at: datetime, seconds: float = 60.0) -> bool:
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    return (_now() - created_at).total_seconds() < seconds



def wait_for(job_id: int, timeout_s: float = 60.0, poll_s: float = 0.1) -> dict:
    """Block until a job ends (used by tests and the CLI's --wait)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = _job_row(job_id)
        if job and job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(poll_s)
    raise TimeoutError(f"Job {job_id} did not finish within {timeout_s:.0f} s")


def _job_row(job_id: int) -> dict | None:
    with session_scope() as session:
        job = session.get(Job, job_id)
        return job.model_dump() if job else None
