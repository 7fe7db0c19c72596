"""One scheduler thread per process for every application's saved schedules.

Each application with schedules exposes a "submit what is due" function that claims due rows with a
compare-and-set UPDATE (so two processes never submit the same run) and submits jobs as the schedule's
owner. This thread only calls those functions every few seconds; the jobs do the work, with progress,
in the job pool. It is started once per process at start-up (pages/_ui.bootstrap), so schedules run
whether or not anyone has the application's page open.
"""

from __future__ import annotations

import importlib
import logging
import threading
from datetime import UTC, datetime

# name -> "module:function"; imported lazily so starting the thread does not import every application.
TICKS = {
    "options snapshots": "core.apps.options.schedule:run_due",
    "news workflows": "core.apps.news.schedules:run_due_schedules",
    "marketplace monitor": "core.apps.listings.monitor.watches:run_due",
    "monitoring": "core.monitoring.tick:run_due",  # resource samples, job problems, alerts
}
POLL_SECONDS = 10.0
log = logging.getLogger(__name__)


def _resolve(target):
    """A tick: a callable, or "module:function" imported on first use."""
    if callable(target):
        return target
    module, function = target.split(":")
    return getattr(importlib.import_module(module), function)


class Scheduler:
    """A daemon thread calling every tick every `poll_seconds` until stopped."""

    def __init__(self, poll_seconds: float = POLL_SECONDS, ticks: dict | None = None):
        self.poll_seconds = poll_seconds
        self.ticks = dict(TICKS if ticks is None else ticks)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self.started_at = datetime.now(UTC)
        self.submitted = 0
        self.errors: dict[str, str] = {}  # tick name -> last error, cleared when the tick works again

    def start(self) -> Scheduler:
        self.thread.start()
        return self

    def tick_once(self) -> None:
        for name, target in self.ticks.items():
            try:
                submitted = _resolve(target)()
                self.submitted += len(submitted or ())
                self.errors.pop(name, None)
            except Exception as exc:  # noqa: BLE001 - a failing tick (store busy, broker down) must not end the loop
                self.errors[name] = f"{type(exc).__name__}: {exc}"
                log.exception("scheduler tick %r failed", name)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.tick_once()
            self._stop.wait(self.poll_seconds)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.thread.join(timeout)

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    def error_of(self, name: str) -> str | None:
        return self.errors.get(name)


_scheduler: Scheduler | None = None
_scheduler_lock = threading.Lock()


def start_scheduler(poll_seconds: float = POLL_SECONDS) -> Scheduler:
    """The process's scheduler, started on first call; later calls (page reruns, new sessions) return it."""
    global _scheduler
    with _scheduler_lock:
        if _scheduler is None or not _scheduler.running:
            _scheduler = Scheduler(poll_seconds).start()
        return _scheduler


def stop_scheduler() -> None:
    """Stop the process's scheduler (tests, shutdown); the next start_scheduler starts a fresh one."""
    global _scheduler
    with _scheduler_lock:
        if _scheduler is not None:
            _scheduler.stop()
            _scheduler = None
