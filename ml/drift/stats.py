"""Small statistical helpers shared by the detectors: proportion tests, tail exceedance, multiple testing.

Every test here is exact or conservative for discrete data (ties, zero counts), because the drift report
runs hundreds of them at once and a liberal test on one sparse column would raise false alarms.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats


def proportion_p_value(hits_ref: int, n_ref: int, hits_cur: int, n_cur: int) -> float:
    """Two-sided p-value that two shares differ (Fisher's exact test on the 2x2 table; conservative)."""
    if n_ref == 0 or n_cur == 0:
        return 1.0
    if (hits_ref == 0 and hits_cur == 0) or (hits_ref == n_ref and hits_cur == n_cur):
        return 1.0
    # Fisher's test by hand over the whole hypergeometric support (vectorized): scipy's general r x c version
    # costs milliseconds a call, and the report runs hundreds of these.
    hits = hits_ref + hits_cur
    support = np.arange(max(0, hits - n_cur), min(hits, n_ref) + 1)
    log_pmf = (_log_choose(n_ref, support) + _log_choose(n_cur, hits - support)) - _log_choose(n_ref + n_cur, hits)
    observed = log_pmf[hits_ref - support[0]]
    return float(min(1.0, np.exp(log_pmf[log_pmf <= observed + 1e-7]).sum()))


def _log_choose(n, k):
    return special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)


def exceedance_p_value(n_ref: int, n_cur: int, beyond: int) -> float:
    """P(at least `beyond` current values fall beyond the reference extreme) when both come from one distribution.

    That happens exactly when the top `beyond` values of the pooled sample all come from the current batch:
    C(n_cur, k) / C(n_ref + n_cur, k) for continuous data, and less with ties, so this is conservative.
    """
    if beyond <= 0:
        return 1.0
    if beyond > n_cur:
        return 0.0
    total = n_ref + n_cur
    log_p = (math.lgamma(n_cur + 1) - math.lgamma(n_cur - beyond + 1)
             - math.lgamma(total + 1) + math.lgamma(total - beyond + 1))
    return float(min(1.0, math.exp(log_p)))


def cohen_h(share_ref: float, share_cur: float) -> float:
    """Effect size of a change in a proportion (arcsine scale): 0.2 small, 0.5 medium, 0.8 large."""
    return abs(2 * math.asin(math.sqrt(share_cur)) - 2 * math.asin(math.sqrt(share_ref)))


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate across the given tests)."""
    if not p_values:
        return []
    return [float(p) for p in stats.false_discovery_control(np.clip(np.asarray(p_values, float), 0.0, 1.0))]
