"""Scraping as a background job: crawl saved sources (or the local demo sites) into the raw store.

Every fetched page is stored as soon as its batch arrives, so an interrupted run keeps what it
already collected, and a rerun adds only new or changed pages (a new content hash is a new version).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from core.auth import PermissionDenied, Principal
from core.config import get_settings
from core.safe_names import slug_from
from core.sources.ingest import ensure_dataset, store_documents
from core.sources.registry import get_source, save_source
from core.store import lake
from core.store.jobs import JobContext, job_function

if TYPE_CHECKING:
    from core.sources.crawl import CrawlReport

DEMO_LICENSE = "CC-BY-4.0"
_demo_lock = threading.Lock()
_demo_servers: dict[str, object] = {}


def _started_once(name: str, start):
    """A demo server started once per process (under a lock: two jobs may ask at the same moment)."""
    with _demo_lock:
        if name not in _demo_servers:
            _demo_servers[name] = start()
        return _demo_servers[name]


def demo_sites():
    """The local demo web sites, started once per process on loopback ports."""
    from core.sources.demo_web import DemoSites

    return _started_once("web", DemoSites.start)


def demo_social():
    """The local demo Mastodon and Bluesky servers, started once per process on loopback ports."""
    from core.sources.demo_web.social import DemoSocial

    return _started_once("social", DemoSocial.start)


def register_demo_social_sources(principal: Principal) -> list[str]:
    """Save the demo social servers' sources (app "social") for the principal, as for the demo sites."""
    from core.sources.demo_web.social import demo_social_configs

    names = []
    for config in demo_social_configs(demo_social()):
        name = config.pop("source_id")
        try:
            save_source(principal, name, "social", "social", {**config, "dataset": "demo-social",
                                                                "per_host_delay_s": 0.0})
        except PermissionDenied:
            raise PermissionDenied("The demo social sources belong to the account that first collected them; "
                                   "sign in as that account (or an admin) to collect them again.") from None
        names.append(name)
    return names


def fetch_policy(source: dict):
    from core.sources.allowlist_admin import workbench_allowlist
    from core.sources.fetch import FetchPolicy

    settings = get_settings()
    return FetchPolicy.from_settings(
        settings, obey_robots=settings.scraper_obey_robots and not source.get("robots_override"),
        # A source may set its own delay (the demo sites ask for none in their robots.txt and config).
        per_host_delay_s=float(source["config"].get("per_host_delay_s", settings.scraper_per_host_delay_s)),
        # Private hosts only from the allow-list (settings + admin entries; the demo sites add their own ports).
        allowed_endpoints=workbench_allowlist(),
    )


def register_demo_sources(principal: Principal) -> list[str]:
    """Save the demo sites' crawl configs as sources of the principal who first scrapes them.

    Their owner (or an admin) scrapes them again later; another supplier is told they are taken.
    """
    from core.sources.demo_web import demo_source_configs

    names = []
    for config in demo_source_configs(demo_sites()):
        name = config["source_id"]
        try:
            save_source(principal, name, config["app"], config["kind"],
                        {**{k: v for k, v in config.items() if k not in ("app", "kind")},
                         "dataset": f"demo-{config['app']}", "per_host_delay_s": 0.0},
                        license=DEMO_LICENSE)  # reachable because the running demo sites allow their own ports
        except PermissionDenied:
            raise PermissionDenied("The demo sources belong to the account that first scraped them; sign in as "
                                   "that account (or an admin) to scrape them again.") from None
        names.append(name)
    return names


def crawl_saved_source(ctx: JobContext, name: str, share: tuple[float, float]) -> dict:
    return collect_source(ctx, name, share)[0]


def collect_source(ctx: JobContext, name: str, share: tuple[float, float],
                   observe: Callable[[list[dict]], None] | None = None) -> tuple[dict, CrawlReport]:
    """Crawl one saved source into the raw store: (summary, crawl report).

    `observe` sees every batch of documents the crawl hands over (already stored, unchanged ones too), so
    a marketplace monitor pass reads the same crawl as a scrape instead of crawling twice.
    """
    from core.sources.crawl import crawl_source

    source = get_source(ctx.principal, name)
    if source["config"].get("login_required"):
        raise ValueError(f"{name} needs a login on its site and is never crawled; import your own exported "
                         "HTML or JSON files for it on the Marketplace monitor page.")
    app = source["app"]
    # The records belong to the source's owner, also when an admin started the scrape.
    # Source names may hold spaces or ':'; the dataset name becomes a directory, so it is derived as a slug.
    dataset = ensure_dataset(ctx.principal, source["config"].get("dataset") or slug_from(name, "dataset name"), app,
                             license=source["license"], origin="web", attested=True, owner_id=source["created_by"])
    cache_path = lake.zone_path("raw", "http-cache", f"{source['id']}.json")
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    totals = {"stored_new": 0, "already_present": 0, "items": 0}
    start, width = share

    def sink(documents: list[dict]) -> None:
        for doc in documents:
            doc.setdefault("metadata", {})["job_id"] = ctx.job_id
            doc["metadata"].setdefault("license", source["license"])
        new, present, rejected, items = store_documents(app, dataset["id"], documents)
        totals["stored_new"] += new
        totals["already_present"] += present
        totals["items"] += items
        for position, why in rejected:
            ctx.log(f"rejected {documents[position].get('url')}: {why}")
        if observe is not None:
            observe(documents)

    def progress(fraction: float, message: str) -> None:
        ctx.progress(start + width * fraction, f"{name}: {message}")

    config = {**source["config"], "source_id": name, "app": app, "kind": source["kind"]}
    if source["kind"] == "social":  # public posts through a platform's API, not pages (social_collect.py)
        from core.sources.social_collect import collect_social_source

        report = collect_social_source(config, fetch_policy(source), sink, str(source["id"]), progress=progress,
                                       should_stop=ctx.should_stop)
    else:
        report = crawl_source(config, fetch_policy(source), sink, progress=progress, should_stop=ctx.should_stop,
                              conditional_cache=cache)
    lake.write_json(cache, cache_path)
    for url, reason in report.errors[:500]:
        ctx.log(f"error {url}: {reason}")
    ctx.log(f"{name}: {report.pages_fetched} pages, {totals['stored_new']} new, {totals['already_present']} "
            f"unchanged, {report.not_modified} not modified, {len(report.errors)} errors")
    return {"pages": report.pages_fetched, "errors": len(report.errors), "not_modified": report.not_modified,
            "skipped_by_robots": report.skipped_by_robots, **totals}, report


@job_function("scrape")
def scrape_job(ctx: JobContext, params: dict) -> dict:
    """params: {"sources": [names]}, {"demo": true} or {"demo_social": true}; "user_id" of who started it."""
    names = list(params.get("sources") or [])
    if params.get("demo"):
        names = register_demo_sources(ctx.principal)
        ctx.log(f"Demo sites running: {', '.join(names)}")
    if params.get("demo_social"):
        social_names = register_demo_social_sources(ctx.principal)
        names += social_names
        ctx.log(f"Demo social servers running: {', '.join(social_names)}")
    if not names:
        raise ValueError("Choose at least one source to scrape.")
    results = {}
    for index, name in enumerate(names):
        ctx.check_cancelled()
        results[name] = crawl_saved_source(ctx, name, (index / len(names), 1 / len(names)))
    return {"sources": results, "stored_new": sum(r["stored_new"] for r in results.values()),
            "pages": sum(r["pages"] for r in results.values())}
