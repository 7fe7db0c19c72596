"""Drift detection: column-level precision and recall of `compare_frames` on planted changes to house sales.

    python bench/bench_drift.py [../shared/benchdata/ames-dev.csv] [--seeds 5] [--columns 2] [--verbose]

Each seed splits the sales in two at random (reference / current, 1,000 rows each), then plants one family of
changes in a few columns of the current half, chosen at random among the columns that suit the family (rules
below, never hand-picked): no change, no change with a 150-row current batch, mean shifts of 5/10/20/30%, a unit
change, a category mix change, a new category, a large and a small jump in missing values, a change of spread,
a change to a quarter of the rows, coarse rounding, 3% outliers, two swapped columns, numbers turned into text
with units; and, to show the limits, a 5% shift without rounding and 10%/20% shifts in a 150-row batch. Both
halves go through CSV text, as the command line reads them. Numeric changes keep the column's precision
(whole numbers stay whole; the "unrounded" family aside), so a shift is found from the distribution, not from
decimals appearing.

Prints precision and recall over all scenarios and per family, the columns a planted change left literally
unchanged (e.g. a 5% shift of a 1..10 rating rounds back to the same values), and the time of one comparison
of 2,000 against 1,000 rows of 80 columns. Target at least 0.9 / 0.9, aim 0.95 / 0.95, under 2 s.
"""

from __future__ import annotations

import argparse
import io
import os
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from ml.drift import DEFAULT_ALPHA, compare_frames  # noqa: E402 - after the project root is on the path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "benchdata" / "ames-dev.csv"


# -- which columns suit which change (rules over the data, not names) ----------------------------------------------
def column_groups(frame: pd.DataFrame) -> dict[str, list[str]]:
    numeric, continuous, categorical, fillable = [], [], [], []
    for name in frame.columns:
        values = frame[name].dropna()
        if values.nunique() >= 0.95 * len(values):  # identifiers (row number, parcel id)
            continue
        if frame[name].isna().mean() < 0.5:
            fillable.append(name)
        if pd.api.types.is_numeric_dtype(values):
            numeric.append(name)
            if values.nunique() >= 30 and (values == 0).mean() < 0.5 and (values >= 0).all():
                continuous.append(name)
        elif 2 <= values.nunique() <= 30 and frame[name].isna().mean() < 0.5:
            categorical.append(name)
    return {"numeric": numeric, "continuous": continuous, "categorical": categorical, "fillable": fillable}


def _keep_precision(original: pd.Series, changed: pd.Series) -> pd.Series:
    values = original.dropna()
    if len(values) and np.all(values == np.round(values)):
        return changed.round()
    return changed.round(2)


# -- the planted changes: each takes the current frame, the chosen columns and a random generator --------------------
def mean_shift(share: float):
    def plant(cur, cols, rng):
        for c in cols:
            cur[c] = _keep_precision(cur[c], cur[c] * (1 + share))
        return cols
    return plant


def raw_shift(share: float):
    def plant(cur, cols, rng):
        for c in cols:
            cur[c] = cur[c] * (1 + share)  # no rounding: whole numbers gain decimals, as a raw pipeline writes
        return cols
    return plant


def unit_change(cur, cols, rng):
    for c in cols:
        cur[c] = (cur[c] * 0.0929).round(2)  # square feet to square metres
    return cols


def category_mix(cur, cols, rng):
    for c in cols:
        levels = cur[c].dropna().value_counts().index.tolist()  # most common first
        favoured = list(rng.choice(levels[1:], size=min(3, len(levels) - 1), replace=False))
        movable = cur.index[cur[c].notna() & ~cur[c].isin(favoured)]
        moved = rng.choice(movable, size=min(len(movable), int(0.15 * len(cur))), replace=False)
        cur.loc[moved, c] = rng.choice(favoured, size=len(moved))
    return cols


def new_category(cur, cols, rng):
    for c in cols:
        rows = rng.choice(cur.index, size=int(0.05 * len(cur)), replace=False)
        cur[c] = cur[c].astype(object)
        cur.loc[rows, c] = f"New{rng.integers(100, 999)}"
    return cols


def missing_jump(points: float):
    def plant(cur, cols, rng):
        for c in cols:
            filled = cur.index[cur[c].notna()]
            rows = rng.choice(filled, size=min(len(filled), int(points * len(cur))), replace=False)
            cur.loc[rows, c] = np.nan
        return cols
    return plant


def spread_change(cur, cols, rng):
    for c in cols:
        factor = rng.choice([0.6, 1.5])
        median = cur[c].median()
        cur[c] = _keep_precision(cur[c], (median + (cur[c] - median) * factor).clip(lower=0))
    return cols


def quarter_of_rows(cur, cols, rng):
    for c in cols:
        rows = rng.choice(cur.index, size=len(cur) // 4, replace=False)
        factor = rng.choice([0.6, 1.5])
        cur.loc[rows, c] = _keep_precision(cur[c], cur.loc[rows, c] * factor)
    return cols


def coarse_rounding(cur, cols, rng):
    for c in cols:
        # Two significant digits (1,464 -> 1,500), and at least to fives for two-digit whole numbers (68 -> 70).
        step = max(10.0 ** (np.floor(np.log10(cur[c].abs().median())) - 1), 5.0)
        cur[c] = (cur[c] / step).round() * step
    return cols


def outliers(cur, cols, rng):
    for c in cols:
        q1, q3 = cur[c].quantile([0.25, 0.75])
        rows = rng.choice(cur.index[cur[c].notna()], size=int(0.03 * len(cur)), replace=False)
        cur.loc[rows, c] = _keep_precision(cur[c], pd.Series(q3 + rng.uniform(5, 20, len(rows)) * (q3 - q1),
                                                             index=rows))
    return cols


def swap(cur, cols, rng):
    a, b = cols
    cur[a], cur[b] = cur[b].copy(), cur[a].copy()
    return cols


def text_units(cur, cols, rng):
    for c in cols:
        cur[c] = cur[c].map(lambda v: "" if pd.isna(v) else f"{v:.0f} sq ft")
    return cols


FAMILIES = {  # name: (planting function, column group, columns planted)
    "no_drift": (None, None, 0),
    "no_drift_150_rows": (None, None, 0),
    "mean_shift_5": (mean_shift(0.05), "continuous", None),
    "mean_shift_10": (mean_shift(0.10), "continuous", None),
    "mean_shift_20": (mean_shift(0.20), "continuous", None),
    "mean_shift_30": (mean_shift(0.30), "continuous", None),
    "mean_shift_5_unrounded": (raw_shift(0.05), "continuous", None),
    "mean_shift_10_150_rows": (mean_shift(0.10), "continuous", None),
    "mean_shift_20_150_rows": (mean_shift(0.20), "continuous", None),
    "unit_change": (unit_change, "continuous", None),
    "category_mix": (category_mix, "categorical", None),
    "new_category": (new_category, "categorical", None),
    "missing_large": (missing_jump(0.30), "fillable", None),
    "missing_small": (missing_jump(0.05), "fillable", None),
    "spread": (spread_change, "continuous", None),
    "quarter_rows": (quarter_of_rows, "continuous", None),
    "rounding": (coarse_rounding, "continuous", None),
    "outliers_3pct": (outliers, "continuous", None),
    "swap": (swap, "swap", 2),
    "text_units": (text_units, "continuous", None),
}


def _through_csv(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(frame.to_csv(index=False)), low_memory=False)


def scenario(data: pd.DataFrame, groups: dict, family: str, seed: int, n_columns: int):
    rng = np.random.default_rng([seed, sorted(FAMILIES).index(family)])
    order = rng.permutation(len(data))
    reference = data.iloc[order[:1000]].reset_index(drop=True)
    current = data.iloc[order[1000:2000]].reset_index(drop=True)
    if family.endswith("_150_rows"):
        current = current.iloc[:150].reset_index(drop=True)
    plant, group, count = FAMILIES[family]
    planted: list[str] = []
    if plant is not None:
        if group == "swap":
            pool = groups["continuous"] if seed % 2 else groups["categorical"]
            chosen = list(rng.choice(pool, size=2, replace=False))
        else:
            chosen = list(rng.choice(groups[group], size=count or n_columns, replace=False))
        before = current.copy()
        planted = plant(current, chosen, rng)
        unchanged = [c for c in planted if before[c].astype(str).equals(current[c].astype(str))]
    else:
        unchanged = []
    return _through_csv(reference), _through_csv(current), set(planted), set(unchanged)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--columns", type=int, default=2, help="columns changed per scenario")
    parser.add_argument("--alphas", default=f"{DEFAULT_ALPHA},0.02,0.05",
                        help="false discovery rates to score (comma-separated); the first is shown per family")
    parser.add_argument("--verbose", action="store_true", help="print every miss and false alarm")
    args = parser.parse_args()
    data = pd.read_csv(args.data, low_memory=False)
    data.columns = [str(c).strip().lstrip("\ufeff") for c in data.columns]
    groups = column_groups(data)
    alphas = [float(a) for a in args.alphas.split(",")]
    counts = {alpha: defaultdict(lambda: [0, 0, 0]) for alpha in alphas}  # family: true pos., false pos., false neg.
    nil_changes: list[str] = []
    for family in FAMILIES:
        for seed in range(args.seeds):
            reference, current, planted, unchanged = scenario(data, groups, family, seed, args.columns)
            report = compare_frames(reference, current, alpha=alphas[0])
            nil_changes += [f"{family}/{seed}: {c}" for c in unchanged]
            for alpha in alphas:
                found = _drifted_at(report, alpha)
                tp, fp, fn = found & planted, found - planted, planted - found
                tally = counts[alpha][family]
                tally[0], tally[1], tally[2] = tally[0] + len(tp), tally[1] + len(fp), tally[2] + len(fn)
                if args.verbose and alpha == alphas[0]:
                    for c in sorted(fp):
                        print(f"  FALSE ALARM {family}/{seed}: {c}: {report['columns'][c]['summary']} "
                              f"[{report['columns'][c]['method']}]")
                    for c in sorted(fn):
                        note = " (values unchanged by the plant)" if c in unchanged else ""
                        print(f"  MISSED      {family}/{seed}: {c}{note} (p={report['columns'][c]['p_value']})")
    print(f"alpha {alphas[0]}:")
    print(f"{'family':<20} {'precision':>9} {'recall':>7}   tp  fp  fn")
    for family, (tp, fp, fn) in counts[alphas[0]].items():
        print(f"{family:<20} {_ratio(tp, tp + fp):>9} {_ratio(tp, tp + fn):>7}  {tp:3d} {fp:3d} {fn:3d}")
    for alpha in alphas:
        tp, fp, fn = (sum(t[i] for t in counts[alpha].values()) for i in range(3))
        print(f"{'ALL at alpha ' + str(alpha):<20} {_ratio(tp, tp + fp):>9} {_ratio(tp, tp + fn):>7}  "
              f"{tp:3d} {fp:3d} {fn:3d}")
    if nil_changes:
        print(f"planted changes that left the values identical (still counted as expected): {len(nil_changes)}")
        for line in nil_changes:
            print(f"  {line}")
    _timing(data)


def _drifted_at(report: dict, alpha: float) -> set[str]:
    """The columns flagged at another false discovery rate, from the same report's adjusted p-values."""
    return {name for name, entry in report["columns"].items()
            if entry["method"] == "schema" or (entry["p_value"] is not None and entry["p_value"] <= alpha)}


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "  -  "


def _timing(data: pd.DataFrame) -> None:
    columns = [c for c in data.columns if c not in ("Order", "PID")][:80]
    reference = data[columns]
    current = data[columns].sample(1000, random_state=0).reset_index(drop=True)
    wall, cpu = [], []
    for _ in range(3):
        start, start_cpu = time.perf_counter(), time.process_time()
        compare_frames(reference, current)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    print(f"one comparison of {len(reference):,} vs {len(current):,} rows x {len(columns)} columns: "
          f"median {np.median(wall):.2f} s wall, {np.median(cpu):.2f} s CPU (load average now "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
