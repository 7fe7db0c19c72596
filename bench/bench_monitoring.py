"""Monitoring at scale: how long the Monitoring page's queries take on a busy workbench.

In a fresh DATA_DIR: a dataset of N items with 10 planted refinement runs (2 sources), 5,000 finished jobs,
20,000 log entries; then times quality_over_time, pipeline_stats, log search, the log handler's write rate,
one resource sample and one alert evaluation (median of 3). Prints figures; targets: each query < 1.5 s
(the page stays usable), the handler takes > 2,000 records/s without blocking callers.

    python bench/bench_monitoring.py --items 2000
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the planted-data helpers the monitoring tests use; tests/ is not an installed package
sys.path.insert(0, str(ROOT / "tests"))


def timed(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--logs", type=int, default=20000)
    args = parser.parse_args()
    os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="bench-monitoring-") + "/data"

    from datetime import UTC, datetime

    from monitoring_fixtures import add_items, finish_planted_run, listing_rows, plant_job
    from principals import new_user

    from core.bootstrap import init_workbench
    from core.monitoring import alerts, logs, pipeline, quality, resources

    init_workbench()
    owner = new_user("supplier")
    dataset = add_items(owner, "bench-flats", listing_rows(args.items // 2, seed=1), source="feed-a")
    add_items(owner, "bench-flats", listing_rows(args.items // 2, seed=2), source="feed-b")
    for seed in range(10):
        finish_planted_run(dataset, kept_share=0.8 if seed < 9 else 0.5, seed=seed)
    for i in range(args.jobs):
        plant_job(owner, "refine" if i % 3 else "scrape", "failed" if i % 17 == 0 else "succeeded", 5 + i % 50,
                  params={"dataset": f"d{i % 20}"}, result={"input": 100 + i % 400})
    logs.write_logs([{"key": f"bench:{i}", "ts": datetime.now(UTC), "level": "WARNING" if i % 5 else "ERROR",
                      "level_no": 30 if i % 5 else 40, "origin": "bench", "owner_id": owner.id,
                      "message": f"bench entry {i} about host{i % 100}.example timeout"} for i in range(args.logs)])

    runs = quality.quality_over_time(owner, "bench-flats")["runs"]
    print(f"quality_over_time, 10 runs x {args.items:,} items, 2 sources: "
          f"{timed(lambda: quality.quality_over_time(owner, 'bench-flats')):.3f} s "
          f"({sum(map(bool, runs['changes']))} marked rows)")
    print(f"pipeline_stats over {args.jobs:,} jobs: {timed(lambda: pipeline.pipeline_stats(owner)):.3f} s")
    print(f"log search (words, {args.logs:,} entries): "
          f"{timed(lambda: logs.search_logs(owner, text='host42.example')):.3f} s")
    print(f"log search (level ERROR, newest 500): {timed(lambda: logs.search_logs(owner, level='ERROR')):.3f} s")
    print(f"one resource sample (psutil + store sizes): {timed(resources.record_sample):.3f} s")
    print(f"alert evaluation (default rules): {timed(lambda: alerts.evaluate_alerts(owner)):.3f} s")

    handler = logs.install_log_handler()
    logger = logging.getLogger("bench.monitoring")
    started = time.perf_counter()
    for i in range(5000):
        logger.warning("bench handler record %d", i)
    caller_s = time.perf_counter() - started
    handler.flush(timeout_s=120)
    total_s = time.perf_counter() - started
    logs.remove_log_handler()
    print(f"log handler: 5,000 warnings cost callers {caller_s * 1e6 / 5000:.0f} us each; stored at "
          f"{5000 / total_s:,.0f} records/s")
    print(f"logs collection after pruning to {logs.get_settings().monitoring_log_max_entries:,}: "
          f"{logs.logs_collection().estimated_document_count():,} entries")


if __name__ == "__main__":
    main()
