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


def _contract(chain: pd.DataFrame, kind: str, expiry, strike: float, exact: bool = False) -> pd.Series:
    rows = chain[(chain["type"] == kind) & (chain["expiry"].astype(str) == str(expiry))]
    if rows.empty:
        raise StrategyError(f"No {kind}s for expiry {expiry}.")
    row = rows.iloc[(rows["strike"] - strike).abs().argsort().iloc[0]]
    if exact and abs(row["strike"] - strike) > 1e-9:
        raise StrategyError(f"No {kind} at strike {strike:g} listed for {expiry}; nearest is {row['strike']:g}.")
    if not (row["bid"] >= 0 and row["ask"] > 0):
        raise StrategyError(f"The {kind} {row['strike']:g} {expiry} has no usable quote.")
    return row


def leg(chain: pd.DataFrame, kind: str, expiry, strike: float, quantity: int, exact: bool = False) -> dict:
    if kind not in ("call", "put"):
        raise StrategyError(f"A leg is a call or a put, not {kind!r}.")
    if int(quantity) == 0:
        raise StrategyError("A leg needs a non-zero quantity (positive to buy, negative to sell).")
    row = _contract(chain, kind, expiry, strike, exact)
    price = float(row["ask"] if quantity > 0 else row["bid"])
    iv = row.get("implied_vol")
    return {"kind": kind, "strike": float(row["strike"]), "expiry": str(row["expiry"]), "days": int(row["days"]),
            "quantity": int(quantity), "entry_price": price, "iv": None if pd.isna(iv) else float(iv),
            "contract": row.get("contract")}


def stock_leg(spot: float, lots: int) -> dict:
    return {"kind": "stock", "strike": None, "expiry": None, "days": None, "quantity": int(lots),
            "entry_price": float(spot), "iv": None, "contract": "stock"}


def strikes_around(chain: pd.DataFrame, expiry, kind: str | None = None) -> list[float]:
    """Listed strikes at `expiry` (of one type when `kind` is given), ascending."""
    rows = chain[chain["expiry"].astype(str) == str(expiry)]
    if kind:
        rows = rows[rows["type"] == kind]
    return sorted(rows["strike"].unique().tolist())


def leg_label(leg_: dict) -> str:
    side = "long" if leg_["quantity"] > 0 else "short"
    return f"{side} {leg_['kind']}"


def with_strikes(chain: pd.DataFrame, legs: list[dict], strikes: list[float]) -> list[dict]:
    """The same legs (kind, side, quantity, expiry) at strikes the user chose, one per option leg in order.
    Each strike must be listed for its expiry; a quote is never taken from a neighbouring strike."""
    option_legs = [leg_ for leg_ in legs if leg_["kind"] != "stock"]
    if len(strikes) != len(option_legs):
        raise StrategyError(f"Give one strike per option leg ({len(option_legs)}), not {len(strikes)}.")
    chosen = iter(strikes)
    return [leg_ if leg_["kind"] == "stock"
            else leg(chain, leg_["kind"], leg_["expiry"], float(next(chosen)), leg_["quantity"], exact=True)
            for leg_ in legs]


def custom(chain: pd.DataFrame, spec: list[dict], spot: float | None = None) -> list[dict]:
    """Legs picked one by one: each {"kind": call|put|stock, "expiry", "strike", "quantity" (signed)}; expiries
    may differ (calendars, diagonals). Strikes must be listed for their expiry."""
    if not spec:
        raise StrategyError("Add at least one leg.")
    legs = []
    for i, item in enumerate(spec, start=1):
        try:
            if item["kind"] == "stock":
                if spot is None:
                    raise StrategyError("A stock leg needs the spot price.")
                legs.append(stock_leg(spot, int(item["quantity"])))
            else:
                legs.append(leg(chain, item["kind"], item["expiry"], float(item["strike"]), int(item["quantity"]),
                                exact=True))
        except StrategyError as exc:
            raise StrategyError(f"Leg {i}: {exc}") from None
    return legs


def build(name: str, chain: pd.DataFrame, expiry, spot: float, *, width: float | None = None,
          offset: float | None = None, quantity: int = 1, strikes: list[float] | None = None) -> list[dict]:
    """Legs of strategy `name` at `expiry`: `offset` is the distance of the short (or body) strikes from spot,
    `width` the wing width; both default to listed strike steps around the money. `strikes`, one per option
    leg in the order built, replaces those defaults with the user's own choice (see with_strikes)."""
    listed = strikes_around(chain, expiry)
    if len(listed) < 4:
        raise StrategyError(f"Too few strikes listed for {expiry} to build a {name}.")
    step = min(b - a for a, b in zip(listed, listed[1:], strict=False))
    width = width or 2 * step
    offset = offset if offset is not None else 2 * step
    atm = min(listed, key=lambda k: abs(k - spot))
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
    legs = builders[name]()
    return with_strikes(chain, legs, strikes) if strikes is not None else legs


def entry_value(legs: list[dict]) -> float:
    """Cash paid to open (negative when the position takes in a credit)."""
    return float(sum(leg_["quantity"] * leg_["entry_price"] * MULTIPLIER for leg_ in legs))
