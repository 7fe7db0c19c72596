"""Plotly figure builders: plain data in, a Figure out. No Streamlit, so they are tested directly."""

from __future__ import annotations

import plotly.graph_objects as go

STAGE_LABELS = {
    "raw": "Raw documents", "processed": "Standardized items", "validated": "Validated (kept)",
    "packaged": "Published packages", "listed": "Listed", "sold": "Sold",
}
LOG_FROM_RATIO = 50  # largest / smallest non-zero stage from which the funnel switches to a log axis
PALETTE = ["#3056d3", "#4a6fe0", "#6b8cff", "#16a085", "#f39c12", "#c0392b"]


def _layout(fig: go.Figure, title: str | None = None, height: int = 340) -> go.Figure:
    fig.update_layout(
        title=title, height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        template="plotly_white", font=dict(size=13),
    )
    return fig


def stage_funnel(counts: dict[str, int], title: str | None = None) -> go.Figure:
    """The data funnel raw -> sold. Packages, listings and sales are counted in their own units."""
    stages = [s for s in STAGE_LABELS if s in counts]
    fig = go.Figure(
        go.Bar(
            x=[counts[s] for s in stages], y=[STAGE_LABELS[s] for s in stages], orientation="h",
            marker_color=PALETTE[: len(stages)], text=[f"{counts[s]:,}" for s in stages], textposition="auto",
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    positive = [counts[s] for s in stages if counts[s] > 0]
    if positive and max(positive) >= LOG_FROM_RATIO * min(positive):
        # Thousands of documents beside one sale: on a linear axis the small stages are invisible slivers.
        fig.update_traces(textposition="outside", cliponaxis=False)
        fig.update_xaxes(type="log", title="count (log scale)")
    return _layout(fig, title)
