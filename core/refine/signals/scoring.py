"""Soft scoring helpers shared by the quality sub-scores.

Published filters (Gopher, C4, FineWeb) use hard cut-offs. A sub-score that falls linearly
between an "acceptable" and a "clearly bad" value keeps the same ordering but lets a recipe
threshold, not the signal, decide where to cut.
"""

from __future__ import annotations

import numpy as np

# Scores are stored rounded: four decimals are all a slider or a histogram shows, and a clearly failed
# item then reads 0 rather than 3e-8.
SCORE_DECIMALS = 4


def ramp_up(values, bad: float, good: float) -> np.ndarray:
    """0 at or below `bad`, 1 at or above `good`, linear between (NaN counts as acceptable)."""
    scores = (np.asarray(values, dtype=float) - bad) / (good - bad)
    return np.nan_to_num(np.clip(scores, 0.0, 1.0), nan=1.0)


def ramp_down(values, good: float, bad: float) -> np.ndarray:
    """1 at or below `good`, 0 at or above `bad`, linear between (NaN counts as acceptable)."""
    scores = (bad - np.asarray(values, dtype=float)) / (bad - good)
    return np.nan_to_num(np.clip(scores, 0.0, 1.0), nan=1.0)


def safe_ratio(numerator, denominator) -> np.ndarray:
    """Element-wise ratio that is 0 where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def soft_up(values, bad: float, good: float) -> np.ndarray:
    """Logistic step: 0.05 at `bad`, 0.95 at `good`, still rising beyond both ends (NaN counts as acceptable).

    Unlike a clipped ramp it never flattens into exact 0 or 1 within the range texts actually take, so
    items on the same side of a cut-off keep their order and a histogram shows it.
    """
    steepness = 2 * np.log(19) / (good - bad)
    with np.errstate(over="ignore"):
        scores = 1.0 / (1.0 + np.exp(-steepness * (np.asarray(values, dtype=float) - (bad + good) / 2)))
    return np.nan_to_num(scores, nan=1.0)


def soft_down(values, good: float, bad: float) -> np.ndarray:
    """Logistic step falling from 0.95 at `good` to 0.05 at `bad` (NaN counts as acceptable)."""
    return soft_up(values, bad, good)


def bell(values, ideal: float, spread: float) -> np.ndarray:
    """1 at `ideal`, falling symmetrically in log space: exp(-ln(x/ideal)^2 / (2 spread^2)); 0 for x <= 0.

    For quantities with a typical size (words per sentence), where both too small and too large are worse.
    """
    values = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = np.log(np.maximum(values, 1e-12) / ideal) / spread
    return np.where(values > 0, np.exp(-0.5 * distance**2), 0.0)


def geometric_mean(factors: list[np.ndarray], weights: list[float], floor: float = 1e-3) -> np.ndarray:
    """Weighted geometric mean of 0..1 factors: one weak factor pulls the result down, but less than a product."""
    logs = [w * np.log(np.clip(np.asarray(f, dtype=float), floor, 1.0)) for f, w in zip(factors, weights, strict=True)]
    return np.exp(np.sum(logs, axis=0) / sum(weights))
