"""Property valuation accuracy and interval coverage on Ames sales, and investment-scenario speed.

    python bench/bench_property_valuation.py [../shared/benchdata/ames-dev.csv] [--test-share 0.25]
        [--time-budget 120] [--level 0.8] [--seed 0]

Accuracy: the file is split once into sales for training and sales held back (never seen by training, model
selection or the interval calibration); the product's `train_valuation` (ML Lab model + conformal interval)
trains on the first part in a scratch DATA_DIR, then every held-back sale is valued with `estimate_for_fields`'
path (`value_frame`). Prints MAE, MAPE, RMSE of log price, the interval's coverage of the held-back sales
(target: the nominal level) and its median width. Speed: scenario figures and a 9x9 IRR sensitivity grid.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", default="../shared/benchdata/ames-dev.csv",
                        help="sales CSV (read at run time, never copied into the project)")
    parser.add_argument("--target", default="SalePrice")
    parser.add_argument("--test-share", type=float, default=0.25)
    parser.add_argument("--time-budget", type=float, default=120.0)
    parser.add_argument("--level", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scenario-repeats", type=int, default=2000)
    return parser.parse_args()


def accuracy(args: argparse.Namespace) -> None:
    import pandas as pd

    from core.auth import demo_principal
    from core.bootstrap import init_workbench

    init_workbench()
    from core.apps.listings.property.valuation import train_valuation, valuation_model, value_frame
    from ml.data import read_table_file

    frame = read_table_file(Path(args.path))
    rng = np.random.default_rng(args.seed)
    test = rng.random(len(frame)) < args.test_share
    scratch = Path(os.environ["DATA_DIR"])
    train_path = scratch / "train.csv"
    frame[~test].to_csv(train_path, index=False)
    held = frame[test].reset_index(drop=True)
    owner = demo_principal("supplier")
    started = time.perf_counter()
    trained = train_valuation(owner, str(train_path), "bench-ames", target=args.target, level=args.level,
                              time_budget_s=args.time_budget, seed=args.seed)
    train_seconds = time.perf_counter() - started
    record = valuation_model(owner, "bench-ames", trained["version"])
    started = time.perf_counter()
    valued = value_frame(owner, record, held.drop(columns=[args.target]), with_comparables=True)
    value_seconds = time.perf_counter() - started
    actual = pd.to_numeric(held[args.target], errors="coerce").to_numpy(dtype=float)
    estimate, low, high = (valued[c].to_numpy(dtype=float) for c in ("estimate", "low", "high"))
    errors = np.abs(actual - estimate)
    print(f"{Path(args.path).name}: {len(frame) - len(held)} training sales, {len(held)} held-back sales; "
          f"model {trained['chosen']}; trained in {train_seconds:.1f}s")
    print(f"  held-back MAE {errors.mean():,.0f}  MAPE {100 * np.mean(errors / actual):.2f}%  "
          f"RMSE(log) {np.sqrt(np.mean((np.log(estimate) - np.log(actual)) ** 2)):.4f}")
    coverage = np.mean((actual >= low) & (actual <= high))
    width = np.median((high - low) / estimate)
    print(f"  {args.level:.0%} interval: coverage {coverage:.3f} on held-back sales (calibration's own held-out "
          f"check {trained['coverage']}), median width {100 * width:.1f}% of the estimate")
    print(f"  valuing with 5 comparables each: {1000 * value_seconds / len(held):.2f} ms per sale")


def scenario_speed(repeats: int) -> None:
    from core.apps.listings.property.scenario import ScenarioInputs, irr_grid, scenario_figures, sensitivity_axes

    inputs = ScenarioInputs(price=300_000, down_pct=20, rate=6, years=30, rent=2200, costs=400, hold=10)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        scenario_figures(inputs)
        timings.append(time.perf_counter() - started)
    rates, rents = sensitivity_axes(inputs)
    grid_timings = []
    for _ in range(max(5, repeats // 100)):
        started = time.perf_counter()
        irr_grid(inputs, rates, rents)
        grid_timings.append(time.perf_counter() - started)
    print(f"scenario figures: median {1e6 * statistics.median(timings):.0f} µs; 9x9 IRR grid: median "
          f"{1000 * statistics.median(grid_timings):.1f} ms")


def main() -> None:
    args = arguments()
    scratch = Path(tempfile.mkdtemp(prefix="dbw-bench-property-"))
    os.environ["DATA_DIR"] = str(scratch)  # a scratch workbench: never the developer's data/
    for name in ("DATABASE_URL", "MONGODB_URI"):
        os.environ.pop(name, None)
    try:
        scenario_speed(args.scenario_repeats)
        accuracy(args)
    finally:
        from core.store.raw import close_raw_stores

        close_raw_stores()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
