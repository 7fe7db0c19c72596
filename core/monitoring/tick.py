"""The monitoring tick (core/scheduler.py TICKS): sample resources, collect job problems, evaluate alerts.

The scheduler calls every tick every few seconds; this one does its work at most once per
MONITORING_SAMPLE_SECONDS per process, so the stores are not polled more than the samples need.
It submits no jobs (the scheduler counts submitted jobs from the returned list, so it returns []).
"""

from __future__ import annotations

import logging
import time

from core.config import get_settings

log = logging.getLogger(__name__)
_last_run = 0.0


def run_due() -> list:
    global _last_run
    now = time.monotonic()
    if _last_run and now - _last_run < get_settings().monitoring_sample_seconds:
        return []
    _last_run = now
    run_once()
    return []


def run_once() -> dict:
    """One full pass; each part runs even when another fails (the failure is logged)."""
    from core.monitoring import alerts, logs, resources

    done = {}
    for name, step in (("sample", resources.sample_if_due), ("job_problems", logs.collect_job_problems),
                       ("alerts", alerts.evaluate_everyone)):
        try:
            done[name] = step()
        except Exception:  # noqa: BLE001 - a busy store must not stop the other parts or the scheduler
            log.exception("monitoring tick: %s failed", name)
            done[name] = None
    return done
