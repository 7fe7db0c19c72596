"""Black-Scholes-Merton with a continuous dividend yield, vectorized over whole arrays.

Everything works on numpy arrays (scalars broadcast). Greeks come out in trader units: vega and rho
per one percentage point, theta per calendar day (/365), which is what QuantLib reports divided by
100, 100 and 365. The formulas are written in terms of the forward F = S e^{(r-q)T} and the total
volatility s = sigma sqrt(T): one d1/d2 pair serves price and every greek.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

INV_SQRT_2PI = 0.3989422804014327
DAYS_PER_YEAR = 365.0
PERCENT = 100.0


def normal_pdf(x: np.ndarray) -> np.ndarray:
    return INV_SQRT_2PI * np.exp(-0.5 * x * x)


def as_call_flag(kind) -> np.ndarray:
    """Booleans from 'call'/'put' strings (case-insensitive) or booleans."""
    arr = np.asarray(kind)
    if arr.dtype == bool:
        return arr
    return np.char.lower(arr.astype(str)) == "call"


def _d1_d2(spot, strike, t, r, q, vol):
    s = vol * np.sqrt(t)
    log_moneyness = np.log(spot / strike) + (r - q) * t  # ln(F/K)
    d1 = log_moneyness / s + 0.5 * s
    return d1, d1 - s


def price(is_call, spot, strike, t, r, q, vol) -> np.ndarray:
    """Option value (discounted), for arrays of any matching shape."""
    is_call = np.asarray(is_call, dtype=bool)
    d1, d2 = _d1_d2(spot, strike, t, r, q, vol)
    sign = np.where(is_call, 1.0, -1.0)
    disc_spot = spot * np.exp(-q * t)
    disc_strike = strike * np.exp(-r * t)
    return sign * (disc_spot * ndtr(sign * d1) - disc_strike * ndtr(sign * d2))


def greeks(is_call, spot, strike, t, r, q, vol) -> dict[str, np.ndarray]:
    """delta, gamma, vega (per 1 vol point), theta (per calendar day), rho (per 1 rate point)."""
    is_call = np.asarray(is_call, dtype=bool)
    sqrt_t = np.sqrt(t)
    d1, d2 = _d1_d2(spot, strike, t, r, q, vol)
    sign = np.where(is_call, 1.0, -1.0)
    div_factor = np.exp(-q * t)
    disc_strike = strike * np.exp(-r * t)
    cdf_d1 = ndtr(sign * d1)
    cdf_d2 = ndtr(sign * d2)
    pdf_d1 = normal_pdf(d1)
    spot_pdf = spot * div_factor * pdf_d1
    theta_year = (-spot_pdf * vol / (2.0 * sqrt_t)
                  + sign * (q * spot * div_factor * cdf_d1 - r * disc_strike * cdf_d2))
    return {
        "delta": sign * div_factor * cdf_d1,
        "gamma": div_factor * pdf_d1 / (spot * vol * sqrt_t),
        "vega": spot_pdf * sqrt_t / PERCENT,
        "theta": theta_year / DAYS_PER_YEAR,
        "rho": sign * disc_strike * t * cdf_d2 / PERCENT,
    }


def no_arbitrage_bounds(is_call, spot, strike, t, r, q) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) for a European option: discounted intrinsic value and the discounted underlying/strike."""
    is_call = np.asarray(is_call, dtype=bool)
    disc_spot = spot * np.exp(-q * t)
    disc_strike = strike * np.exp(-r * t)
    forward_intrinsic = np.where(is_call, disc_spot - disc_strike, disc_strike - disc_spot)
    return np.maximum(forward_intrinsic, 0.0), np.where(is_call, disc_spot, disc_strike)
