"""Soft scoring helpers shared by the quality sub-scores.

Published filters (Gopher, C4, FineWeb) use hard cut-offs. A sub-score that falls linearly
between an "acceptable" and a "clearly bad" value keeps the same ordering but lets a recipe
threshold, not the signal, decide where to cut.
"""

from __future__ import annotations

import numpy as np


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
