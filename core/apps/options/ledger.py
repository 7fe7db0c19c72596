"""The paper ledger: proposals a user accepts or rejects, open paper positions marked to market on
each snapshot, and a backtest that replays recorded snapshots through the same rules.

Paper trades belong to the user they were proposed to: every function here takes the acting
principal first and refuses another user's trade (admins see all), as core/tenancy does for data.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from sqlmodel import select

from core.apps.options import decisions, risk, strategies
from core.apps.options.snapshots import iv_rank, latest_snapshot, snapshot_chain, snapshots
from core.auth import Principal
from core.store.models import OptionSnapshot, PaperMark, PaperTrade
from core.store.sql import session_scope
from core.tenancy import NotFoundOrDenied, owns, require_supplier, sees_everything

OPEN, PROPOSED, REJECTED, CLOSED = "open", "proposed", "rejected", "closed"
GREEKS = ("delta", "gamma", "vega", "theta", "rho")


def _owned_trade(session, principal: Principal, trade_id: int) -> PaperTrade:
    trade = session.get(PaperTrade, trade_id)
    if trade is None or not owns(principal, trade.owner_id):
        raise NotFoundOrDenied(f"No paper trade {trade_id} that you can use.")
    return trade


def propose_trade(principal: Principal | None, symbol: str) -> dict:
    """Run the rules on the latest snapshot of `symbol`; a proposal is saved for the principal to decide."""
    require_supplier(principal, "get paper trade proposals")
    snap = latest_snapshot(symbol)
    if snap is None:
        return {"strategy": None, "reasons": [f"No snapshot of {symbol} yet; take one first."]}
    chain = snapshot_chain(snap["id"])
    rank, history = iv_rank(symbol, snap["atm_vol_30d"])
    proposal = decisions.propose(symbol, chain, snap["underlying_price"], rank, history, rate=snap["rate"],
                                 dividend_yield=snap["dividend_yield"])
    if proposal.strategy is None:
        return {"strategy": None, "reasons": proposal.reasons}
    return save_trade(principal, symbol, proposal.strategy, proposal.legs, proposal.reasons, snap, status=PROPOSED)


def save_trade(principal: Principal | None, symbol: str, strategy: str, legs: list[dict], reasons: list[str],
               snap: dict, status: str = PROPOSED) -> dict:
    """Record a position (a rule's proposal, or one the user built) with its risk at entry."""
    require_supplier(principal, "record paper trades")
    at_entry = risk.risk_at_entry(legs, snap["underlying_price"], rate=snap["rate"],
                                  dividend_yield=snap["dividend_yield"])
    entry = strategies.entry_value(legs)
    # An open position is marked at once at its entry snapshot's mids: the ledger shows the spread paid.
    value = _mark_at(legs, snap["id"]) if status == OPEN else None
    with session_scope() as session:
        trade = PaperTrade(owner_id=principal.id, symbol=symbol, strategy=strategy, status=status, legs=legs,
                           reasons=reasons, risk=at_entry, snapshot_id=snap["id"], entry_value=entry,
                           last_value=value, unrealized_pnl=None if value is None else value - entry,
                           marked_at=datetime.now(UTC) if value is not None else None,
                           decided_at=datetime.now(UTC) if status != PROPOSED else None)
        session.add(trade)
        session.flush()
        return trade.model_dump()


def _mark_at(legs: list[dict], snapshot_id: int) -> float:
    with session_scope() as session:
        snap = session.get(OptionSnapshot, snapshot_id)
        spot, as_of = snap.underlying_price, date.fromisoformat(snap.as_of)
    return leg_marks(legs, snapshot_chain(snapshot_id), spot, as_of)


def decide(principal: Principal | None, trade_id: int, accept: bool) -> dict:
    """Accept (the proposal becomes an open paper position) or reject it."""
    require_supplier(principal, "decide on paper trades")
    with session_scope() as session:
        trade = _owned_trade(session, principal, trade_id)
        if trade.status != PROPOSED:
            raise ValueError(f"Paper trade {trade_id} is {trade.status}; only a proposal can be accepted or rejected.")
        trade.status = OPEN if accept else REJECTED
        trade.decided_at = datetime.now(UTC)
        if accept and trade.snapshot_id is not None and trade.last_value is None:
            trade.last_value = _mark_at(trade.legs, trade.snapshot_id)
            trade.unrealized_pnl, trade.marked_at = trade.last_value - trade.entry_value, trade.decided_at
        session.add(trade)
        session.flush()
        return trade.model_dump()


def close_trade(principal: Principal | None, trade_id: int) -> dict:
    require_supplier(principal, "close paper trades")
    with session_scope() as session:
        trade = _owned_trade(session, principal, trade_id)
        if trade.status != OPEN:
            raise ValueError(f"Paper trade {trade_id} is {trade.status}, not open.")
        trade.status = CLOSED
        session.add(trade)
        session.flush()
        return trade.model_dump()


def trades(principal: Principal | None, status: str | None = None) -> list[dict]:
    require_supplier(principal, "see paper trades")
    with session_scope() as session:
        query = select(PaperTrade).order_by(PaperTrade.id.desc())
        if not sees_everything(principal):
            query = query.where(PaperTrade.owner_id == principal.id)
        if status:
            query = query.where(PaperTrade.status == status)
        return [t.model_dump() for t in session.exec(query)]


def marks(principal: Principal | None, trade_id: int) -> list[dict]:
    require_supplier(principal, "see paper trades")
    with session_scope() as session:
        _owned_trade(session, principal, trade_id)
        rows = session.exec(select(PaperMark).where(PaperMark.trade_id == trade_id).order_by(PaperMark.id)).all()
        return [m.model_dump() for m in rows]


def leg_marks(legs: list[dict], chain: pd.DataFrame, spot: float, as_of: date) -> float:
    """Value of a position at a snapshot: option legs at the quoted mid (their intrinsic value once expired,
    the model value at the leg's entry IV when the contract has no two-sided quote), stock at spot."""
    total = 0.0
    for leg in legs:
        if leg["kind"] == "stock":
            total += leg["quantity"] * strategies.MULTIPLIER * spot
            continue
        expiry = date.fromisoformat(leg["expiry"])
        if expiry <= as_of:
            intrinsic = max(spot - leg["strike"], 0) if leg["kind"] == "call" else max(leg["strike"] - spot, 0)
            total += leg["quantity"] * strategies.MULTIPLIER * intrinsic
            continue
        match = chain[(chain["type"] == leg["kind"]) & (chain["expiry"].astype(str) == leg["expiry"])
                      & np.isclose(chain["strike"], leg["strike"])]
        mid = match["mid"].iloc[0] if len(match) else np.nan
        if pd.isna(mid):
            moved = {**leg, "days": (expiry - as_of).days}
            total += float(risk.value_at([moved], np.array([spot]))[0])
        else:
            total += leg["quantity"] * strategies.MULTIPLIER * float(mid)
    return total


def mark_to_market(snapshot_id: int) -> int:
    """Mark every open paper trade on the snapshot's symbol; returns how many were marked.

    A system step run by each snapshot (not a user action), so it takes no principal."""
    with session_scope() as session:
        snap = session.get(OptionSnapshot, snapshot_id)
        open_trades = session.exec(select(PaperTrade).where(PaperTrade.symbol == snap.symbol,
                                                            PaperTrade.status == OPEN)).all()
        if not open_trades:
            return 0
        spot, as_of = snap.underlying_price, date.fromisoformat(snap.as_of)
    chain = snapshot_chain(snapshot_id)
    now = datetime.now(UTC)
    with session_scope() as session:
        for trade in open_trades:
            value = leg_marks(trade.legs, chain, spot, as_of)
            pnl = value - trade.entry_value
            row = session.get(PaperTrade, trade.id)
            row.last_value, row.unrealized_pnl, row.marked_at = value, pnl, now
            if all(leg["kind"] == "stock" or date.fromisoformat(leg["expiry"]) <= as_of for leg in row.legs):
                row.status = CLOSED  # every option leg has expired: the position settles at intrinsic value
            session.add(row)
            session.add(PaperMark(trade_id=trade.id, snapshot_id=snapshot_id, value=value, pnl=pnl, marked_at=now))
    return len(open_trades)


def portfolio_greeks(principal: Principal | None) -> dict:
    """Greeks of every open paper trade the principal holds (admins: everyone's), each marked at the latest
    snapshot of its symbol (spot, days left, market IV of each contract), summed per symbol and overall.

    Units as in risk.position_greeks: delta in shares, gamma in shares per 1 move of the underlying, vega and
    rho per vol/rate point, theta per calendar day. Deltas of different underlyings do not add up in shares,
    so the overall line gives delta and gamma in currency (delta x spot; gamma for a 1% move)."""
    rows = []
    chains: dict[int, pd.DataFrame] = {}
    for trade in trades(principal, status=OPEN):
        snap = latest_snapshot(trade["symbol"])
        if snap is None:
            continue
        if snap["id"] not in chains:
            chains[snap["id"]] = snapshot_chain(snap["id"])
        spot = snap["underlying_price"]
        legs = risk.legs_at_mark(trade["legs"], chains[snap["id"]], snap["as_of"])
        g = risk.position_greeks(legs, spot, rate=snap["rate"], dividend_yield=snap["dividend_yield"])
        rows.append({"trade": trade["id"], "symbol": trade["symbol"], "strategy": trade["strategy"], "spot": spot,
                     "marked_as_of": snap["as_of"], **g, "delta_value": g["delta"] * spot,
                     "gamma_value_1pct": g["gamma"] * spot * spot / 100.0})
    positions = pd.DataFrame(rows, columns=["trade", "symbol", "strategy", "spot", "marked_as_of", *GREEKS,
                                            "delta_value", "gamma_value_1pct"])
    by_symbol = (positions.groupby("symbol", as_index=False)[[*GREEKS, "delta_value", "gamma_value_1pct"]].sum()
                 if len(positions) else positions.drop(columns=["trade", "strategy", "spot", "marked_as_of"]))
    totals = {name: float(positions[name].sum()) for name in ("delta_value", "gamma_value_1pct", "vega", "theta",
                                                               "rho")}
    return {"positions": positions, "by_symbol": by_symbol, "totals": totals, "open_trades": len(positions)}


def backtest(principal: Principal | None, symbol: str, *, hold_days: int = 21,
             max_loss_limit: float = decisions.MAX_LOSS_LIMIT) -> dict:
    """Replay recorded snapshots of `symbol`: propose with the rules (IV rank from snapshots up to that
    point only), hold until `hold_days` or expiry, mark at every snapshot. Nothing is written to the ledger."""
    require_supplier(principal, "run backtests")
    history = snapshots(symbol)
    if len(history) < 3:
        return {"trades": [], "equity": pd.DataFrame(columns=["as_of", "pnl"]),
                "note": f"{len(history)} snapshot(s) of {symbol}; record at least 3 to backtest."}
    realized, position, closed, curve = 0.0, None, [], []
    seen_vols: list[float] = []
    for snap in history:
        chain = snapshot_chain(snap["id"])
        as_of, spot = date.fromisoformat(snap["as_of"]), snap["underlying_price"]
        if snap["atm_vol_30d"] is not None:
            seen_vols.append(snap["atm_vol_30d"])
        open_pnl = 0.0
        if position is not None:
            value = leg_marks(position["legs"], chain, spot, as_of)
            open_pnl = value - position["entry_value"]
            held = (as_of - position["opened"]).days
            expired = any(leg["kind"] != "stock" and date.fromisoformat(leg["expiry"]) <= as_of
                          for leg in position["legs"])
            if held >= hold_days or expired:
                realized += open_pnl
                closed.append({**position, "closed": as_of, "pnl": open_pnl})
                position, open_pnl = None, 0.0
        if position is None and len(seen_vols) >= 2 and max(seen_vols) > min(seen_vols):
            current = seen_vols[-1]
            rank = (current - min(seen_vols)) / (max(seen_vols) - min(seen_vols))
            proposal = decisions.propose(symbol, chain, spot, rank, len(seen_vols), max_loss_limit=max_loss_limit,
                                         rate=snap["rate"], dividend_yield=snap["dividend_yield"])
            if proposal.strategy:
                position = {"strategy": proposal.strategy, "legs": proposal.legs, "opened": as_of,
                            "entry_value": strategies.entry_value(proposal.legs), "reasons": proposal.reasons}
        curve.append({"as_of": as_of, "pnl": realized + open_pnl})
    return {"trades": [{k: v for k, v in t.items() if k != "legs"} for t in closed],
            "equity": pd.DataFrame(curve), "open": position is not None, "realized": realized,
            "note": f"Replayed {len(history)} snapshots of {symbol}."}
