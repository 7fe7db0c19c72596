"""Plotly figure builders for property analysis: pure functions, data in, Figure out."""

from __future__ import annotations

import plotly.graph_objects as go


def irr_heatmap(grid: dict, *, current_rate: float | None = None, current_rent: float | None = None) -> go.Figure:
    """IRR (%) over mortgage rate (x) and monthly rent (y), from scenario.irr_grid; the scenario is marked."""
    figure = go.Figure(go.Heatmap(
        x=[f"{r:g}%" for r in grid["rates"]], y=[f"{r:,.0f}" for r in grid["rents"]], z=grid["irr_pct"],
        colorscale="RdYlGn", zmid=0, colorbar={"title": "IRR %"},
        text=[[("-" if v is None else f"{v:.1f}") for v in row] for row in grid["irr_pct"]],
        texttemplate="%{text}", hovertemplate="rate %{x}<br>rent %{y}<br>IRR %{z:.2f}%<extra></extra>"))
    if current_rate is not None and current_rent is not None:
        figure.add_trace(go.Scatter(
            x=[f"{_nearest(grid['rates'], current_rate):g}%"], y=[f"{_nearest(grid['rents'], current_rent):,.0f}"],
            mode="markers", marker={"symbol": "x", "size": 14, "color": "black"}, name="this scenario",
            hoverinfo="skip"))
    figure.update_layout(title="IRR over mortgage rate and monthly rent", xaxis_title="mortgage rate",
                         yaxis_title="monthly rent", height=420, margin={"l": 60, "r": 20, "t": 50, "b": 50},
                         showlegend=False)
    return figure


def cash_flow_chart(figures: dict) -> go.Figure:
    """Yearly cash flows of a scenario (year 0 = cash invested, the last year includes the sale)."""
    flows = figures["cash_flows"]
    figure = go.Figure(go.Bar(x=list(range(len(flows))), y=flows,
                              marker_color=["#c0392b" if f < 0 else "#27ae60" for f in flows],
                              hovertemplate="year %{x}: %{y:,.0f}<extra></extra>"))
    figure.update_layout(title="Yearly cash flows", xaxis_title="year", yaxis_title="cash flow", height=320,
                         margin={"l": 60, "r": 20, "t": 50, "b": 50})
    return figure


def valuation_chart(rows: list[dict]) -> go.Figure:
    """Listed price against the estimate with its interval, one point per valued listing."""
    valued = [r for r in rows if r.get("estimate") is not None and r.get("listed_price") is not None]
    colours = {"under": "#27ae60", "near": "#7f8c8d", "over": "#c0392b"}
    figure = go.Figure()
    for flag, colour in colours.items():
        chosen = [r for r in valued if r.get("flag") == flag]
        if not chosen:
            continue
        figure.add_trace(go.Scatter(
            x=[r["estimate"] for r in chosen], y=[r["listed_price"] for r in chosen], mode="markers", name=flag,
            marker={"color": colour, "size": 8},
            error_x={"type": "data", "symmetric": False, "array": [r["high"] - r["estimate"] for r in chosen],
                     "arrayminus": [r["estimate"] - r["low"] for r in chosen], "thickness": 1},
            text=[str(r.get("title") or r.get("item_id")) for r in chosen],
            hovertemplate="%{text}<br>estimate %{x:,.0f}<br>listed %{y:,.0f}<extra></extra>"))
    if valued:
        top = max(max(r["high"] for r in valued), max(r["listed_price"] for r in valued))
        figure.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", name="listed = estimate",
                                    line={"dash": "dot", "color": "#95a5a6"}, hoverinfo="skip"))
    figure.update_layout(title="Listed price against the estimate (bars: interval)", xaxis_title="estimate",
                         yaxis_title="listed price", height=420, margin={"l": 60, "r": 20, "t": 50, "b": 50})
    return figure


def _nearest(values: list[float], value: float) -> float:
    return min(values, key=lambda v: abs(v - value))
