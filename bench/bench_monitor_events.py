"""Marketplace monitor events on the local demo shop: precision and recall against planted changes.

A scripted sequence of passes over demo-marketplace, each through the `monitor_pass` job as the app runs it
(polite crawl with conditional requests, raw store, SQL): a baseline, an unchanged pass, a shuffled pass,
price drops on a shuffled index, relists with reworded titles, sales and restocks, removals, then random
rounds mixing everything. Every event a pass reports is compared with what was planted.

    .venv/bin/python bench/bench_monitor_events.py [--rounds 8] [--seed 7] [--scale 1.0]

Targets: precision 1.0, recall 1.0.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections import Counter

os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="bench-monitor-"))

RELIST_TITLES = ("{title} - reduced, must go", "Relisted: {title}", "{title} (price drop, urgent)",
                 "{colour} {rest}", "{title} - again available")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=8, help="random rounds after the scripted passes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.0, help="demo shop size (1.0: 96 items)")
    args = parser.parse_args()

    from core.apps.listings.monitor.changes import listing_key
    from core.apps.listings.monitor.demo import plant_changes
    from core.apps.listings.monitor.inbox import pass_events
    from core.apps.listings.monitor.watches import save_watch
    from core.auth import demo_principal
    from core.bootstrap import init_workbench
    from core.sources import jobs as source_jobs
    from core.sources.demo_web import DemoSites
    from core.store.jobs import run_foreground

    init_workbench()
    source_jobs._demo_sites = DemoSites.start(seed=args.seed, scale=args.scale)
    admin = demo_principal("admin")
    source_jobs.register_demo_sources(admin)
    watch = save_watch(admin, "demo-marketplace", enabled=False, notify_all=True)
    shop = source_jobs.demo_sites().hosts["marketplace"].site
    rng = random.Random(args.seed)
    totals = Counter()
    per_kind: dict[str, Counter] = {}
    timings = []

    def run_pass(name: str, planted: list[tuple[str, str]]) -> None:
        started = time.perf_counter()
        outcome = run_foreground("monitor_pass", {"watch_id": watch["id"]}, admin, echo=None)
        timings.append(time.perf_counter() - started)
        if outcome["status"] != "succeeded":
            raise SystemExit(f"pass {name} failed: {outcome['error']}")
        found = {(e["kind"], listing_key(e["url"])) for e in pass_events(admin, outcome["result"]["pass_id"])}
        expected = {(kind, key) for kind, key in planted if kind != "none"}
        hits = found & expected
        totals.update(found=len(found), expected=len(expected), hits=len(hits))
        for kind, _ in found | expected:
            per_kind.setdefault(kind, Counter())
        for kind, _ in found:
            per_kind[kind]["found"] += 1
        for kind, _ in expected:
            per_kind[kind]["expected"] += 1
        for kind, _ in hits:
            per_kind[kind]["hits"] += 1
        wrong = sorted(found - expected)
        missed = sorted(expected - found)
        status = "ok" if not wrong and not missed else f"WRONG {wrong} MISSED {missed}"
        print(f"{name:<38} expected {len(expected):>3}  found {len(found):>3}  "
              f"{timings[-1]:6.2f} s  {status}")

    run_pass("baseline", [])
    run_pass("unchanged", [])
    shop.shuffle(1)
    run_pass("shuffled index", [])
    listed = [n for n in shop.listed_numbers() if shop.current(n).price is not None]
    drops = rng.sample(listed, 3)
    for number in drops:
        shop.drop_price(number, 0.15)
    shop.shuffle(2)
    run_pass("price drops on a shuffled index", [("price_drop", f"/item/{n}.html") for n in drops])
    planted = []
    for template in RELIST_TITLES:
        candidates = [n for n in shop.listed_numbers()
                      if shop.current(n).price is not None and n not in drops and shop.current(n).relist_of is None]
        number = rng.choice(candidates)
        item = shop.current(number)
        rest = item.title.rsplit(", ", 1)[0]
        title = template.format(title=item.title, colour=item.colour.capitalize(), rest=rest)
        planted.append(("relist", f"/item/{shop.relist(number, title=title)}.html"))
    run_pass("relists with reworded titles", planted)
    in_stock = [n for n in shop.listed_numbers() if shop.current(n).availability != "OutOfStock"]
    sold = rng.sample(in_stock, 3)
    for number in sold:
        shop.set_in_stock(number, False)
    run_pass("three sell out (no event)", [])
    for number in sold:
        shop.set_in_stock(number, True)
    run_pass("back in stock", [("back_in_stock", f"/item/{n}.html") for n in sold])
    removed = rng.sample(shop.listed_numbers(), 3)
    for number in removed:
        shop.remove(number)
    run_pass("removals", [("gone", f"/item/{n}.html") for n in removed])
    run_pass("unchanged again", [])
    for round_number in range(1, args.rounds + 1):
        run_pass(f"random round {round_number}", plant_changes(shop, rng))

    precision = totals["hits"] / totals["found"] if totals["found"] else 1.0
    recall = totals["hits"] / totals["expected"] if totals["expected"] else 1.0
    print()
    for kind, counts in sorted(per_kind.items()):
        print(f"  {kind:<14} expected {counts['expected']:>3}  found {counts['found']:>3}  correct {counts['hits']:>3}")
    print(f"\nshop: {shop.count} generated items; passes: {len(timings)}, "
          f"median {sorted(timings)[len(timings) // 2]:.2f} s, baseline {timings[0]:.2f} s")
    print(f"events: precision {precision:.3f}, recall {recall:.3f} "
          f"({totals['hits']} correct of {totals['found']} reported, {totals['expected']} planted)")
    source_jobs.demo_sites().stop()
    return 0 if precision == 1.0 and recall == 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
