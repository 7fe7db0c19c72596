"""Detectors every column gets: the missing-value rate and the share of cells that read as numbers (type)."""

from __future__ import annotations

from ml.drift.findings import Finding, percent
from ml.drift.kinds import NUMERIC, ColumnValues
from ml.drift.stats import cohen_h, proportion_p_value

MISSING_FLOOR_H = 0.05  # Cohen's h: 17% -> 22% is 0.13, 0% -> 1% is 0.20; 50% -> 52% (0.04) stays quiet
MISSING_FLOOR_POINTS = 0.005
TYPE_FLOOR = 0.05  # five points of the filled cells changing between number and text


def missing_rate(reference: ColumnValues, current: ColumnValues) -> Finding:
    share_ref = reference.missing / reference.rows if reference.rows else 0.0
    share_cur = current.missing / current.rows if current.rows else 0.0
    p_value = proportion_p_value(reference.missing, reference.rows, current.missing, current.rows)
    points = abs(share_cur - share_ref)
    effect = cohen_h(share_ref, share_cur) if points >= MISSING_FLOOR_POINTS else 0.0
    return Finding("missing_rate", p_value, share_cur - share_ref, effect, MISSING_FLOOR_H, "cohen_h",
                   f"missing {percent(share_ref)} → {percent(share_cur)}",
                   {"reference_share": share_ref, "current_share": share_cur},
                   informative=_varies(reference.missing, reference.rows, current.missing, current.rows))


def value_type(reference: ColumnValues, current: ColumnValues, kind: str) -> Finding | None:
    """Numbers turning into text ("1464 sq ft") or text into numbers, among the filled cells."""
    if not reference.filled or not current.filled:
        return None
    share_ref, share_cur = reference.numeric_share, current.numeric_share
    p_value = proportion_p_value(reference.numeric_count, reference.filled, current.numeric_count, current.filled)
    if kind == NUMERIC and share_cur < share_ref:
        example = current.strings()[~(current.numbers == current.numbers)].head(1)
        sample = f" (e.g. '{example.iloc[0][:40]}')" if len(example) else ""
        summary = f"numbers became text: {percent(share_ref)} → {percent(share_cur)} numeric{sample}"
    else:
        summary = f"cells that read as numbers {percent(share_ref)} → {percent(share_cur)}"
    return Finding("value_type", p_value, share_cur - share_ref, abs(share_cur - share_ref), TYPE_FLOOR,
                   "share_points", summary, {"reference_numeric_share": share_ref, "current_numeric_share": share_cur},
                   informative=_varies(reference.numeric_count, reference.filled, current.numeric_count,
                                       current.filled))


def _varies(hits_ref: int, n_ref: int, hits_cur: int, n_cur: int) -> bool:
    """Whether the pooled rows hold both outcomes (otherwise a proportion test has nothing to decide)."""
    return 0 < hits_ref + hits_cur < n_ref + n_cur
