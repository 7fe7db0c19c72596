"""Broker chain JSON (Schwab's shape) -> one standardized row per contract, with IV and greeks.

Mid prices are solved for implied volatility; quotes without a usable two-sided market, or whose mid
breaks the no-arbitrage bounds, keep their row with an empty IV and the reason.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from core.apps.options import iv
from core.apps.options.greeks_table import GREEK_COLUMNS, analyze_arrays

# A chain table is for reading, not for 1e-6 research: accept any IV the quote pins to 0.01 vol point.
DISPLAY_VOL_UNCERTAINTY = 1e-4


def chain_rows(chain: dict) -> pd.DataFrame:
    """Contracts of a chain as a DataFrame (strike, expiry, years, bid, ask, mid, volume, open interest...)."""
    as_of = date.fromisoformat(str(chain.get("asOf") or date.today().isoformat())[:10])
    rows = []
    for side in ("callExpDateMap", "putExpDateMap"):
        for expiry_key, by_strike in (chain.get(side) or {}).items():
            for contracts in by_strike.values():
                for c in contracts:
                    expiry = date.fromisoformat(str(c.get("expirationDate", expiry_key.split(":")[0]))[:10])
                    rows.append({
                        "contract": c.get("symbol"), "type": str(c.get("putCall", "")).lower(),
                        "strike": float(c.get("strikePrice")), "expiry": expiry,
                        "days": (expiry - as_of).days, "bid": _num(c.get("bid")), "ask": _num(c.get("ask")),
                        "volume": int(c.get("totalVolume") or 0), "open_interest": int(c.get("openInterest") or 0),
                    })
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["years"] = frame["days"].clip(lower=0) / 365.0
    two_sided = (frame["bid"] > 0) & (frame["ask"] >= frame["bid"])
    frame["mid"] = np.where(two_sided, (frame["bid"] + frame["ask"]) / 2, np.nan)
    return frame.sort_values(["expiry", "strike", "type"]).reset_index(drop=True)


def standardized_chain(chain: dict) -> pd.DataFrame:
    """chain_rows plus implied_vol, greeks and reason (trader units)."""
    frame = chain_rows(chain)
    if frame.empty:
        return frame
    n = len(frame)
    spot = float(chain["underlyingPrice"])
    rate = float(chain.get("interestRate") or 0.0)
    rate = rate / 100 if rate > 1 else rate  # Schwab reports the rate in percent
    dividend = float(chain.get("dividendYield") or 0.0)
    dividend = dividend / 100 if dividend > 1 else dividend
    result = analyze_arrays(frame["type"].eq("call").to_numpy(), np.full(n, spot), frame["strike"].to_numpy(float),
                            frame["years"].to_numpy(float), np.full(n, rate), np.full(n, dividend),
                            frame["mid"].to_numpy(float), max_vol_uncertainty=DISPLAY_VOL_UNCERTAINTY)
    frame["implied_vol"] = result["implied_vol"]
    for name in GREEK_COLUMNS:
        frame[name] = result[name]
    codes = result["reason_code"].copy()
    codes[np.isnan(frame["mid"].to_numpy())] = iv.BAD_PRICE
    frame["reason"] = iv.reason_text(codes)
    frame.loc[np.isnan(frame["mid"].to_numpy()), "reason"] = "no two-sided market (bid or ask missing)"
    frame["spot"], frame["rate"], frame["dividend_yield"] = spot, rate, dividend
    return frame


def _num(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def atm_vol_by_expiry(frame: pd.DataFrame) -> pd.DataFrame:
    """Term structure: per expiry, the IV of the strike closest to spot (mean of call and put)."""
    if frame.empty:
        return pd.DataFrame(columns=["expiry", "days", "atm_vol"])
    usable = frame.dropna(subset=["implied_vol"]).copy()
    usable["distance"] = (usable["strike"] - usable["spot"]).abs()
    nearest = usable[usable["distance"] == usable.groupby("expiry")["distance"].transform("min")]
    return nearest.groupby(["expiry", "days"], as_index=False)["implied_vol"].mean().rename(
        columns={"implied_vol": "atm_vol"})
