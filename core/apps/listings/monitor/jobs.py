"""The `monitor_pass` job: one pass over a watched source, as the user who started it (or saved the watch)."""

from __future__ import annotations

from core.apps.listings.monitor.passes import run_pass
from core.store.jobs import JobContext, job_function


@job_function("monitor_pass")
def monitor_pass_job(ctx: JobContext, params: dict) -> dict:
    """params: {"watch_id": id}. The result names the pass; its events are read from the pass."""
    outcome = run_pass(ctx, int(params["watch_id"]))
    return {key: value for key, value in outcome.items() if key != "event_ids"}
