"""Chain snapshots: broker JSON into the options raw store (as received) and standardized into SQL.

Each snapshot also marks every open paper trade on that symbol to market, so the ledger follows the
market exactly as often as data arrives. Market data is not owned (everyone sees the same market);
taking a snapshot is a supplier's or admin's action, checked here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlmodel import select

from core.apps.options.broker import BrokerAdapter, configured_broker
from core.apps.options.chains import atm_vol_by_expiry, standardized_chain
from core.auth import Principal
from core.store.models import OptionQuote, OptionSnapshot
from core.store.raw import content_hash, get_raw_store
from core.store.sql import session_scope
from core.tenancy import require_supplier

RAW_APP = "options"
QUOTE_COLUMNS = ("contract", "strike", "days", "bid", "ask", "mid", "volume", "open_interest", "implied_vol",
                 "delta", "gamma", "vega", "theta", "rho", "reason")


def _atm_vol_30d(frame: pd.DataFrame) -> float | None:
    term = atm_vol_by_expiry(frame).dropna()
    if term.empty:
        return None
    # Interpolate the at-the-money term structure at 30 days (flat beyond the listed range).
    return float(np.interp(30, term["days"].to_numpy(float), term["atm_vol"].to_numpy(float)))


def take_snapshot(principal: Principal | None, broker: BrokerAdapter, symbol: str) -> dict:
    """Fetch one chain, store it raw and standardized, mark open paper trades. Returns the snapshot row."""
    require_supplier(principal, "snapshot option chains")
    chain = broker.option_chain(symbol)
    raw_text = json.dumps(chain, sort_keys=True)
    fetched_at = datetime.now(UTC)
    source_id, chain_hash = f"options:{broker.name}:{symbol}", content_hash(raw_text)
    raw = get_raw_store()
    report = raw.insert_documents(RAW_APP, [{
        "source_id": source_id, "url": f"{broker.name}://marketdata/v1/chains?symbol={symbol}",
        "fetched_at": fetched_at, "content_hash": chain_hash, "raw_content": raw_text,
        "metadata": {"symbol": symbol, "broker": broker.name, "as_of": chain.get("asOf"),
                     "underlying_price": chain.get("underlyingPrice")}}])
    raw_id = report.new_ids[0] if report.new_ids else _stored_id(raw, source_id, chain_hash)
    frame = standardized_chain(chain)
    with session_scope() as session:
        snapshot = OptionSnapshot(symbol=symbol, broker=broker.name,
                                  as_of=str(chain.get("asOf") or fetched_at.date().isoformat())[:10],
                                  underlying_price=float(chain["underlyingPrice"]),
                                  rate=float(frame["rate"].iloc[0]) if len(frame) else 0.0,
                                  dividend_yield=float(frame["dividend_yield"].iloc[0]) if len(frame) else 0.0,
                                  atm_vol_30d=_atm_vol_30d(frame), contracts=len(frame),
                                  raw_id=raw_id, created_by=principal.id,
                                  taken_at=fetched_at)
        session.add(snapshot)
        session.flush()
        session.add_all([OptionQuote(snapshot_id=snapshot.id, put_call=row["type"], expiry=str(row["expiry"]),
                                     **{k: _plain(row[k]) for k in QUOTE_COLUMNS})
                         for row in frame.to_dict("records")])
        result = snapshot.model_dump()
    from core.apps.options.ledger import mark_to_market

    result["marked_trades"] = mark_to_market(result["id"])
    return result


def _stored_id(raw, source_id: str, chain_hash: str) -> str | None:
    """The raw document an identical chain was already stored as (another user took the same snapshot
    moments before): the snapshot links to it instead of to nothing."""
    found = raw.collection(RAW_APP).find_one({"source_id": source_id, "content_hash": chain_hash}, {"_id": 1})
    return str(found["_id"]) if found else None


def _plain(value):
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def snapshot_from_configured_broker(principal: Principal | None, symbols: list[str] | None = None) -> list[dict]:
    broker = configured_broker()
    return [take_snapshot(principal, broker, s) for s in (symbols or broker.symbols())]


def snapshots(symbol: str | None = None, limit: int = 500) -> list[dict]:
    with session_scope() as session:
        query = select(OptionSnapshot).order_by(OptionSnapshot.taken_at, OptionSnapshot.id)
        if symbol:
            query = query.where(OptionSnapshot.symbol == symbol)
        rows = session.exec(query).all()
        return [r.model_dump() for r in rows[-limit:]]


def latest_snapshot(symbol: str) -> dict | None:
    rows = snapshots(symbol, limit=1)
    return rows[-1] if rows else None


def snapshot_chain(snapshot_id: int) -> pd.DataFrame:
    """A stored snapshot's quotes in the same shape as chains.standardized_chain."""
    with session_scope() as session:
        snap = session.get(OptionSnapshot, snapshot_id)
        if snap is None:
            raise LookupError(f"No option snapshot {snapshot_id}.")
        quotes = session.exec(select(OptionQuote).where(OptionQuote.snapshot_id == snapshot_id)).all()
        frame = pd.DataFrame([q.model_dump() for q in quotes])
    if frame.empty:
        return frame
    frame = frame.rename(columns={"put_call": "type"}).drop(columns=["id", "snapshot_id"])
    frame["years"] = frame["days"] / 365.0
    frame["spot"], frame["rate"], frame["dividend_yield"] = snap.underlying_price, snap.rate, snap.dividend_yield
    return frame.sort_values(["expiry", "strike", "type"]).reset_index(drop=True)


def iv_rank(symbol: str, current: float | None, lookback: int = 252) -> tuple[float | None, int]:
    """(IV rank of `current` within the recorded 30-day ATM vols, number of snapshots behind it)."""
    history = [s["atm_vol_30d"] for s in snapshots(symbol, limit=lookback) if s["atm_vol_30d"] is not None]
    if current is None or len(history) < 2 or max(history) == min(history):
        return None, len(history)
    return (current - min(history)) / (max(history) - min(history)), len(history)
