"""Detectors for categories (and integer codes compared level by level): the mix of values and new values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ml.drift.findings import Finding, percent
from ml.drift.stats import exceedance_p_value

MIX_FLOOR = 0.03  # total variation distance between the two mixes (share of rows that would have to move)
NEW_FLOOR = 0.01  # share of current rows holding a value the reference never had
MIN_EXPECTED = 5.0  # chi-square needs about five expected rows a cell; rarer levels are pooled


def _label(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def mix_findings(ref: pd.Series, cur: pd.Series) -> list[Finding]:
    if len(ref) < 5 or len(cur) < 5:
        return []
    counts_ref, counts_cur = ref.value_counts(), cur.value_counts()
    findings = [f for f in (_mix(counts_ref, counts_cur, len(ref), len(cur)),
                            _new_values(counts_ref, counts_cur, len(ref), len(cur))) if f is not None]
    return findings


def _pooled_table(counts_ref: pd.Series, counts_cur: pd.Series, n_ref: int, n_cur: int) -> np.ndarray:
    """2 x k table over the values of both sides, rare ones pooled into one cell.

    Which values are pooled depends only on the two sides' counts added together, which a random split does not
    change; pooling "values new to the current batch" into a cell of their own would not be (by construction
    that cell is empty in the reference) and makes chi-square cry wolf on rare values.
    """
    levels = counts_ref.index.union(counts_cur.index)
    ref, cur = counts_ref.reindex(levels, fill_value=0), counts_cur.reindex(levels, fill_value=0)
    kept = (ref + cur) * min(n_ref, n_cur) / (n_ref + n_cur) >= MIN_EXPECTED
    table = np.array([list(ref[kept]) + [int(ref[~kept].sum())], list(cur[kept]) + [int(cur[~kept].sum())]],
                     dtype=float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] >= 2:  # a pooled cell that is still too thin joins the smallest kept level
        expected = table.sum(axis=0) * min(n_ref, n_cur) / (n_ref + n_cur)
        thin = np.flatnonzero(expected < MIN_EXPECTED)
        if len(thin) and table.shape[1] > len(thin):
            keep = np.setdiff1d(np.arange(table.shape[1]), thin)
            smallest = keep[np.argmin(table[:, keep].sum(axis=0))]
            table[:, smallest] += table[:, thin].sum(axis=1)
            table = table[:, keep]
    return table


def _mix(counts_ref: pd.Series, counts_cur: pd.Series, n_ref: int, n_cur: int) -> Finding | None:
    table = _pooled_table(counts_ref, counts_cur, n_ref, n_cur)
    if table.shape[1] < 2:
        return None
    result = stats.chi2_contingency(table, correction=True)
    shares = table / table.sum(axis=1, keepdims=True)
    distance = 0.5 * float(np.abs(shares[0] - shares[1]).sum())
    p_value = float(result.pvalue) if math.isfinite(result.pvalue) else 1.0
    summary = (_mix_summary(counts_ref, counts_cur, n_ref, n_cur) if distance >= MIX_FLOOR  # only read if relevant
               else f"mix of values within {percent(distance)} of the reference")
    return Finding("chi_square", p_value, float(result.statistic), distance, MIX_FLOOR, "total_variation",
                   summary, {"degrees_of_freedom": int(result.dof)})


def _mix_summary(counts_ref: pd.Series, counts_cur: pd.Series, n_ref: int, n_cur: int) -> str:
    """'3 values now 33% of rows (was 21%): NAmes, CollgCr, OldTown': the values that gained most."""
    share_ref = counts_ref / n_ref
    share_cur = counts_cur / n_cur
    levels = share_ref.index.union(share_cur.index)
    gains = (share_cur.reindex(levels, fill_value=0) - share_ref.reindex(levels, fill_value=0))
    gains = gains[gains > 0].sort_values(ascending=False, kind="stable")
    if gains.empty:
        return "mix of values unchanged"
    chosen = []
    for level, gain in gains.items():
        chosen.append(level)
        if len(chosen) == 3 or gains[chosen].sum() >= 0.7 * gains.sum() or gain < gains.iloc[0] / 3:
            break
    before = float(share_ref.reindex(chosen, fill_value=0).sum())
    after = float(share_cur.reindex(chosen, fill_value=0).sum())
    names = ", ".join(_label(level) for level in chosen)
    if len(chosen) == 1:
        return f"{names} now {percent(after)} of rows (was {percent(before)})"
    return f"{len(chosen)} values now {percent(after)} of rows (was {percent(before)}): {names}"


def _new_values(counts_ref: pd.Series, counts_cur: pd.Series, n_ref: int, n_cur: int) -> Finding | None:
    """Values the reference never had, judged by how unlikely it is that all their rows landed in the current batch.

    A random split leaves rare values on one side only: a value seen 3 times in all has a (n_cur / n)^3 chance
    of being "new". Exactly, for a value with c rows in both tables together, C(n_cur, c) / C(n_ref + n_cur, c);
    the most surprising new value decides, Bonferroni-corrected over every value that could have been new.
    """
    new = counts_cur[~counts_cur.index.isin(counts_ref.index)]
    new_rows = int(new.sum())
    if new_rows == 0:
        return None
    largest = int(new.max())
    p_single = exceedance_p_value(n_ref, n_cur, largest)
    levels = len(counts_ref) + len(new)
    p_value = min(1.0, levels * p_single)
    share = new_rows / n_cur
    examples = ", ".join(f"'{_label(v)}'" for v in new.sort_values(ascending=False, kind="stable").index[:3])
    return Finding("new_values", p_value, new_rows, share, NEW_FLOOR, "share",
                   f"new values in {percent(share)} of rows: {examples}",
                   {"new_value_count": len(new), "largest_new_value_rows": largest})
