"""Implied volatility, vectorized, with a reason for every row it will not solve.

Why this shape:
- The price is checked against the no-arbitrage bounds first; a quote outside them (or exactly at
  intrinsic, where any volatility fits) is flagged with a reason instead of being "solved".
- In-the-money quotes are turned into their out-of-the-money twin by put-call parity, and the
  problem is normalized (Jaeckel's form): with x = -|ln(F/K)| and s = sigma*sqrt(T), solve
  b(x, s) = e^{x/2} N(x/s + s/2) - e^{-x/2} N(x/s - s/2) = beta. One well-scaled function covers
  calls and puts, deep wings and one-day expiries.
- b is increasing in s with one inflection point s_c = sqrt(2|x|). Below b(s_c) the solver works on
  ln b (near-quadratic there, where b itself is exponentially flat); above it on b. Each step is
  Halley's, kept inside a bracket [lo, hi] that every evaluation tightens; a step that leaves the
  bracket becomes a bisection, so every row converges. Only unconverged rows are iterated.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.special import ndtr, ndtri

from core.apps.options.bsm import INV_SQRT_2PI

MAX_VOL = 10.0  # 1000% a year: above this a quote is treated as broken, not as information
MAX_ITERATIONS = 80
REL_TOLERANCE = 4e-15
HALLEY_DONE = 1e-9
EPS = np.finfo(float).eps
# The answer is reported only when the quote pins it down: if one rounding unit of the price (and of the
# intrinsic value it is compared with) could move the volatility by more than this (absolute, annualized),
# the row is flagged. That happens deep in the money a few days out, where the time value is lost in the
# price's last digits; any number given there would be noise. Callers that want looser answers say so.
MAX_VOL_UNCERTAINTY = 3e-7
QUOTE_ULPS = 2.0

OK = 0
REASONS = {
    1: "bad input: spot and strike and expiry_years must be positive numbers; rate and dividend_yield finite",
    2: "bad input: price is missing or not a number",
    3: "bad input: type must be call or put",
    4: "price below the no-arbitrage lower bound (discounted intrinsic value)",
    5: "no time value beyond the price's rounding (price at the discounted intrinsic value): any volatility fits",
    6: "price at or above the no-arbitrage upper bound (discounted spot for a call; discounted strike for a put)",
    7: f"implied volatility above the {MAX_VOL:.0%} search limit",
    8: "time value lost in the price's rounding: this quote does not determine the volatility",
    9: "solver did not converge",
}
BAD_INPUT, BAD_PRICE, BAD_TYPE = 1, 2, 3
BELOW_INTRINSIC, AT_INTRINSIC, ABOVE_UPPER, ABOVE_MAX_VOL, INSENSITIVE, NO_CONVERGENCE = 4, 5, 6, 7, 8, 9

# Below this many rows threads cost more than they save.
PARALLEL_MIN_ROWS = 200_000


def normalized_otm_price(x: np.ndarray, s: np.ndarray) -> np.ndarray:
    """b(x, s) for x <= 0: the out-of-the-money Black price divided by sqrt(F K)."""
    d1 = x / s + 0.5 * s
    return np.exp(0.5 * x) * ndtr(d1) - np.exp(-0.5 * x) * ndtr(d1 - s)


def _solve_normalized(x: np.ndarray, beta: np.ndarray, s_max: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """s with b(x, s) = beta for every row (x <= 0, 0 < beta < b(x, s_max)); returns (s, converged)."""
    n = x.size
    half_exp = np.exp(0.5 * x)
    s_inflection = np.sqrt(-2.0 * x)
    b_inflection = normalized_otm_price(x, np.maximum(s_inflection, 1e-300))
    lower_region = beta < b_inflection
    log_beta = np.log(beta)
    # Start at the inflection point, or, near the money where it is ~0, at the exact ATM inverse.
    s_atm = 2.0 * ndtri(np.minimum(0.5 * (1.0 + beta / half_exp), 1.0 - 1e-16))
    s = np.where(lower_region, s_inflection, np.maximum(s_inflection, s_atm))
    s = np.clip(s, 1e-8 * s_max, 0.5 * s_max)
    lo = np.zeros(n)
    hi = s_max.copy()
    converged = np.zeros(n, dtype=bool)
    active = np.arange(n)
    for _ in range(MAX_ITERATIONS):
        if active.size == 0:
            break
        xa, sa, ba, he = x[active], s[active], beta[active], half_exp[active]
        d1 = xa / sa + 0.5 * sa
        d2 = d1 - sa
        b = he * ndtr(d1) - ndtr(d2) / he
        vega = he * INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)
        curvature = d1 * d2 / sa  # b'' / b'
        below = b < ba
        lo_a = np.where(below, sa, lo[active])
        hi_a = np.where(below, hi[active], sa)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            in_log = lower_region[active]
            slope_log = vega / b
            f = np.where(in_log, np.log(b) - log_beta[active], b - ba)
            f1 = np.where(in_log, slope_log, vega)
            f2_over_f1 = np.where(in_log, curvature - slope_log, curvature)
            newton = -f / f1
            denominator = 1.0 + 0.5 * newton * f2_over_f1
            step = np.where((denominator > 0.5) & np.isfinite(denominator), newton / denominator, newton)
            s_new = sa + step
        # A root hit exactly (b == beta) or a step below tolerance ends the row where it stands: that point is
        # also a bracket end, so the bracket test below would wrongly turn it into a bisection.
        at_root = (b == ba) | (np.abs(step) <= REL_TOLERANCE * sa)
        outside = ~((s_new > lo_a) & (s_new < hi_a))  # also catches NaN/inf steps
        s_new = np.where(at_root, sa, np.where(outside, 0.5 * (lo_a + hi_a), s_new))
        # Halley converges cubically: once its step is below 1e-9, the point it lands on is exact to ~1e-27,
        # so the row is done without paying for one more evaluation.
        halley_close = ~outside & (np.abs(step) <= HALLEY_DONE * sa)
        done = (at_root | halley_close | (np.abs(s_new - sa) <= REL_TOLERANCE * sa)
                | (hi_a - lo_a <= REL_TOLERANCE * hi_a))
        s[active] = s_new
        lo[active] = lo_a
        hi[active] = hi_a
        converged[active[done]] = True
        active = active[~done]
    return s, converged


def _implied_vol_chunk(max_vol_uncertainty, is_call, spot, strike, t, r, q, price):
    n = spot.size
    reason = np.zeros(n, dtype=np.int8)
    vol = np.full(n, np.nan)
    with np.errstate(all="ignore"):
        good_inputs = (np.isfinite(spot) & np.isfinite(strike) & np.isfinite(t) & np.isfinite(r) & np.isfinite(q)
                       & (spot > 0) & (strike > 0) & (t > 0))
        reason[~good_inputs] = BAD_INPUT
        reason[good_inputs & ~np.isfinite(price)] = BAD_PRICE
        discount = np.exp(-r * t)
        forward = spot * np.exp((r - q) * t)
        undiscounted = price / discount
        sign = np.where(is_call, 1.0, -1.0)
        intrinsic = np.maximum(sign * (forward - strike), 0.0)
        upper = np.where(is_call, forward, strike)
        time_value = undiscounted - intrinsic
        # How precisely a quote can carry time value. A pricer computes F N(d1) - K N(d2) with N accurate to
        # ~1 ulp absolute (QuantLib's is), so any price, in or out of the money, is known only to about
        # eps * (F + K); the parity step here adds the same again. Below this, "time value" is rounding.
        noise = QUOTE_ULPS * EPS * (undiscounted + forward + strike)
    pending = reason == OK
    reason[pending & (time_value < -noise)] = BELOW_INTRINSIC
    reason[pending & (time_value >= -noise) & (time_value <= noise)] = AT_INTRINSIC
    reason[pending & (undiscounted >= upper) & (reason == OK)] = ABOVE_UPPER
    rows = np.flatnonzero(reason == OK)
    if rows.size == 0:
        return vol, reason
    root_fk = np.sqrt(forward[rows] * strike[rows])
    x = -np.abs(np.log(forward[rows] / strike[rows]))
    beta = time_value[rows] / root_fk
    sqrt_t = np.sqrt(t[rows])
    s_max = MAX_VOL * sqrt_t
    too_high = normalized_otm_price(x, s_max) < beta
    reason[rows[too_high]] = ABOVE_MAX_VOL
    keep = ~too_high
    rows, x, beta, sqrt_t, s_max, root_fk = rows[keep], x[keep], beta[keep], sqrt_t[keep], s_max[keep], root_fk[keep]
    s, converged = _solve_normalized(x, beta, s_max)
    # How far the quote's own rounding (see noise above) moves s.
    d1 = x / s + 0.5 * s
    vega_normalized = np.exp(0.5 * x) * INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)
    # The tiny floor catches subnormal quotes, whose vega underflows too.
    quote_noise = (noise[rows] + np.finfo(float).tiny) / root_fk
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        uncertain = ~(quote_noise / vega_normalized <= max_vol_uncertainty * sqrt_t)
    reason[rows[~converged]] = NO_CONVERGENCE
    reason[rows[converged & uncertain]] = INSENSITIVE
    solved = converged & ~uncertain
    vol[rows[solved]] = s[solved] / sqrt_t[solved]
    return vol, reason


def implied_vol(is_call, spot, strike, t, r, q, price, threads: int | None = None,
                max_vol_uncertainty: float = MAX_VOL_UNCERTAINTY) -> tuple[np.ndarray, np.ndarray]:
    """(vol, reason code) per row; vol is NaN wherever the reason is not OK. See REASONS."""
    arrays = [np.ascontiguousarray(a, dtype=float) for a in np.broadcast_arrays(spot, strike, t, r, q, price)]
    is_call = np.broadcast_to(np.asarray(is_call, dtype=bool), arrays[0].shape).ravel()
    arrays = [a.ravel() for a in arrays]
    n = arrays[0].size
    threads = threads or min(os.cpu_count() or 1, 4)
    if threads <= 1 or n < PARALLEL_MIN_ROWS:
        return _implied_vol_chunk(max_vol_uncertainty, is_call, *arrays)
    # numpy and scipy ufuncs release the GIL, so threads share the cores without copying to processes.
    bounds = np.linspace(0, n, threads + 1).astype(int)
    with ThreadPoolExecutor(threads) as pool:
        parts = list(pool.map(lambda i: _implied_vol_chunk(
            max_vol_uncertainty,
            is_call[bounds[i]:bounds[i + 1]], *(a[bounds[i]:bounds[i + 1]] for a in arrays)), range(threads)))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def reason_text(codes: np.ndarray) -> np.ndarray:
    """Reason strings ('' for solved rows) for an array of codes."""
    table = np.array([""] + [REASONS[i] for i in range(1, max(REASONS) + 1)], dtype=object)
    return table[codes]
