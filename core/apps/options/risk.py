"""Risk of a position (a list of legs, see strategies): payoff, P&L grid, greeks, maximum loss.

Before expiry each option leg is valued with BSM at its entry IV plus a volatility shift; at expiry by
its intrinsic value. Maximum loss and gain come from the expiry payoff, which is piecewise linear in
spot: checking every strike, zero, and the slope beyond the last strike is exact, not a sampled guess.
"""

from __future__ import annotations

import numpy as np

from core.apps.options import bsm
from core.apps.options.strategies import MULTIPLIER, entry_value

DEFAULT_VOL = 0.3  # used only for a leg with no entry IV (a flagged quote)


def _option_legs(legs):
    return [leg_ for leg_ in legs if leg_["kind"] != "stock"]


def value_at(legs: list[dict], spot, *, days_forward: float = 0.0, vol_shift: float = 0.0,
             rate: float = 0.0, dividend_yield: float = 0.0) -> np.ndarray:
    """Position value (currency) for an array of spots, `days_forward` calendar days from entry."""
    spot = np.asarray(spot, dtype=float)
    total = np.zeros_like(spot)
    for leg_ in legs:
        if leg_["kind"] == "stock":
            total += leg_["quantity"] * MULTIPLIER * spot
            continue
        remaining = (leg_["days"] - days_forward) / 365.0
        if remaining <= 0:
            signed = spot - leg_["strike"] if leg_["kind"] == "call" else leg_["strike"] - spot
            per_share = np.maximum(signed, 0)
        else:
            vol = max((leg_.get("iv") or DEFAULT_VOL) + vol_shift, 0.01)
            per_share = bsm.price(leg_["kind"] == "call", np.maximum(spot, 1e-9), leg_["strike"], remaining, rate,
                                  dividend_yield, vol)
        total += leg_["quantity"] * MULTIPLIER * per_share
    return total


def pnl_at(legs, spot, **kwargs) -> np.ndarray:
    return value_at(legs, spot, **kwargs) - entry_value(legs)


def expiry_days(legs) -> float:
    return float(min((leg_["days"] for leg_ in _option_legs(legs)), default=0))


def payoff_at_expiry(legs, spots) -> np.ndarray:
    return pnl_at(legs, spots, days_forward=expiry_days(legs))


def pnl_grid(legs, spots, vol_shifts, *, days_forward: float = 0.0, rate: float = 0.0,
             dividend_yield: float = 0.0) -> np.ndarray:
    """P&L (rows: vol shifts, columns: spots)."""
    return np.vstack([pnl_at(legs, spots, days_forward=days_forward, vol_shift=v, rate=rate,
                             dividend_yield=dividend_yield) for v in vol_shifts])


def max_loss_and_gain(legs) -> dict:
    """Exact extremes of the expiry P&L; None means unbounded."""
    strikes = sorted({leg_["strike"] for leg_ in _option_legs(legs)})
    top = (max(strikes) if strikes else max(leg_["entry_price"] for leg_ in legs)) * 2 + 1
    points = np.array([0.0, *strikes, top])
    pnl = payoff_at_expiry(legs, points)
    slope = (payoff_at_expiry(legs, np.array([top + 1.0]))[0] - pnl[-1])
    loss = float(pnl.min())
    gain = float(pnl.max())
    breakevens = []
    for (a, pa), (b, pb) in zip(zip(points, pnl, strict=False), zip(points[1:], pnl[1:], strict=False), strict=False):
        if pa == 0:
            breakevens.append(float(a))
        elif pa * pb < 0:
            breakevens.append(float(a + (b - a) * pa / (pa - pb)))
    return {"max_loss": None if slope < -1e-9 else min(loss, 0.0),
            "max_gain": None if slope > 1e-9 else max(gain, 0.0),
            "breakevens": [round(b, 4) for b in breakevens]}


def position_greeks(legs, spot: float, *, rate: float = 0.0, dividend_yield: float = 0.0) -> dict:
    """Sum of leg greeks x quantity x 100: delta in shares, vega/rho per vol/rate point, theta per day."""
    totals = {"delta": 0.0, "gamma": 0.0, "vega": 0.0, "theta": 0.0, "rho": 0.0}
    for leg_ in legs:
        if leg_["kind"] == "stock":
            totals["delta"] += leg_["quantity"] * MULTIPLIER
            continue
        years = max(leg_["days"], 0.5) / 365.0
        g = bsm.greeks(leg_["kind"] == "call", spot, leg_["strike"], years, rate, dividend_yield,
                       leg_.get("iv") or DEFAULT_VOL)
        for name in totals:
            totals[name] += float(g[name]) * leg_["quantity"] * MULTIPLIER
    return totals


def risk_at_entry(legs, spot: float, *, rate: float = 0.0, dividend_yield: float = 0.0) -> dict:
    return {**max_loss_and_gain(legs), "entry_value": entry_value(legs),
            "greeks": position_greeks(legs, spot, rate=rate, dividend_yield=dividend_yield), "spot": spot}


def legs_at_mark(legs, chain, as_of) -> list[dict]:
    """The legs as they stand at a snapshot: days left from `as_of`, the contract's market IV from the snapshot's
    chain when it solved (else the entry IV); legs already expired are dropped (they settled at intrinsic)."""
    from datetime import date

    as_of = date.fromisoformat(str(as_of))
    marked = []
    for leg_ in legs:
        if leg_["kind"] == "stock":
            marked.append(leg_)
            continue
        days = (date.fromisoformat(leg_["expiry"]) - as_of).days
        if days <= 0:
            continue
        market_iv = None
        if chain is not None and len(chain):
            match = chain[(chain["type"] == leg_["kind"]) & (chain["expiry"].astype(str) == leg_["expiry"])
                          & np.isclose(chain["strike"], leg_["strike"])]
            if len(match) and match["implied_vol"].notna().iloc[0]:
                market_iv = float(match["implied_vol"].iloc[0])
        marked.append({**leg_, "days": days, "iv": market_iv or leg_.get("iv")})
    return marked
