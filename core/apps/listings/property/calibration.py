"""Price intervals from out-of-sample errors: split-conformal quantiles of log(actual / estimate).

Relative (log-ratio) errors because price errors grow with the price: a 10 % miss on a small flat and on a
large house are the same kind of miss. The quantiles come from rows the model did not see (out-of-fold
predictions on the training part), and the coverage is then measured on held-out rows that played no part
in either the fit or the quantiles, so the reported coverage is an honest check, not a tautology.
"""

from __future__ import annotations

import math

import numpy as np

MIN_PRICE = 1e-9


def log_ratios(actual, predicted) -> np.ndarray:
    actual = np.asarray(actual, dtype=float)
    predicted = np.clip(np.asarray(predicted, dtype=float), MIN_PRICE, None)
    return np.log(np.clip(actual, MIN_PRICE, None) / predicted)


def interval_quantiles(ratios: np.ndarray, level: float) -> tuple[float, float]:
    """(low, high) log-ratio quantiles for a central interval of `level`, with the finite-sample correction
    of split conformal prediction (the ceil((n + 1) q) / n order statistic), capped at the extremes."""
    if not 0.5 <= level < 1:
        raise ValueError(f"The interval level must be between 0.5 and 1 (e.g. 0.8); got {level}.")
    ratios = np.sort(np.asarray(ratios, dtype=float)[np.isfinite(ratios)])
    n = len(ratios)
    if n < 4:
        raise ValueError(f"Only {n} out-of-sample error(s): too few to calibrate an interval; add sales.")
    tail = (1 - level) / 2
    low_rank = max(math.floor((n + 1) * tail), 1)
    high_rank = min(math.ceil((n + 1) * (1 - tail)), n)
    return float(ratios[low_rank - 1]), float(ratios[high_rank - 1])


def interval(estimate, low_ratio: float, high_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    estimate = np.asarray(estimate, dtype=float)
    return estimate * math.exp(low_ratio), estimate * math.exp(high_ratio)


def coverage(actual, estimate, low_ratio: float, high_ratio: float) -> float | None:
    actual = np.asarray(actual, dtype=float)
    if not len(actual):
        return None
    low, high = interval(estimate, low_ratio, high_ratio)
    return float(np.mean((actual >= low) & (actual <= high)))


def flag(listed: float | None, estimate: float | None, low: float | None, high: float | None
         ) -> tuple[str, float | None]:
    """under (listed below the interval: cheap for what it is), over (above it) or near, and the percent
    the listed price differs from the estimate."""
    if estimate is None or not estimate > 0:
        return "not valued", None
    if listed is None or not math.isfinite(listed) or listed <= 0:
        return "no price", None
    percent = round(100 * (listed / estimate - 1), 2)
    if listed < low:
        return "under", percent
    if listed > high:
        return "over", percent
    return "near", percent
