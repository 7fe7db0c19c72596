"""Plotly figures for the options page (pure: data in, Figure out)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go


def smile_figure(chain: pd.DataFrame, expiries: list) -> go.Figure:
    fig = go.Figure()
    usable = chain.dropna(subset=["implied_vol"])
    for expiry in expiries:
        rows = usable[usable["expiry"].astype(str) == str(expiry)]
        # OTM options carry the smile's information; ITM mids are mostly intrinsic value.
        otm = rows[((rows["type"] == "call") & (rows["strike"] >= rows["spot"]))
                   | ((rows["type"] == "put") & (rows["strike"] < rows["spot"]))].sort_values("strike")
        fig.add_trace(go.Scatter(x=otm["strike"], y=otm["implied_vol"] * 100, mode="lines+markers", name=str(expiry)))
    if len(usable):
        fig.add_vline(x=float(usable["spot"].iloc[0]), line_dash="dot", annotation_text="spot")
    fig.update_layout(title="Volatility smile (out-of-the-money quotes)", xaxis_title="strike",
                      yaxis_title="implied vol (%)", height=380)
    return fig


def term_structure_figure(term: pd.DataFrame) -> go.Figure:
    fig = go.Figure(go.Scatter(x=term["days"], y=term["atm_vol"] * 100, mode="lines+markers", name="ATM"))
    fig.update_layout(title="ATM term structure", xaxis_title="days to expiry", yaxis_title="implied vol (%)",
                      height=320)
    return fig


def payoff_figure(spots: np.ndarray, at_expiry: np.ndarray, today: np.ndarray, spot: float,
                  breakevens: list[float]) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=spots, y=at_expiry, name="at expiry", line={"width": 3}))
    fig.add_trace(go.Scatter(x=spots, y=today, name="today (entry IV)", line={"dash": "dash"}))
    fig.add_hline(y=0, line_color="gray")
    fig.add_vline(x=spot, line_dash="dot", annotation_text="spot")
    for b in breakevens:
        fig.add_vline(x=b, line_color="orange", line_dash="dot")
    fig.update_layout(title="Profit and loss", xaxis_title="underlying price", yaxis_title="P&L", height=380)
    return fig


def pnl_grid_figure(grid: np.ndarray, spots: np.ndarray, vol_shifts: np.ndarray) -> go.Figure:
    fig = go.Figure(go.Heatmap(z=grid, x=np.round(spots, 2), y=[f"{v * 100:+.0f} pts" for v in vol_shifts],
                               colorscale="RdYlGn", zmid=0, colorbar={"title": "P&L"}))
    fig.update_layout(title="P&L over spot and volatility", xaxis_title="underlying price",
                      yaxis_title="vol shift", height=380)
    return fig


def equity_figure(equity: pd.DataFrame) -> go.Figure:
    fig = go.Figure(go.Scatter(x=equity["as_of"], y=equity["pnl"], mode="lines"))
    fig.update_layout(title="Backtest P&L", xaxis_title="date", yaxis_title="cumulative P&L", height=320)
    return fig
