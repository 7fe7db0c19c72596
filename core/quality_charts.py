"""Plotly builders for refinement results: plain tables in, Figures out (tested without Streamlit).

Inputs follow the signal contract: a signals table with one row per item (quality sub-scores, language,
duplicate_cluster, pii_* counts, topic labels) and a decisions table (id, kept, drop_reason).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.charts import _layout

KEPT_COLOR, DROPPED_COLOR, ACCENT = "#16a085", "#c0392b", "#3056d3"
PII_COLUMNS = {"pii_email": "email", "pii_phone": "phone", "pii_card": "card", "pii_iban": "IBAN",
               "pii_ip": "IP address", "pii_national_id": "national id"}


def rule_funnel(funnel: list[dict], total: int, title: str | None = "Refinement funnel") -> go.Figure:
    """Input -> each rule's survivors -> kept, from [{rule, dropped, remaining}, ...] in rule order."""
    labels = ["input"] + [step["rule"] for step in funnel]
    values = [total] + [step["remaining"] for step in funnel]
    fig = go.Figure(go.Funnel(y=labels, x=values, textinfo="value+percent initial", marker_color=ACCENT,
                              hovertemplate="%{y}: %{x:,} remain<extra></extra>"))
    return _layout(fig, title, height=max(260, 48 * len(labels)))


def signal_histogram(values: pd.Series, threshold_min: float | None = None, threshold_max: float | None = None,
                     title: str | None = None, bins: int = 30) -> go.Figure:
    """A histogram with the rule's thresholds drawn; counts match numpy.histogram on the same bins."""
    clean = pd.to_numeric(values, errors="coerce").dropna().astype(float)  # flags (bool) count as 0/1
    lo, hi = (float(clean.min()), float(clean.max())) if len(clean) else (0.0, 1.0)
    if lo >= 0.0 and hi <= 1.0:
        lo, hi = 0.0, 1.0  # a score: its whole scale, so a bunch of equal scores is one bar where it belongs
    elif hi <= lo:
        lo, hi = lo - 0.5, lo + 0.5
    counts, edges = np.histogram(clean, bins=bins, range=(lo, hi))
    centers = (edges[:-1] + edges[1:]) / 2
    colors = [DROPPED_COLOR if (threshold_min is not None and c < threshold_min)
              or (threshold_max is not None and c > threshold_max) else KEPT_COLOR for c in centers]
    fig = go.Figure(go.Bar(x=centers, y=counts, width=np.diff(edges), marker_color=colors,
                           hovertemplate="%{x:.3g}: %{y:,} items<extra></extra>"))
    for value, label in ((threshold_min, "min"), (threshold_max, "max")):
        if value is not None:
            fig.add_vline(x=value, line_dash="dash", line_color="#1f2430", annotation_text=f"{label} {value:g}")
    fig.update_layout(bargap=0.02, xaxis_title=title or values.name, yaxis_title="items")
    return _layout(fig, title, height=260)


def category_breakdown(values: pd.Series, kept: pd.Series | None = None, title: str | None = None,
                       top: int = 15) -> go.Figure:
    """Counts per category (language, domain, content type), split kept/dropped when decisions are given."""
    frame = pd.DataFrame({"category": values.fillna("(none)").astype(str)})
    frame["kept"] = kept.to_numpy() if kept is not None else True
    order = frame["category"].value_counts().index[:top]
    frame = frame[frame["category"].isin(order)]
    fig = go.Figure()
    for is_kept, name, color in ((True, "kept", KEPT_COLOR), (False, "dropped", DROPPED_COLOR)):
        counts = frame[frame["kept"] == is_kept]["category"].value_counts().reindex(order, fill_value=0)
        if counts.sum() or is_kept:
            fig.add_bar(x=list(order), y=counts.to_numpy(), name=name, marker_color=color)
    fig.update_layout(barmode="stack", yaxis_title="items")
    return _layout(fig, title, height=300)


def duplicate_cluster_sizes(clusters: pd.Series, title: str | None = "Duplicate cluster sizes") -> go.Figure:
    """How many clusters have 2, 3, ... members (singletons are not clusters)."""
    sizes = clusters.value_counts()
    sizes = sizes[sizes > 1].value_counts().sort_index()
    fig = go.Figure(go.Bar(x=[str(s) for s in sizes.index], y=sizes.to_numpy(), marker_color=ACCENT,
                           hovertemplate="%{y:,} clusters of %{x} items<extra></extra>"))
    fig.update_layout(xaxis_title="members per cluster", yaxis_title="clusters")
    return _layout(fig, title, height=260)


def pii_by_type(signals: pd.DataFrame, title: str | None = "PII findings by type") -> go.Figure:
    present = [c for c in PII_COLUMNS if c in signals.columns]
    totals = [int(pd.to_numeric(signals[c], errors="coerce").fillna(0).sum()) for c in present]
    docs = [int((pd.to_numeric(signals[c], errors="coerce").fillna(0) > 0).sum()) for c in present]
    fig = go.Figure()
    fig.add_bar(x=[PII_COLUMNS[c] for c in present], y=totals, name="findings", marker_color=DROPPED_COLOR)
    fig.add_bar(x=[PII_COLUMNS[c] for c in present], y=docs, name="items with one", marker_color="#f39c12")
    fig.update_layout(barmode="group")
    return _layout(fig, title, height=280)


def quality_by_source_over_time(frame: pd.DataFrame, title: str | None = "Quality by source over time") -> go.Figure:
    """Mean quality per source per period, from columns source_id, day (date-like) and quality.

    The period follows the time span (day, hour or minute), and the periods are labelled as text: a scrape
    collected in one afternoon gives readable hour labels instead of a date axis ticking 23:59:59.999.
    """
    fig = go.Figure()
    if not frame.empty:
        when = pd.to_datetime(frame["day"], utc=True, errors="coerce")
        span = when.max() - when.min() if when.notna().any() else pd.Timedelta(0)
        unit, label = (("D", "%Y-%m-%d") if span >= pd.Timedelta(days=2) else
                       ("h", "%Y-%m-%d %H:00") if span >= pd.Timedelta(hours=2) else ("min", "%Y-%m-%d %H:%M"))
        period = when.dt.floor(unit)
        grouped = (frame.assign(period=period).dropna(subset=["period"])
                   .groupby(["source_id", "period"], as_index=False)
                   .agg(quality=("quality", "mean"), items=("quality", "size")).sort_values("period"))
        order = [p.strftime(label) for p in sorted(grouped["period"].unique())]
        for source, rows in grouped.groupby("source_id"):
            fig.add_scatter(x=rows["period"].dt.strftime(label), y=rows["quality"], mode="lines+markers",
                            name=str(source), marker=dict(size=10), customdata=rows["items"],
                            hovertemplate="%{x}: mean %{y:.2f} over %{customdata:,} items"
                                          "<extra>%{fullData.name}</extra>")
        fig.update_xaxes(type="category", categoryorder="array", categoryarray=order)
    fig.update_layout(yaxis_title="mean quality", yaxis_range=[0, 1.02], legend=dict(orientation="h", y=-0.25))
    return _layout(fig, title, height=320)


def run_comparison(counts_a: dict[str, int], counts_b: dict[str, int], label_a: str, label_b: str,
                   title: str | None = "Drops per rule") -> go.Figure:
    rules = list(dict.fromkeys([*counts_a, *counts_b]))
    fig = go.Figure()
    fig.add_bar(x=rules, y=[counts_a.get(r, 0) for r in rules], name=label_a, marker_color=ACCENT)
    fig.add_bar(x=rules, y=[counts_b.get(r, 0) for r in rules], name=label_b, marker_color="#f39c12")
    fig.update_layout(barmode="group", yaxis_title="items dropped")
    return _layout(fig, title, height=300)
