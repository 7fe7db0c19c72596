"""Warnings and errors in one searchable, bounded MongoDB collection (`workbench_monitoring.logs`).

Two feeds:
- a `logging.Handler` attached to the root logger at start-up (core/logging_setup.configure_logging calls
  `install_log_handler`): every WARNING or worse from the workbench's code and libraries, with the
  user and job it ran for when the code bound them (`bound_to`); unbound records are the system's and
  only admins see them;
- `collect_job_problems`, run by the monitoring tick: a failed job's error and the problem lines of a
  job's log (errors, rejections, warnings), owned by the job's submitter, so suppliers see their own.

Bounded by count, not with a capped collection: the embedded nx-27017 server accepts `capped=True`
but does not enforce it (checked: 20 documents stayed in a collection capped at 5), so the oldest
entries beyond `MONITORING_LOG_MAX_ENTRIES` are deleted after writes (once they overflow it by 5%,
so most writes skip the walk to the boundary).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import queue
import re
import threading
import time
import uuid
from datetime import UTC, datetime

import pandas as pd
import pymongo
from pymongo.errors import BulkWriteError, PyMongoError
from sqlmodel import select

from core import tenancy
from core.auth import Principal
from core.config import get_settings
from core.store.models import Job
from core.store.sql import session_scope

MONITORING_DB = "workbench_monitoring"  # outside the raw store's `dbw_` prefix: not an application's documents
LOGS = "logs"
STATE = "state"
LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
PROBLEM_LINE = re.compile(r"\b(error|errors|rejected|warning|failed|traceback)\b", re.IGNORECASE)
ZERO_PROBLEMS = re.compile(r"\b0 errors\b", re.IGNORECASE)
MAX_LINES_PER_JOB = 20
# Loggers whose records would recurse (the driver logging its own writes) or only add noise.
IGNORED_LOGGERS = ("pymongo", "core.monitoring.logs")

_binding: contextvars.ContextVar[dict | None] = contextvars.ContextVar("monitoring_log_binding", default=None)
log = logging.getLogger(__name__)
_indexed: set[int] = set()
_index_lock = threading.Lock()


def _database():
    from core.store.raw import get_raw_store

    return get_raw_store().client[MONITORING_DB]


def logs_collection():
    """The logs collection, indexed on first use in this process."""
    collection = _database()[LOGS]
    key = id(collection.database.client)
    if key not in _indexed:
        with _index_lock:
            if key not in _indexed:
                collection.create_index([("ts", pymongo.DESCENDING)])
                collection.create_index([("owner_id", pymongo.ASCENDING)])
                collection.create_index([("key", pymongo.ASCENDING)], unique=True)
                _indexed.add(key)
    return collection


# -- writing ------------------------------------------------------------------------------------
@contextlib.contextmanager
def bound_to(user_id: int | None, job_id: int | None = None):
    """Records logged inside belong to this user (and job): their owner sees them on the Monitoring page."""
    token = _binding.set({"owner_id": user_id, "job_id": job_id})
    try:
        yield
    finally:
        _binding.reset(token)


def write_logs(entries: list[dict]) -> int:
    """Insert entries (each needs a unique `key`); an entry already present is skipped. Returns how many were new."""
    if not entries:
        return 0
    collection = logs_collection()
    try:
        inserted = len(collection.insert_many(entries, ordered=False).inserted_ids)
    except BulkWriteError as exc:
        inserted = exc.details.get("nInserted", 0)
    prune_logs()
    return inserted


def prune_logs(max_entries: int | None = None) -> int:
    """Delete the oldest entries beyond `max_entries` (MONITORING_LOG_MAX_ENTRIES) once they overflow it by 5%;
    returns how many went."""
    limit = max_entries or get_settings().monitoring_log_max_entries
    collection = logs_collection()
    # Finding the boundary walks `limit` ids on the embedded server, so prune only once the overflow is
    # worth it (5%): the collection stays within limit * 1.05 and most writes skip the walk.
    if collection.estimated_document_count() <= limit + limit // 20:
        return 0
    # ObjectIds grow with time, so the newest `limit` entries are the first `limit` ids in descending order.
    boundary = list(collection.find({}, {"_id": 1}).sort("_id", pymongo.DESCENDING).skip(limit).limit(1))
    if not boundary:
        return 0
    return collection.delete_many({"_id": {"$lte": boundary[0]["_id"]}}).deleted_count


class MongoLogHandler(logging.Handler):
    """Queues WARNING-or-worse records for a writer thread that stores them in the logs collection.

    `emit` never does I/O: it runs under the handler's lock in whatever thread logged, and a database call
    there could wait on a driver thread that is itself waiting to log (a deadlock). Records from the driver
    and from this module are filtered out before the lock, so the writer never feeds itself. When the
    queue is full (the store is down or slow), records are dropped rather than slowing the caller.
    """

    def __init__(self, level: int = logging.WARNING, max_queued: int = 10_000):
        super().__init__(level)
        self.addFilter(lambda record: not record.name.startswith(IGNORED_LOGGERS))
        self.queue: queue.Queue[dict | None] = queue.Queue(max_queued)
        self.dropped = 0
        self._writer = threading.Thread(target=self._write_loop, name="monitoring-logs", daemon=True)
        self._writer.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            binding = _binding.get() or {}
            self.queue.put_nowait({
                "key": f"log:{uuid.uuid4().hex}", "ts": datetime.fromtimestamp(record.created, UTC),
                "level": record.levelname, "level_no": record.levelno, "logger": record.name, "origin": "logging",
                "message": message[:5000], "owner_id": binding.get("owner_id"), "job_id": binding.get("job_id")})
        except queue.Full:
            self.dropped += 1
        except Exception:  # noqa: BLE001 - the logging module's own convention: report, never raise
            self.handleError(record)

    def _write_loop(self) -> None:
        while True:
            first = self.queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < 500:
                try:
                    entry = self.queue.get_nowait()
                except queue.Empty:
                    break
                if entry is None:
                    self.queue.put(None)  # stop after this batch
                    break
                batch.append(entry)
            try:
                write_logs(batch)
            except Exception:  # noqa: BLE001 - a store that is down loses these entries, not the process
                log.debug("could not store %d log entries", len(batch), exc_info=True)
            finally:
                for _ in batch:
                    self.queue.task_done()

    def flush(self, timeout_s: float = 10.0) -> None:
        """Wait until queued records are stored (tests, shutdown)."""
        deadline = time.monotonic() + timeout_s
        while self.queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)

    def close(self) -> None:
        self.flush()
        self.queue.put(None)
        super().close()


_handler: MongoLogHandler | None = None
_handler_lock = threading.Lock()


def install_log_handler() -> MongoLogHandler:
    """Attach the handler to the root logger once per process (start-up calls this)."""
    global _handler
    with _handler_lock:
        if _handler is None:
            _handler = MongoLogHandler()
            logging.getLogger().addHandler(_handler)
        return _handler


def remove_log_handler() -> None:
    global _handler
    with _handler_lock:
        if _handler is not None:
            logging.getLogger().removeHandler(_handler)
            _handler.close()
            _handler = None


# -- jobs' problems -----------------------------------------------------------------------------
def collect_job_problems(limit_jobs: int = 500) -> int:
    """Copy the problems of jobs finished since the last pass into the logs; returns entries added."""
    state = _database()[STATE]
    mark = state.find_one({"_id": "jobs"}) or {}
    after_id = int(mark.get("last_job_id", 0))
    with session_scope() as session:
        rows = session.exec(select(Job).where(Job.id > after_id, Job.status.in_(("succeeded", "failed")))
                            .order_by(Job.id).limit(limit_jobs)).all()
        jobs = [job.model_dump() for job in rows]
        # A job still running below the mark would be skipped forever; stop the mark before the first one.
        unfinished = session.exec(select(Job.id).where(Job.id > after_id, Job.status.in_(("queued", "running")))
                                  .order_by(Job.id)).first()
    if unfinished is not None:
        jobs = [job for job in jobs if job["id"] < unfinished]
    entries = [entry for job in jobs for entry in job_problem_entries(job)]
    added = write_logs(entries)
    if jobs:
        state.replace_one({"_id": "jobs"}, {"_id": "jobs", "last_job_id": jobs[-1]["id"]}, upsert=True)
    return added


def job_problem_entries(job: dict) -> list[dict]:
    """Log entries for one finished job: its error, and the problem lines of its log."""
    moment = job.get("finished_at") or job.get("created_at") or datetime.now(UTC)
    base = {"ts": moment, "logger": f"job.{job['kind']}", "origin": "job", "owner_id": job.get("created_by"),
            "job_id": job["id"], "kind": job["kind"]}
    entries = []
    if job["status"] == "failed":
        entries.append({**base, "key": f"job:{job['id']}:error", "level": "ERROR", "level_no": 40,
                        "message": f"{job['kind']} job {job['id']} failed: {job.get('error') or 'no reason recorded'}"})
    problems = [line for line in (job.get("log") or "").splitlines()
                if PROBLEM_LINE.search(line) and not ZERO_PROBLEMS.search(line)]
    for number, line in enumerate(problems[:MAX_LINES_PER_JOB]):
        entries.append({**base, "key": f"job:{job['id']}:line:{number}", "level": "WARNING", "level_no": 30,
                        "message": f"{job['kind']} job {job['id']}: {line.strip()[:2000]}"})
    return entries


# -- reading ------------------------------------------------------------------------------------
def search_logs(principal: Principal | None, *, level: str = "WARNING", text: str = "",
                since: datetime | None = None, until: datetime | None = None, limit: int = 500) -> pd.DataFrame:
    """Entries at `level` or worse, newest first: a supplier's own jobs' and actions', every entry for an admin."""
    tenancy.require_supplier(principal, "see logs")
    if level.upper() not in LEVELS:
        raise ValueError(f"Level must be one of {', '.join(LEVELS)}, not {level!r}.")
    query: dict = {"level_no": {"$gte": LEVELS[level.upper()]}}
    if not tenancy.sees_everything(principal):
        query["owner_id"] = principal.id
    if text.strip():
        query["message"] = {"$regex": re.escape(text.strip()), "$options": "i"}
    window = {k: v for k, v in (("$gte", since), ("$lte", until)) if v is not None}
    if window:
        query["ts"] = window
    columns = ["ts", "level", "origin", "logger", "job_id", "owner_id", "message"]
    try:
        found = list(logs_collection().find(query, {c: 1 for c in columns} | {"_id": 0})
                     .sort("ts", pymongo.DESCENDING).limit(int(limit)))
    except PyMongoError as exc:
        raise RuntimeError(f"The logs could not be read from MongoDB: {exc}") from exc
    return pd.DataFrame(found, columns=columns)
