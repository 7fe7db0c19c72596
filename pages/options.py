"""Options: chains with IV and greeks, smile and term structure, strategy risk, paper decisions."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.apps.options import charts, ledger, risk, snapshots, strategies
from core.apps.options.broker import BrokerError, configured_broker
from core.apps.options.chains import atm_vol_by_expiry
from core.auth import PermissionDenied
from pages._ui import bootstrap, require_page_user

bootstrap()
user = require_page_user("supplier", "admin")
st.title("Options")
st.caption("Market data from Schwab when configured, else the offline simulator. Paper trading only: "
           "nothing here places a real order.")


@st.cache_resource(show_spinner=False)
def _broker():
    return configured_broker()


try:
    broker = _broker()
    symbols = broker.symbols()
except BrokerError as exc:
    st.error(f"The market data source is not available: {exc}")
    st.stop()

left, middle, right = st.columns([2, 1, 1])
symbol = left.selectbox("Underlying", symbols, key="options_symbol")
if middle.button("Take snapshot", help="Fetch the chain, store it, mark open paper trades to market"):
    try:
        snapshots.take_snapshot(user, broker, symbol)
    except (BrokerError, PermissionDenied) as exc:
        st.error(str(exc))
if hasattr(broker, "advance") and right.button("Next day (simulator)"):
    broker.advance(1)
    snapshots.take_snapshot(user, broker, symbol)

snap = snapshots.latest_snapshot(symbol)
if snap is None:
    st.info(f"No snapshot of {symbol} yet. Press **Take snapshot**.")
    st.stop()
chain = snapshots.snapshot_chain(snap["id"])
spot = snap["underlying_price"]
st.write(f"**{symbol}** {spot:,.2f} as of {snap['as_of']} ({snap['broker']}, {snap['contracts']} contracts)")

tab_chain, tab_strategy, tab_paper, tab_backtest = st.tabs(["Chain", "Strategy", "Paper trades", "Backtest"])

with tab_chain:
    expiries = sorted(chain["expiry"].unique().tolist())
    expiry = st.selectbox("Expiry", expiries, key="options_chain_expiry")
    shown = chain[chain["expiry"] == expiry][["type", "strike", "bid", "ask", "mid", "volume", "open_interest",
                                              "implied_vol", "delta", "gamma", "vega", "theta", "rho", "reason"]]
    st.dataframe(shown, hide_index=True, width="stretch", column_config={
        "implied_vol": st.column_config.NumberColumn("IV", format="percent")})
    st.plotly_chart(charts.smile_figure(chain, st.multiselect("Smile expiries", expiries, default=expiries[:3],
                                                               key="options_smile_expiries")))
    st.plotly_chart(charts.term_structure_figure(atm_vol_by_expiry(chain)))

with tab_strategy:
    c1, c2, c3 = st.columns(3)
    name = c1.selectbox("Strategy", strategies.STRATEGIES, key="options_strategy")
    expiry = c2.selectbox("Expiry ", expiries, index=min(2, len(expiries) - 1), key="options_strategy_expiry")
    quantity = c3.number_input("Quantity", min_value=1, max_value=100, value=1, key="options_quantity")
    try:
        legs = strategies.build(name, chain, expiry, spot, quantity=int(quantity))
    except strategies.StrategyError as exc:
        st.error(str(exc))
        st.stop()
    at_entry = risk.risk_at_entry(legs, spot, rate=snap["rate"], dividend_yield=snap["dividend_yield"])
    st.dataframe(legs, hide_index=True)
    m1, m2, m3 = st.columns(3)
    m1.metric("Cost to open", f"{at_entry['entry_value']:,.2f}")
    m2.metric("Max loss", "unbounded" if at_entry["max_loss"] is None else f"{at_entry['max_loss']:,.2f}")
    m3.metric("Max gain", "unbounded" if at_entry["max_gain"] is None else f"{at_entry['max_gain']:,.2f}")
    st.write("Position greeks (delta in shares; vega, rho per point; theta per day): "
             + ", ".join(f"{k} {v:,.2f}" for k, v in at_entry["greeks"].items()))
    spots = np.linspace(spot * 0.7, spot * 1.3, 121)
    st.plotly_chart(charts.payoff_figure(spots, risk.payoff_at_expiry(legs, spots),
                                         risk.pnl_at(legs, spots, rate=snap["rate"]), spot, at_entry["breakevens"]))
    vol_shifts = np.array([-0.10, -0.05, 0.0, 0.05, 0.10])
    grid_spots = np.linspace(spot * 0.85, spot * 1.15, 13)
    days = st.slider("Days forward for the P&L grid", 0, int(risk.expiry_days(legs)), 0, key="options_grid_days")
    st.plotly_chart(charts.pnl_grid_figure(risk.pnl_grid(legs, grid_spots, vol_shifts, days_forward=days,
                                                         rate=snap["rate"]), grid_spots, vol_shifts))
    if st.button("Paper trade this", key="options_paper_this"):
        trade = ledger.save_trade(user, symbol, name, legs, ["Built by hand on the Strategy tab."], snap,
                                  status=ledger.OPEN)
        st.success(f"Paper trade {trade['id']} opened.")

with tab_paper:
    if st.button("Propose a trade (rules)", key="options_propose"):
        result = ledger.propose_trade(user, symbol)
        if result.get("strategy") is None:
            st.info(" ".join(result["reasons"]))
    for trade in ledger.trades(user, status=ledger.PROPOSED):
        with st.container(border=True):
            st.write(f"Proposal {trade['id']}: **{trade['strategy']}** on {trade['symbol']}")
            for reason in trade["reasons"]:
                st.write(f"- {reason}")
            loss = trade["risk"].get("max_loss")
            st.write(f"Cost to open {trade['entry_value']:,.2f}; max loss "
                     f"{'unbounded' if loss is None else f'{loss:,.2f}'}")
            a, b = st.columns(2)
            if a.button("Accept", key=f"options_accept_{trade['id']}"):
                ledger.decide(user, trade["id"], accept=True)
                st.rerun()
            if b.button("Reject", key=f"options_reject_{trade['id']}"):
                ledger.decide(user, trade["id"], accept=False)
                st.rerun()
    st.subheader("Ledger")
    rows = [t for t in ledger.trades(user) if t["status"] != ledger.PROPOSED]
    if rows:
        st.dataframe([{k: t[k] for k in ("id", "symbol", "strategy", "status", "entry_value", "last_value",
                                         "unrealized_pnl", "marked_at")} for t in rows], hide_index=True)
    else:
        st.caption("No paper trades yet.")

with tab_backtest:
    hold = st.number_input("Hold days", 1, 120, 21, key="options_hold_days")
    if st.button("Run backtest", key="options_backtest"):
        result = ledger.backtest(user, symbol, hold_days=int(hold))
        st.write(result["note"])
        if len(result["equity"]):
            st.plotly_chart(charts.equity_figure(result["equity"]))
            st.dataframe(result["trades"], hide_index=True)
