"""Strategy builders: verticals, straddles, strangles, iron condors, covered calls, as lists of legs.

A leg is a plain dict (JSON-ready, stored as is on a paper trade):
    {"kind": "call"|"put"|"stock", "strike", "expiry" (YYYY-MM-DD), "days", "quantity" (signed, contracts
     of 100; for stock, lots of 100 shares), "entry_price" (per share), "iv" (at entry; None for stock)}
Entries are filled at the side a trader would get: buys at the ask, sells at the bid.
"""

from __future__ import annotations

import pandas as pd

MULTIPLIER = 100
STRATEGIES = ("bull_call_vertical", "bear_put_vertical", "bull_put_credit", "bear_call_credit",
              "long_straddle", "short_straddle", "long_strangle", "short_strangle", "iron_condor", "covered_call")


class StrategyError(ValueError):
    """The chain cannot build this strategy (missing strikes or quotes); the message says which."""


def _contract(chain: pd.DataFrame, kind: str, expiry, strike: float) -> pd.Series:
    rows = chain[(chain["type"] == kind) & (chain["expiry"].astype(str) == str(expiry))]
    if rows.empty:
        raise StrategyError(f"No {kind}s for expiry {expiry}.")
    row = rows.iloc[(rows["strike"] - strike).abs().argsort().iloc[0]]
    if not (row["bid"] >= 0 and row["ask"] > 0):
        raise StrategyError(f"The {kind} {row['strike']:g} {expiry} has no usable quote.")
    return row


def leg(chain: pd.DataFrame, kind: str, expiry, strike: float, quantity: int) -> dict:
    row = _contract(chain, kind, expiry, strike)
    price = float(row["ask"] if quantity > 0 else row["bid"])
    iv = row.get("implied_vol")
    return {"kind": kind, "strike": float(row["strike"]), "expiry": str(row["expiry"]), "days": int(row["days"]),
            "quantity": int(quantity), "entry_price": price, "iv": None if pd.isna(iv) else float(iv),
            "contract": row.get("contract")}


def stock_leg(spot: float, lots: int) -> dict:
    return {"kind": "stock", "strike": None, "expiry": None, "days": None, "quantity": int(lots),
            "entry_price": float(spot), "iv": None, "contract": "stock"}


def strikes_around(chain: pd.DataFrame, expiry) -> list[float]:
    return sorted(chain.loc[chain["expiry"].astype(str) == str(expiry), "strike"].unique().tolist())


def build(name: str, chain: pd.DataFrame, expiry, spot: float, *, width: float | None = None,
          offset: float | None = None, quantity: int = 1) -> list[dict]:
    """Legs of strategy `name` at `expiry`: `offset` is the distance of the short (or body) strikes from spot,
    `width` the wing width; both default to listed strike steps around the money."""
    strikes = strikes_around(chain, expiry)
    if len(strikes) < 4:
        raise StrategyError(f"Too few strikes listed for {expiry} to build a {name}.")
    step = min(b - a for a, b in zip(strikes, strikes[1:], strict=False))
    width = width or 2 * step
    offset = offset if offset is not None else 2 * step
    atm = min(strikes, key=lambda k: abs(k - spot))
    q = quantity
    builders = {
        "bull_call_vertical": lambda: [leg(chain, "call", expiry, atm, q), leg(chain, "call", expiry, atm + width, -q)],
        "bear_put_vertical": lambda: [leg(chain, "put", expiry, atm, q), leg(chain, "put", expiry, atm - width, -q)],
        "bull_put_credit": lambda: [leg(chain, "put", expiry, atm - offset, -q),
                                    leg(chain, "put", expiry, atm - offset - width, q)],
        "bear_call_credit": lambda: [leg(chain, "call", expiry, atm + offset, -q),
                                     leg(chain, "call", expiry, atm + offset + width, q)],
        "long_straddle": lambda: [leg(chain, "call", expiry, atm, q), leg(chain, "put", expiry, atm, q)],
        "short_straddle": lambda: [leg(chain, "call", expiry, atm, -q), leg(chain, "put", expiry, atm, -q)],
        "long_strangle": lambda: [leg(chain, "call", expiry, atm + offset, q),
                                  leg(chain, "put", expiry, atm - offset, q)],
        "short_strangle": lambda: [leg(chain, "call", expiry, atm + offset, -q),
                                   leg(chain, "put", expiry, atm - offset, -q)],
        "iron_condor": lambda: [leg(chain, "put", expiry, atm - offset - width, q),
                                leg(chain, "put", expiry, atm - offset, -q),
                                leg(chain, "call", expiry, atm + offset, -q),
                                leg(chain, "call", expiry, atm + offset + width, q)],
        "covered_call": lambda: [stock_leg(spot, q), leg(chain, "call", expiry, atm + offset, -q)],
    }
    if name not in builders:
        raise StrategyError(f"Unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}.")
    return builders[name]()


def entry_value(legs: list[dict]) -> float:
    """Cash paid to open (negative when the position takes in a credit)."""
    return float(sum(leg_["quantity"] * leg_["entry_price"] * MULTIPLIER for leg_ in legs))
