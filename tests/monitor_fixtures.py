"""Helpers for the marketplace monitor tests: a demo shop of the test's own, watched by a given user."""

from __future__ import annotations

import uuid

from core.apps.listings.monitor.inbox import pass_events
from core.apps.listings.monitor.watches import save_watch
from core.sources.demo_web.configs import MARKETPLACE_RECIPE
from core.sources.registry import save_source
from core.store.jobs import run_foreground


def shop_config(sites) -> dict:
    return {"urls": [f"{sites.marketplace_url}/listings?page=1"], "recipe": MARKETPLACE_RECIPE,
            "next_page_selector": "nav.pagination a.next", "detail_link_selector": "a.listing-link",
            "max_pages": 2000, "per_host_delay_s": 0.0}


def watched_shop(owner, sites, notify_all: bool = False, prefix: str = "shop") -> tuple[str, dict]:
    """A listing source of `owner` over the test's demo shop, and its (unscheduled) watch."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    save_source(owner, name, "marketplace", "listing_index", shop_config(sites), license="CC-BY-4.0")
    return name, save_watch(owner, name, enabled=False, notify_all=notify_all)


def run_pass(principal, watch_id: int) -> tuple[dict, list[dict]]:
    """One pass through the job runner, as the app runs it: (job result, the pass's events)."""
    outcome = run_foreground("monitor_pass", {"watch_id": watch_id}, principal, echo=None)
    assert outcome["status"] == "succeeded", outcome["error"]
    return outcome["result"], pass_events(principal, outcome["result"]["pass_id"])


def kinds_and_paths(events: list[dict]) -> set[tuple[str, str]]:
    return {(e["kind"], "/" + e["url"].split("/", 3)[3]) for e in events}
