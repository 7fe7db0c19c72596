"""Detectors for numeric columns: location, shape, spread, outliers and range, rounding/precision, and levels
for integer-coded columns.

Rank and exact tests are used throughout (Mann-Whitney, Kolmogorov-Smirnov, Fisher,
pooled-sample exceedance) because Ames-like columns are skewed, heavy-tailed, tied and often mostly zero, and a
test that assumes normal data raises false alarms exactly there.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ml.drift.findings import Finding, number, percent, signed_percent
from ml.drift.kinds import ColumnValues, is_discrete
from ml.drift.stats import exceedance_p_value, proportion_p_value

MIN_VALUES = 5
LOCATION_FLOOR = 0.03  # |P(current > reference) - 0.5|; a 5% shift of a column with 33% spread is about 0.04
SHAPE_FLOOR = 0.05  # Kolmogorov-Smirnov distance (largest gap between the two cumulative distributions)
SPREAD_FLOOR = 0.05  # five points more (or fewer) values outside the reference's middle half (normally 50%)
OUTLIER_FLOOR = 0.01  # one point more (or fewer) of rows beyond the reference fences or range
GRID_FLOOR = 0.10  # ten points more (or fewer) values sitting on a grid (rounded, or decimals appearing)
FENCE_IQRS = 3.0  # "far out" in Tukey's sense
TAIL_PERCENTILES = (95.0, 99.0, 99.5)  # and their mirror images below
ZERO_INFLATED = 0.2  # a column with 20-80% zeros also has its non-zero values compared on their own
_GRID_STEPS = (1.0, 2.0, 2.5, 5.0)


def numeric_findings(reference: ColumnValues, current: ColumnValues) -> list[Finding]:
    ref, cur = reference.finite_numbers(), current.finite_numbers()
    if len(ref) < MIN_VALUES or len(cur) < MIN_VALUES:
        return []
    findings = [_location(ref, cur), _shape(ref, cur), _spread(ref, cur), _fences(ref, cur), _range(ref, cur),
                _nonzero_location(ref, cur)]
    grid = _grid(ref, cur)
    if grid is not None:
        findings.append(grid)
    return [f for f in findings if f is not None]


def discrete_levels(reference: ColumnValues) -> bool:
    return is_discrete(reference.finite_numbers())


def shift_summary(ref: np.ndarray, cur: np.ndarray) -> str:
    """'median +15% (1,464 → 1,684)', or a scale factor when all quartiles moved by the same ratio (a unit change)."""
    med_ref, med_cur = float(np.median(ref)), float(np.median(cur))
    if med_ref > 0 and med_cur > 0:
        ratio = med_cur / med_ref
        q_ref, q_cur = np.quantile(ref, [0.25, 0.75]), np.quantile(cur, [0.25, 0.75])
        if (ratio > 1.8 or ratio < 0.55) and np.all(q_ref > 0) and np.all(np.abs(q_cur / q_ref / ratio - 1) < 0.15):
            return f"values ×{ratio:.3g} (median {number(med_ref)} → {number(med_cur)}): a unit change?"
    if med_ref != 0 and med_cur != med_ref:
        return f"median {signed_percent((med_cur - med_ref) / abs(med_ref))} ({number(med_ref)} → {number(med_cur)})"
    mean_ref, mean_cur = float(np.mean(ref)), float(np.mean(cur))
    if mean_ref != 0:
        return f"mean {signed_percent((mean_cur - mean_ref) / abs(mean_ref))} ({number(mean_ref)} → {number(mean_cur)})"
    return f"mean {number(mean_ref)} → {number(mean_cur)}"


def _location(ref: np.ndarray, cur: np.ndarray) -> Finding:
    if np.all(ref == ref[0]) and np.all(cur == ref[0]):
        return Finding("mann_whitney", 1.0, 0.5, 0.0, LOCATION_FLOOR, "auc_minus_half", "no change",
                       informative=False)
    result = stats.mannwhitneyu(cur, ref, method="asymptotic")
    auc = float(result.statistic) / (len(cur) * len(ref))
    p_value = float(result.pvalue) if math.isfinite(result.pvalue) else 1.0
    return Finding("mann_whitney", p_value, auc, abs(auc - 0.5), LOCATION_FLOOR, "auc_minus_half",
                   shift_summary(ref, cur), {"auc": auc})


def _nonzero_location(ref: np.ndarray, cur: np.ndarray) -> Finding | None:
    """For zero-inflated columns (porch, basement, veneer areas): did the non-zero values move?

    Half the rows at zero dilute a shift of the other half in any test over all rows; comparing the non-zero
    values on their own restores the power (whether the share of zeros moved is the outlier-share test's job
    when zeros dominate, and the location test's otherwise).
    """
    zero_share = float(np.mean(ref == 0))
    ref_nz, cur_nz = ref[ref != 0], cur[cur != 0]
    if not ZERO_INFLATED <= zero_share <= 1 - ZERO_INFLATED or len(ref_nz) < 20 or len(cur_nz) < 20:
        return None
    finding = _location(ref_nz, cur_nz)
    finding.method = "nonzero_shift"
    finding.summary = f"non-zero values: {finding.summary}"
    return finding


def _shape(ref: np.ndarray, cur: np.ndarray) -> Finding:
    """Any change of the distribution: two-sample Kolmogorov-Smirnov.

    KS is conservative with ties. Cramér-von Mises was tried for its power, but scipy's asymptotic p-value
    is far too small on tied columns with unequal sizes (p = 1e-8 for a random 150-row batch of a 1-10
    rating), which would flood a report with false alarms.
    """
    result = stats.ks_2samp(ref, cur, method="asymp")
    distance = float(result.statistic)
    return Finding("kolmogorov_smirnov", float(result.pvalue), distance, distance, SHAPE_FLOOR, "ks_distance",
                   f"distribution changed (KS distance {distance:.2f}); {_quantile_summary(ref, cur)}")


def _quantile_summary(ref: np.ndarray, cur: np.ndarray) -> str:
    """The percentile that moved most, relative to the reference's spread: '95th percentile 2,393 → 2,900'."""
    levels = (5, 25, 50, 75, 95)
    q_ref, q_cur = np.percentile(ref, levels), np.percentile(cur, levels)
    scale = max(float(q_ref[-1] - q_ref[0]), 1e-12)
    moved = int(np.argmax(np.abs(q_cur - q_ref) / scale))
    return f"{levels[moved]}th percentile {number(float(q_ref[moved]))} → {number(float(q_cur[moved]))}"


def _spread_of(values: np.ndarray) -> tuple[float, str]:
    q1, q3 = np.quantile(values, [0.25, 0.75])
    if q3 > q1:
        return float(q3 - q1), "IQR"
    return float(np.mean(np.abs(values - np.median(values)))), "mean absolute deviation"


def _spread(ref: np.ndarray, cur: np.ndarray) -> Finding | None:
    """Share of values outside the reference's middle half (below its Q1 or above its Q3), compared exactly.

    A wider distribution puts more than half its values out there, a narrower one fewer. Counting against fixed
    reference quartiles keeps the test exact with ties and heavy tails, where Levene's and Fligner's
    approximations raise false alarms on mostly-zero columns.
    """
    q1, q3 = np.quantile(ref, [0.25, 0.75])
    out_ref = int(np.count_nonzero((ref < q1) | (ref > q3)))
    out_cur = int(np.count_nonzero((cur < q1) | (cur > q3)))
    if out_ref == 0 and out_cur == 0:
        return None
    share_ref, share_cur = out_ref / len(ref), out_cur / len(cur)
    p_value = proportion_p_value(out_ref, len(ref), out_cur, len(cur))
    spread_ref, label = _spread_of(ref)
    spread_cur = _spread_of(cur)[0] if label == "mean absolute deviation" else float(np.subtract(
        *np.quantile(cur, [0.75, 0.25])))
    ratio = spread_cur / spread_ref if spread_ref > 0 else math.inf
    ratio_text = f"spread ×{ratio:.2f} ({label} {number(spread_ref)} → {number(spread_cur)}); " if math.isfinite(
        ratio) else ""
    return Finding("middle_half", p_value, share_cur - share_ref, abs(share_cur - share_ref), SPREAD_FLOOR,
                   "share_points", f"{ratio_text}values outside the reference's middle half {percent(share_ref)} → "
                   f"{percent(share_cur)}", {"spread_ratio": ratio if math.isfinite(ratio) else None})


def _fences(ref: np.ndarray, cur: np.ndarray) -> Finding:
    """Share of rows in the tails: beyond Tukey's far fences or beyond the reference's extreme percentiles.

    Each threshold is fixed by the reference, so comparing the share beyond it is an exact two-proportion test
    whatever the data's ties or tails; the threshold whose share moved most decides, Bonferroni-corrected over
    the thresholds tried. Columns with a heavy tail of their own (lot areas: 2% beyond the fences) are checked
    further out, where 3% of new outliers still stand out.
    """
    q1, q3 = np.quantile(ref, [0.25, 0.75])
    thresholds = {("above", float(q3 + FENCE_IQRS * (q3 - q1))): "the far fence",
                  ("below", float(q1 - FENCE_IQRS * (q3 - q1))): "the far fence"}
    for level in TAIL_PERCENTILES:
        thresholds.setdefault(("above", float(np.percentile(ref, level))), f"the reference's {level:g}th percentile")
        thresholds.setdefault(("below", float(np.percentile(ref, 100 - level))),
                              f"the reference's {100 - level:g}th percentile")
    best, tried = None, 0
    for (side, limit), label in thresholds.items():
        out_ref = int(np.count_nonzero(ref > limit if side == "above" else ref < limit))
        out_cur = int(np.count_nonzero(cur > limit if side == "above" else cur < limit))
        if out_ref + out_cur == 0 or out_ref + out_cur == len(ref) + len(cur):
            continue
        tried += 1
        pooled = (out_ref + out_cur) / (len(ref) + len(cur))
        gap = out_cur / len(cur) - out_ref / len(ref)
        z = abs(gap) / math.sqrt(pooled * (1 - pooled) * (1 / len(ref) + 1 / len(cur)))
        if best is None or z > best[0]:
            best = (z, side, limit, label, out_ref, out_cur)
    if best is None:
        return Finding("outlier_share", 1.0, 0.0, 0.0, OUTLIER_FLOOR, "share_points", "no values in the tails",
                       informative=False)
    _, side, limit, label, out_ref, out_cur = best
    share_ref, share_cur = out_ref / len(ref), out_cur / len(cur)
    p_value = min(1.0, tried * proportion_p_value(out_ref, len(ref), out_cur, len(cur)))
    where = f"values {side} {number(limit)} ({label})" if q3 > q1 or limit != q1 else f"values other than {number(q1)}"
    return Finding("outlier_share", p_value, share_cur - share_ref, abs(share_cur - share_ref), OUTLIER_FLOOR,
                   "share_points", f"{where} {percent(share_ref)} → {percent(share_cur)} of rows",
                   {"reference_share": share_ref, "current_share": share_cur, "threshold": limit})


def _range(ref: np.ndarray, cur: np.ndarray) -> Finding:
    low, high = float(ref.min()), float(ref.max())
    above, below = int(np.count_nonzero(cur > high)), int(np.count_nonzero(cur < low))
    p_above = exceedance_p_value(len(ref), len(cur), above)
    p_below = exceedance_p_value(len(ref), len(cur), below)
    beyond, extreme = (above, float(cur.max())) if p_above <= p_below else (below, float(cur.min()))
    share = beyond / len(cur)
    return Finding("beyond_range", min(1.0, 2 * min(p_above, p_below)), beyond, share, OUTLIER_FLOOR, "share",
                   f"{percent(share)} of rows beyond the reference range {number(low)} … {number(high)} "
                   f"(up to {number(extreme)})", {"rows_beyond": beyond})


def _on_grid(values: np.ndarray, step: float) -> np.ndarray:
    quotient = values / step
    return np.abs(quotient - np.round(quotient)) <= 1e-6


def _grid(ref: np.ndarray, cur: np.ndarray) -> Finding | None:
    """Share of non-zero values that are multiples of a step, on steps of 1-2-2.5-5 per decade around the data.

    Catches coarse rounding (1,464 → 1,500: multiples of 100 go from 1% to 100%) and the opposite, decimals
    appearing in whole-number data (a scale factor or unit change applied without rounding).
    """
    ref, cur = ref[ref != 0], cur[cur != 0]
    if len(ref) < 10 or len(cur) < 10:
        return None
    largest = float(max(np.abs(ref).max(), np.abs(cur).max()))
    best = None
    grids = 0
    for exponent in range(math.floor(math.log10(largest)) - 6, math.floor(math.log10(largest)) + 1):
        for base in _GRID_STEPS:
            step = base * 10.0 ** exponent
            if step < largest * 1e-7 or step > largest:
                continue
            hits_ref, hits_cur = int(_on_grid(ref, step).sum()), int(_on_grid(cur, step).sum())
            share_ref, share_cur = hits_ref / len(ref), hits_cur / len(cur)
            if (hits_ref == len(ref) and hits_cur == len(cur)) or (hits_ref == 0 and hits_cur == 0):
                continue
            grids += 1
            pooled = (hits_ref + hits_cur) / (len(ref) + len(cur))
            z = abs(share_cur - share_ref) / math.sqrt(pooled * (1 - pooled) * (1 / len(ref) + 1 / len(cur)))
            if best is None or z > best[0]:
                best = (z, step, hits_ref, hits_cur, share_ref, share_cur)
    if best is None:
        return None
    _, step, hits_ref, hits_cur, share_ref, share_cur = best
    p_value = min(1.0, grids * proportion_p_value(hits_ref, len(ref), hits_cur, len(cur)))
    if share_cur > share_ref:
        summary = (f"values rounded to multiples of {number(step)}: {percent(share_ref)} → {percent(share_cur)} "
                   "of values")
    elif step == 1:
        summary = f"whole numbers {percent(share_ref)} → {percent(share_cur)} of values (decimals appeared)"
    else:
        summary = f"multiples of {number(step)} {percent(share_ref)} → {percent(share_cur)} of values (finer values)"
    finer = share_cur < share_ref and step != 1  # often a side effect of another change (a scaled column)
    return Finding("value_grid", p_value, share_cur - share_ref, abs(share_cur - share_ref), GRID_FLOOR,
                   "share_points", summary, {"grid_step": step, "finer_values": finer})
