"""Rule-based strategy proposals: what to trade, why, and the risk taken at entry.

The rules are deliberately plain, so a trader can read a proposal's reasons and disagree:
- IV rank high (>= 60%): options are dear -> sell premium with defined risk (iron condor).
- IV rank low (<= 25%): options are cheap -> buy volatility (long straddle).
- In between: no volatility edge -> no proposal (said so, with the rank).
Every proposal must fit the risk limit (maximum loss at expiry); one that does not is dropped with
the reason. A pure function of a chain and the rank, so the backtest runs the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from core.apps.options import risk, strategies

HIGH_IV_RANK = 0.60
LOW_IV_RANK = 0.25
TARGET_DAYS = 30
MAX_LOSS_LIMIT = 2_000.0  # currency per trade


@dataclass
class Proposal:
    symbol: str
    strategy: str | None
    legs: list[dict] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    risk: dict = field(default_factory=dict)


def pick_expiry(chain: pd.DataFrame, target_days: int = TARGET_DAYS):
    expiries = chain.drop_duplicates("expiry")[["expiry", "days"]]
    expiries = expiries[expiries["days"] >= 5]
    if expiries.empty:
        return None
    return expiries.iloc[(expiries["days"] - target_days).abs().argsort().iloc[0]]["expiry"]


def propose(symbol: str, chain: pd.DataFrame, spot: float, rank: float | None, history: int, *,
            max_loss_limit: float = MAX_LOSS_LIMIT, rate: float = 0.0, dividend_yield: float = 0.0) -> Proposal:
    if rank is None:
        return Proposal(symbol, None, reasons=[f"IV rank needs at least 2 recorded snapshots with distinct ATM vol "
                                               f"(have {history}); take more snapshots."])
    reasons = [f"IV rank {rank:.0%} over {history} snapshots."]
    if rank >= HIGH_IV_RANK:
        name = "iron_condor"
        reasons.append(f"IV rank >= {HIGH_IV_RANK:.0%}: options are expensive; sell premium with defined risk.")
    elif rank <= LOW_IV_RANK:
        name = "long_straddle"
        reasons.append(f"IV rank <= {LOW_IV_RANK:.0%}: options are cheap; buy volatility.")
    else:
        reasons.append(f"IV rank between {LOW_IV_RANK:.0%} and {HIGH_IV_RANK:.0%}: no volatility edge, no trade.")
        return Proposal(symbol, None, reasons=reasons)
    expiry = pick_expiry(chain)
    if expiry is None:
        return Proposal(symbol, None, reasons=[*reasons, "No expiry at least 5 days out."])
    try:
        legs = strategies.build(name, chain, expiry, spot)
    except strategies.StrategyError as exc:
        return Proposal(symbol, None, reasons=[*reasons, f"Cannot build {name}: {exc}"])
    at_entry = risk.risk_at_entry(legs, spot, rate=rate, dividend_yield=dividend_yield)
    reasons.append(f"Expiry {expiry} (closest to {TARGET_DAYS} days).")
    loss = at_entry["max_loss"]
    if loss is None or -loss > max_loss_limit:
        shown = "unbounded" if loss is None else f"{-loss:,.0f}"
        return Proposal(symbol, None, reasons=[*reasons, f"Dropped: maximum loss {shown} exceeds the limit "
                                                         f"{max_loss_limit:,.0f}."])
    reasons.append(f"Maximum loss {-loss:,.0f} within the limit {max_loss_limit:,.0f}.")
    return Proposal(symbol, name, legs, reasons, at_entry)
