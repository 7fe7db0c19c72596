"""Accuracy and speed of the article and listing extractors on the labelled dev pages.

    python3 bench/bench_extract.py [BENCHDATA_DIR] [--only articles|products] [--misses] [--per-page]

BENCHDATA_DIR defaults to ../shared/benchdata (from the project root). The pages are read where
they are and never copied into the project. Scoring follows the benchdata README exactly.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

from core.sources.extract_eval import (  # noqa: E402  (import after making the project importable)
    ArticleRun,
    ListingRun,
    PageResult,
    run_article_benchmark,
    run_listing_benchmark,
)

TARGETS = {"article text": 0.95, "price": 0.85, "availability": 0.9, "sku": 0.7}
DEFAULT_BENCHDATA = PROJECT_ROOT.parent / "shared" / "benchdata"


def _print_page_times(pages: list[PageResult]) -> None:
    for page in sorted(pages, key=lambda p: -p.seconds):
        print(f"    {page.seconds * 1000:7.1f} ms  {page.page_id[:10]}  {page.url}")


def _timing_line(pages: list[PageResult]) -> str:
    milliseconds = sorted(page.seconds * 1000 for page in pages)
    p95 = milliseconds[min(len(milliseconds) - 1, int(round(0.95 * (len(milliseconds) - 1))))]
    return (f"  time per page: mean {statistics.fmean(milliseconds):.1f} ms, median "
            f"{statistics.median(milliseconds):.1f} ms, p95 {p95:.1f} ms, max {milliseconds[-1]:.1f} ms "
            f"({len(pages)} pages)")


def _target_note(name: str, f1: float) -> str:
    target = TARGETS.get(name)
    if target is None:
        return ""
    return f"  target >= {target:.2f} {'OK' if f1 >= target else 'BELOW TARGET'}"


def report_articles(run: ArticleRun, show_misses: bool, per_page: bool) -> None:
    scores = run.scores
    print(f"articles-dev: text precision {scores.precision:.4f} recall {scores.recall:.4f} "
          f"F1 {scores.f1:.4f}{_target_note('article text', scores.f1)}")
    print(_timing_line(run.pages))
    if per_page:
        _print_page_times(run.pages)
    if show_misses:
        for page in sorted(run.pages, key=lambda p: p.outcome["precision"] + p.outcome["recall"]):
            if min(page.outcome.values()) < 0.9:
                print(f"    {page.page_id[:10]} P {page.outcome['precision']:.2f} "
                      f"R {page.outcome['recall']:.2f} {page.seconds * 1000:.0f} ms {page.url}")


def report_listings(run: ListingRun, show_misses: bool, per_page: bool) -> None:
    print("products-dev: per-field scores (tp/fp/fn summed over pages)")
    print(f"  {'field':<14}{'precision':>10}{'recall':>9}{'F1':>8}{'tp':>5}{'fp':>5}{'fn':>5}")
    for name, counts in run.counts.items():
        label = name + ("*" if name == "currency" else "")
        print(f"  {label:<14}{counts.precision:>10.3f}{counts.recall:>9.3f}{counts.f1:>8.3f}"
              f"{counts.tp:>5}{counts.fp:>5}{counts.fn:>5}{_target_note(name, counts.f1)}")
    print("  * currency: ground-truth symbols mapped to ISO 4217 before the exact match (we output codes)")
    print(_timing_line(run.pages))
    if per_page:
        _print_page_times(run.pages)
    if show_misses:
        for page in run.pages:
            misses = {name: outcome for name, outcome in page.outcome.items() if outcome not in ("tp", "tn")}
            for name, outcome in misses.items():
                print(f"    {page.page_id[:10]} {name:<12} {outcome:<6} got {page.predicted.get(name)!r} "
                      f"want {page.expected.get(name)!r}  {page.url}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchdata", nargs="?", default=str(DEFAULT_BENCHDATA),
                        help="benchmark data directory holding articles-dev/ and products-dev/")
    parser.add_argument("--only", choices=("articles", "products"), help="run one of the two sets")
    parser.add_argument("--misses", action="store_true", help="list every page/field that was not right")
    parser.add_argument("--per-page", action="store_true", help="list the extraction time of every page")
    args = parser.parse_args(argv)
    benchdata = Path(args.benchdata)
    if not benchdata.is_dir():
        print(f"benchmark data directory not found: {benchdata}", file=sys.stderr)
        return 2
    if args.only in (None, "articles"):
        report_articles(run_article_benchmark(benchdata / "articles-dev"), args.misses, args.per_page)
    if args.only in (None, "products"):
        report_listings(run_listing_benchmark(benchdata / "products-dev"), args.misses, args.per_page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
