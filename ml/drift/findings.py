"""What one detector says about one column, and how numbers are written for people."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Finding:
    """One test on one column.

    `effect` is measured in the units named by `effect_unit`; the finding can only mark the column as drifted
    when `effect >= floor` (a relevance floor, so tiny but significant differences on big samples stay quiet)
    and its p-value survives the multiple-testing correction.
    """

    method: str
    p_value: float
    statistic: float
    effect: float
    floor: float
    effect_unit: str
    summary: str
    details: dict = field(default_factory=dict)
    # False when the pooled data leave the test nothing to decide (e.g. no missing cell on either side): such a
    # test cannot reject under any split of the rows, so it does not count in the column's Bonferroni factor.
    informative: bool = True

    @property
    def relevant(self) -> bool:
        return self.effect >= self.floor

    def as_dict(self) -> dict:
        return {"method": self.method, "p_value": _clean(self.p_value), "statistic": _clean(self.statistic),
                "effect": _clean(self.effect), "effect_unit": self.effect_unit, "floor": self.floor,
                "summary": self.summary, **self.details}


def _clean(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.6g}")


def number(value: float) -> str:
    """1,464 / 0.093 / 1.2e+06: thousands separators for ordinary magnitudes, few significant digits."""
    if value is None or not math.isfinite(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 1e7 or magnitude < 1e-3:
        return f"{value:.3g}"
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:,.1f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def percent(share: float) -> str:
    """A share 0..1 as '17%', keeping one decimal under 10% so small jumps stay visible."""
    value = 100 * share
    if value == 0 or value >= 10 or abs(value - round(value)) < 0.05:
        return f"{value:.0f}%"
    return f"{value:.1f}%"


def signed_percent(change: float) -> str:
    value = 100 * change
    return f"{value:+.0f}%" if abs(value) >= 10 else f"{value:+.1f}%"
