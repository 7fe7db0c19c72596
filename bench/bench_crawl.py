"""Crawl throughput and memory on the local demo sites (three hosts, robots obeyed, Crawl-delay 0).

    python3 bench/bench_crawl.py [--pages 5000] [--seed 7]

The demo servers run in a child process so their CPU does not count against the crawler's; the
three sources (news sitemap, marketplace index, property index) are crawled at the same time,
each with the default FetchPolicy except per_host_delay_s=0 (robots.txt asks for 0). Every page
goes through extraction (trafilatura for articles, the listing extractor for listings), as in the
app. Targets: >= 100 pages/s, peak RSS < 500 MB for 5,000 pages.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import threading
import time
from pathlib import Path

from core.sources.allowlist import parse_endpoint
from core.sources.crawl import crawl_source
from core.sources.demo_web import DemoSites, demo_source_configs
from core.sources.fetch import FetchPolicy

PROJECT_ROOT = Path(__file__).resolve().parents[1]

PAGES_PER_SCALE = 218  # pages of the three crawled sources at scale 1.0 (counted from a run)
TARGET_PAGES_PER_S = 100
TARGET_RSS_MB = 500


class _Urls:
    def __init__(self, urls: dict[str, str]):
        self.news_url, self.marketplace_url, self.property_url = (
            urls["news"],
            urls["marketplace"],
            urls["property"],
        )


def _serve(seed: int, scale: float, connection, stop_event) -> None:
    with DemoSites.start(seed=seed, scale=scale) as sites:
        connection.send(sites.base_urls)
        stop_event.wait()


def _peak_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # kilobytes on Linux


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=5000, help="about how many pages to crawl")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    scale = args.pages / PAGES_PER_SCALE

    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    stop_event = context.Event()
    server = context.Process(target=_serve, args=(args.seed, scale, send, stop_event), daemon=True)
    server.start()
    urls = receive.recv()
    configs = [
        c for c in demo_source_configs(_Urls(urls)) if c["kind"] != "feed"
    ]  # the feed repeats the sitemap
    # The sites run in the child, so their runtime allow-list entries live there: allow exactly their
    # host:port pairs here, as an operator would with NETWORK_ALLOWLIST.
    demo_endpoints = frozenset(parse_endpoint(url.split("://", 1)[1]) for url in urls.values())
    policy = FetchPolicy(per_host_delay_s=0, allowed_endpoints=demo_endpoints)
    print(
        f"demo sites at scale {scale:.1f} on {', '.join(urls.values())}; "
        f"policy: obey_robots={policy.obey_robots}, per_host_concurrency={policy.per_host_concurrency}, "
        f"total_concurrency={policy.total_concurrency} per source"
    )

    stored = {"documents": 0, "bytes": 0}
    lock = threading.Lock()

    def sink(batch: list[dict]) -> None:
        with lock:
            stored["documents"] += len(batch)
            stored["bytes"] += sum(len(doc["raw_content"]) for doc in batch)

    reports = {}

    def crawl(config: dict) -> None:
        reports[config["source_id"]] = crawl_source(config, policy, sink)

    started = time.perf_counter()
    cpu_started = time.process_time()
    threads = [threading.Thread(target=crawl, args=(config,)) for config in configs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    stop_event.set()
    server.join(timeout=10)

    pages = sum(report.pages_fetched for report in reports.values())
    for source_id, report in reports.items():
        print(
            f"  {source_id:20s} pages={report.pages_fetched:5d} documents={report.documents:5d} "
            f"errors={len(report.errors)} robots_skipped={report.skipped_by_robots} {report.elapsed_s:.1f}s"
        )
    rate = pages / elapsed
    crawler_rss = _peak_rss_mb(resource.RUSAGE_SELF)
    print(
        f"pages fetched: {pages} in {elapsed:.1f}s wall, {cpu:.1f}s crawler CPU "
        f"({stored['documents']} documents, {stored['bytes'] / 1e6:.1f} MB of text to the sink)"
    )
    print(
        f"throughput: {rate:.1f} pages/s (target >= {TARGET_PAGES_PER_S}) "
        f"{'OK' if rate >= TARGET_PAGES_PER_S else 'BELOW TARGET'}"
    )
    print(
        f"peak RSS crawler process: {crawler_rss:.0f} MB (target < {TARGET_RSS_MB}) "
        f"{'OK' if crawler_rss < TARGET_RSS_MB else 'ABOVE TARGET'}; "
        f"demo server process: {_peak_rss_mb(resource.RUSAGE_CHILDREN):.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
