"""Options: chains with IV and greeks, smile and term structure, strategy risk, paper decisions, schedules."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import streamlit as st

from core.apps.options import charts, ledger, risk, schedule, snapshots, strategies
from core.apps.options.broker import BrokerError, configured_broker
from core.apps.options.chains import atm_vol_by_expiry
from core.auth import PermissionDenied
from pages._ui import bootstrap, require_page_user, show_job

bootstrap()
user = require_page_user("supplier", "admin")
st.title("Options")
st.caption("Market data from Schwab when configured, else the offline simulator. Paper trading only: "
           "nothing here places a real order.")


@st.cache_resource(show_spinner=False)
def _broker():
    return configured_broker()


def _scheduler():
    # The process's one scheduler (started at start-up); returned again here to show its health.
    from core.scheduler import start_scheduler

    return start_scheduler()


def _when(moment, just_now: str = "just now") -> tuple[str, str]:
    """(clock time, how long from now) for a UTC timestamp."""
    if moment is None:
        return "none", ""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    seconds = (moment - datetime.now(UTC)).total_seconds()
    if abs(seconds) < 60:
        relative = just_now if seconds <= 0 else "in under a minute"
    else:
        minutes = round(abs(seconds) / 60)
        span = f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"
        relative = f"in {span}" if seconds > 0 else f"{span} ago"
    return f"{moment:%H:%M:%S} UTC" if abs(seconds) < 86_400 else f"{moment:%Y-%m-%d %H:%M} UTC", relative


@st.fragment(run_every=2.0)
def _await_first_run() -> None:
    """Poll until the scheduler has submitted the first run, then redraw the page to show its job."""
    current = schedule.get_schedule(user)
    if current and current["last_job_id"]:
        st.rerun()
    st.caption("Waiting for the scheduler to start the first run (it checks every few seconds)...")


def _money(value) -> str:
    return "unbounded" if value is None else f"{value:,.2f}"


try:
    broker = _broker()
    symbols = broker.symbols()
except BrokerError as exc:
    st.error(f"The market data source is not available: {exc}")
    st.stop()
scheduler = _scheduler()

left, middle, right = st.columns([2, 1, 1], vertical_alignment="bottom")
symbol = left.selectbox("Underlying", symbols, key="options_symbol")
if middle.button("Take snapshot", help="Fetch the chain, store it, mark open paper trades to market",
                 width="stretch"):
    try:
        snapshots.take_snapshot(user, broker, symbol)
    except (BrokerError, PermissionDenied) as exc:
        st.error(str(exc))
if hasattr(broker, "advance") and right.button("Next day (simulator)", width="stretch",
                                               help="Move the simulated market on one trading day and snapshot"):
    try:
        broker.advance(1)
        snapshots.take_snapshot(user, broker, symbol)
    except (BrokerError, PermissionDenied) as exc:
        st.error(str(exc))

with st.expander("Scheduled snapshots", icon=":material/schedule:"):
    saved = schedule.get_schedule(user)
    with st.form("options_schedule_form", border=False):
        f1, f2, f3 = st.columns([3, 1, 1], vertical_alignment="bottom")
        chosen = f1.multiselect("Underlyings to snapshot", symbols,
                                default=[s for s in (saved or {}).get("symbols", [symbol]) if s in symbols],
                                key="options_schedule_symbols")
        interval = f2.number_input("Every (minutes)", schedule.MIN_INTERVAL_MINUTES, schedule.MAX_INTERVAL_MINUTES,
                                   int((saved or {}).get("interval_minutes", 60)), key="options_schedule_interval")
        enabled = f3.toggle("On", value=bool((saved or {}).get("enabled", True)), key="options_schedule_on")
        if st.form_submit_button("Save schedule"):
            try:
                saved = schedule.save_schedule(user, chosen, int(interval), enabled)
                st.success("Schedule saved." + (" The first snapshot starts within a few seconds."
                                                if enabled else " Scheduled snapshots are off."))
            except (ValueError, PermissionDenied) as exc:
                st.error(str(exc))
    if saved:
        taken = [s["taken_at"] for s in map(snapshots.latest_snapshot, saved["symbols"]) if s]
        last_clock, last_ago = _when(max(taken) if taken else None)
        next_clock, next_in = _when(saved["next_run_at"], "due now") if saved["enabled"] else ("off", "")
        s1, s2, s3 = st.columns(3)
        s1.metric("Schedule", ", ".join(saved["symbols"]) or "-",
                  f"every {saved['interval_minutes']} min" if saved["enabled"] else "off", delta_color="off",
                  delta_arrow="off")
        s2.metric("Last snapshot", last_clock, last_ago or None, delta_color="off", delta_arrow="off")
        s3.metric("Next snapshot", next_clock, next_in or None, delta_color="off", delta_arrow="off")
        if st.button("Run now", key="options_schedule_run_now", disabled=not saved["symbols"]):
            try:
                st.session_state["options_schedule_job"] = schedule.run_now(user)
            except (ValueError, PermissionDenied) as exc:
                st.error(str(exc))
        job_id = st.session_state.get("options_schedule_job") or saved["last_job_id"]
        if job_id:
            show_job(job_id, key="options_schedule")
        elif saved["enabled"]:
            _await_first_run()
    tick_error = scheduler.error_of("options snapshots")
    if not scheduler.running or tick_error:
        st.warning(f"The snapshot scheduler is not healthy: {tick_error or 'stopped'}. "
                   "Reload the page, or run `python -m core options watch` beside the app.")

snap = snapshots.latest_snapshot(symbol)
if snap is None:
    st.info(f"No snapshot of {symbol} yet. Press **Take snapshot**, or schedule snapshots above.")
    st.stop()
chain = snapshots.snapshot_chain(snap["id"])
spot = snap["underlying_price"]
expiries = sorted(chain["expiry"].unique().tolist())
st.write(f"**{symbol}** {spot:,.2f} as of {snap['as_of']} ({snap['broker']}, {snap['contracts']} contracts; "
         f"snapshot taken {' '.join(_when(snap['taken_at']))})")

tab_chain, tab_strategy, tab_paper, tab_portfolio, tab_backtest = st.tabs(
    ["Chain", "Strategy", "Paper trades", "Portfolio greeks", "Backtest"])

with tab_chain:
    expiry = st.selectbox("Expiry", expiries, key="options_chain_expiry")
    shown = chain[chain["expiry"] == expiry][["type", "strike", "bid", "ask", "mid", "volume", "open_interest",
                                              "implied_vol", "delta", "gamma", "vega", "theta", "rho", "reason"]]
    st.dataframe(shown, hide_index=True, width="stretch", column_config={
        "implied_vol": st.column_config.NumberColumn("IV", format="percent"),
        **{g: st.column_config.NumberColumn(g, format="%.4f") for g in ("delta", "gamma", "vega", "theta", "rho")},
        "open_interest": st.column_config.NumberColumn("open int."),
        "reason": st.column_config.TextColumn("flag", help="Why a quote has no IV (empty when solved)")})
    st.plotly_chart(charts.smile_figure(chain, st.multiselect("Smile expiries", expiries, default=expiries[:3],
                                                               key="options_smile_expiries")))
    st.plotly_chart(charts.term_structure_figure(atm_vol_by_expiry(chain)))

with tab_strategy:
    c1, c2, c3 = st.columns(3)
    name = c1.selectbox("Strategy", [*strategies.STRATEGIES, "custom"], key="options_strategy",
                        format_func=lambda n: n.replace("_", " "))
    quantity = c3.number_input("Quantity", min_value=1, max_value=100, value=1, key="options_quantity")
    legs, problem = [], None
    if name == "custom":
        c2.caption("Pick each leg: type, side, expiry and a listed strike.")
        count = c2.number_input("Legs", 1, 4, 2, key="options_custom_count")
        spec = []
        for i in range(int(count)):
            k1, k2, k3, k4 = st.columns(4)
            kind = k1.selectbox(f"Leg {i + 1} type", ["call", "put", "stock"], key=f"options_custom_kind_{i}")
            side = k2.selectbox(f"Leg {i + 1} side", ["buy", "sell"], key=f"options_custom_side_{i}")
            leg_expiry = k3.selectbox(f"Leg {i + 1} expiry", expiries, index=min(2, len(expiries) - 1),
                                      key=f"options_custom_expiry_{i}", disabled=kind == "stock")
            listed = strategies.strikes_around(chain, leg_expiry, None if kind == "stock" else kind)
            strike = k4.selectbox(f"Leg {i + 1} strike", listed, key=f"options_custom_strike_{i}_{leg_expiry}",
                                  index=int(np.argmin([abs(k - spot) for k in listed])), disabled=kind == "stock",
                                  format_func=lambda k: f"{k:g}")
            spec.append({"kind": kind, "expiry": leg_expiry, "strike": strike,
                         "quantity": int(quantity) * (1 if side == "buy" else -1)})
        try:
            legs = strategies.custom(chain, spec, spot)
        except strategies.StrategyError as exc:
            problem = str(exc)
    else:
        expiry = c2.selectbox("Expiry ", expiries, index=min(2, len(expiries) - 1), key="options_strategy_expiry")
        try:
            legs = strategies.build(name, chain, expiry, spot, quantity=int(quantity))
        except strategies.StrategyError as exc:
            problem = str(exc)
        option_legs = [leg for leg in legs if leg["kind"] != "stock"]
        if option_legs:
            st.caption("Strikes (defaults sit around the money; pick any listed strike)")
            columns = st.columns(len(option_legs))
            chosen_strikes = []
            for i, (column, leg) in enumerate(zip(columns, option_legs, strict=True)):
                listed = strategies.strikes_around(chain, expiry, leg["kind"])
                chosen_strikes.append(column.selectbox(
                    f"{strategies.leg_label(leg)} strike", listed, index=listed.index(leg["strike"]),
                    key=f"options_strike_{name}_{expiry}_{i}", format_func=lambda k: f"{k:g}"))
            try:
                legs = strategies.with_strikes(chain, legs, chosen_strikes)
            except strategies.StrategyError as exc:
                problem = str(exc)
    if problem:
        st.error(problem)
    elif legs:
        at_entry = risk.risk_at_entry(legs, spot, rate=snap["rate"], dividend_yield=snap["dividend_yield"])
        st.dataframe([{"leg": strategies.leg_label(leg) if leg["kind"] != "stock" else
                       ("long" if leg["quantity"] > 0 else "short") + " stock",
                       "strike": leg["strike"], "expiry": leg["expiry"], "days": leg["days"],
                       "quantity": leg["quantity"], "fill price": leg["entry_price"], "entry IV": leg["iv"],
                       "contract": leg["contract"]} for leg in legs], hide_index=True,
                     column_config={"entry IV": st.column_config.NumberColumn(format="percent")})
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("Cost to open" if at_entry["entry_value"] >= 0 else "Credit received",
                  f"{abs(at_entry['entry_value']):,.2f}")
        m2.metric("Max loss", _money(at_entry["max_loss"]))
        m3.metric("Max gain", _money(at_entry["max_gain"]))
        m4.metric("Breakevens", ", ".join(f"{b:,.2f}" for b in at_entry["breakevens"]) or "none")
        st.caption("Position greeks: " + ", ".join(f"{k} {v:,.2f}" for k, v in at_entry["greeks"].items())
                   + " (delta in shares; vega, rho per point; theta per day)")
        spots = np.linspace(spot * 0.7, spot * 1.3, 121)
        st.plotly_chart(charts.payoff_figure(spots, risk.payoff_at_expiry(legs, spots),
                                             risk.pnl_at(legs, spots, rate=snap["rate"]), spot,
                                             at_entry["breakevens"]))
        vol_shifts = np.array([-0.10, -0.05, 0.0, 0.05, 0.10])
        grid_spots = np.linspace(spot * 0.85, spot * 1.15, 13)
        days = st.slider("Days forward for the P&L grid", 0, max(int(risk.expiry_days(legs)), 1), 0,
                         key="options_grid_days")
        st.plotly_chart(charts.pnl_grid_figure(risk.pnl_grid(legs, grid_spots, vol_shifts, days_forward=days,
                                                             rate=snap["rate"]), grid_spots, vol_shifts))
        if st.button("Paper trade this", key="options_paper_this", type="primary"):
            trade = ledger.save_trade(user, symbol, name, legs, ["Built by hand on the Strategy tab."], snap,
                                      status=ledger.OPEN)
            st.success(f"Paper trade {trade['id']} opened: see it on the Paper trades tab.")

with tab_paper:
    if st.button("Propose a trade (rules)", key="options_propose"):
        result = ledger.propose_trade(user, symbol)
        if result.get("strategy") is None:
            st.info(" ".join(result["reasons"]))
    for trade in ledger.trades(user, status=ledger.PROPOSED):
        with st.container(border=True):
            st.write(f"Proposal {trade['id']}: **{trade['strategy'].replace('_', ' ')}** on {trade['symbol']}")
            for reason in trade["reasons"]:
                st.write(f"- {reason}")
            st.write(f"Cost to open {trade['entry_value']:,.2f}; max loss {_money(trade['risk'].get('max_loss'))}")
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
                                         "unrealized_pnl", "marked_at")} for t in rows], hide_index=True,
                     column_config={k: st.column_config.NumberColumn(format="%.2f")
                                    for k in ("entry_value", "last_value", "unrealized_pnl")})
        st.caption("Open trades are marked to market on every snapshot (by hand, scheduled or Next day).")
    else:
        st.caption("No paper trades yet.")

with tab_portfolio:
    book = ledger.portfolio_greeks(user)
    if not book["open_trades"]:
        st.caption("No open paper trades: accept a proposal or paper trade a strategy first.")
    else:
        t = book["totals"]
        p1, p2, p3, p4, p5 = st.columns(5)
        p1.metric("Delta (currency)", f"{t['delta_value']:,.0f}")
        p2.metric("Gamma (per 1% move)", f"{t['gamma_value_1pct']:,.0f}")
        p3.metric("Vega (per vol point)", f"{t['vega']:,.2f}")
        p4.metric("Theta (per day)", f"{t['theta']:,.2f}")
        p5.metric("Rho (per rate point)", f"{t['rho']:,.2f}")
        st.caption(f"{book['open_trades']} open trade(s), each marked at the latest snapshot of its underlying "
                   "(spot, days left, each contract's market IV). Delta and gamma per underlying are in shares.")
        number = st.column_config.NumberColumn(format="%.2f")
        st.dataframe(book["by_symbol"], hide_index=True, column_config={c: number for c in book["by_symbol"].columns
                                                                        if c != "symbol"})
        st.dataframe(book["positions"], hide_index=True, column_config={
            c: number for c in book["positions"].columns if c not in ("trade", "symbol", "strategy", "marked_as_of")})

with tab_backtest:
    hold = st.number_input("Hold days", 1, 120, 21, key="options_hold_days")
    if st.button("Run backtest", key="options_backtest"):
        result = ledger.backtest(user, symbol, hold_days=int(hold))
        st.write(result["note"])
        if len(result["equity"]):
            st.plotly_chart(charts.equity_figure(result["equity"]))
            st.dataframe(result["trades"], hide_index=True)
