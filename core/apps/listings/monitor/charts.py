"""Plotly figures of the monitor's statistics: frames from stats.py in, a Figure out (no Streamlit)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.charts import PALETTE, _layout

DAY_MS = 86_400_000  # one tick a day: passes within a day share one price point per listing


def _empty(fig: go.Figure, message: str) -> go.Figure:
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def median_price_chart(frame: pd.DataFrame, title: str | None = "Median price by category") -> go.Figure:
    """One line per category (and currency) over the days."""
    fig = go.Figure()
    if frame.empty:
        return _layout(_empty(fig, "No prices recorded yet: run a pass over a watched source."), title)
    for index, ((category, currency), rows) in enumerate(frame.groupby(["category", "currency"], dropna=False)):
        label = f"{category} ({currency})" if isinstance(currency, str) else str(category)
        fig.add_scatter(x=rows["day"], y=rows["median_price"], mode="lines+markers", name=label,
                        line=dict(color=PALETTE[index % len(PALETTE)]),
                        customdata=rows["listings"],
                        hovertemplate="%{x|%Y-%m-%d}: %{y:,.2f} (%{customdata} listings)<extra>" + label + "</extra>")
    fig.update_yaxes(title="median price")
    fig.update_xaxes(tickformat="%Y-%m-%d", dtick=DAY_MS)
    return _layout(fig, title)


def volume_chart(frame: pd.DataFrame, title: str | None = "Listing volume") -> go.Figure:
    """Listings on the market per day, stacked by category, with new and gone listings as lines."""
    fig = go.Figure()
    if frame.empty:
        return _layout(_empty(fig, "No listings recorded yet."), title)
    for index, (category, rows) in enumerate(frame.groupby("category")):
        fig.add_bar(x=rows["day"], y=rows["on_market"], name=str(category),
                    marker_color=PALETTE[index % len(PALETTE)])
    daily = frame.groupby("day", as_index=False)[["new", "gone"]].sum()
    fig.add_scatter(x=daily["day"], y=daily["new"], mode="lines+markers", name="new and relisted",
                    line=dict(color="#16a085", dash="dot"))
    fig.add_scatter(x=daily["day"], y=daily["gone"], mode="lines+markers", name="gone",
                    line=dict(color="#c0392b", dash="dot"))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(tickformat="%Y-%m-%d", dtick=DAY_MS)
    fig.update_yaxes(title="listings")
    return _layout(fig, title)


def time_to_sell_chart(frame: pd.DataFrame, title: str | None = "Time to sell") -> go.Figure:
    """Median days from first sighting to selling out or leaving the market, per category."""
    fig = go.Figure()
    if frame.empty:
        return _layout(_empty(fig, "No listing has sold out or left the market yet."), title)
    fig.add_bar(x=frame["category"], y=frame["median_days"], marker_color=PALETTE[3],
                text=[f"{n} sold" for n in frame["sold"]], textposition="auto",
                hovertemplate="%{x}: %{y:.1f} days (median)<extra></extra>")
    fig.update_yaxes(title="median days")
    return _layout(fig, title)
