"""Plotly builders for the Monitoring page: plain tables in, Figures out (no Streamlit here)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.charts import _layout

QUALITY_SERIES = {"kept_share": "kept share", "mean_quality": "mean quality", "pii_rate": "PII rate",
                  "duplicate_rate": "duplicate rate"}


def quality_trend(runs: pd.DataFrame, metric: str, title: str | None = None) -> go.Figure:
    """One line per source over run ids; runs with a change marker for this metric get a red ring."""
    fig = go.Figure()
    words = QUALITY_SERIES[metric]
    for source, group in runs.groupby("source", sort=True):
        group = group.sort_values("run_id")
        marked = group["changes"].map(lambda changes: any(c.startswith(words) for c in changes))
        fig.add_trace(go.Scatter(x=group["run_id"], y=group[metric], mode="lines+markers", name=str(source),
                                 marker={"size": [14 if m else 7 for m in marked],
                                         "line": {"width": [3 if m else 0 for m in marked], "color": "#c0392b"}},
                                 hovertemplate=f"run %{{x}}: {words} %{{y:.3f}}<extra>{source}</extra>"))
    fig.update_xaxes(title="refinement run", type="category")
    return _layout(fig, title or f"{words.capitalize()} per run", height=320)


def drop_reasons(reasons: pd.DataFrame, title: str | None = "Dropped items by reason") -> go.Figure:
    fig = go.Figure()
    for reason, group in reasons.groupby("reason", sort=True):
        fig.add_trace(go.Bar(x=group["run_id"].astype(str), y=group["items"], name=str(reason)))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title="refinement run", type="category")
    return _layout(fig, title, height=320)


def durations(by_kind: pd.DataFrame, title: str | None = "Job durations (seconds)") -> go.Figure:
    fig = go.Figure()
    for column, name in (("median_s", "median"), ("p90_s", "90th percentile"), ("max_s", "longest")):
        fig.add_trace(go.Bar(x=by_kind["kind"], y=by_kind[column], name=name))
    fig.update_layout(barmode="group")
    return _layout(fig, title, height=320)


def resource_lines(history: pd.DataFrame, columns: dict[str, str], title: str | None) -> go.Figure:
    fig = go.Figure()
    for column, name in columns.items():
        fig.add_trace(go.Scatter(x=history["taken_at"], y=history[column], mode="lines", name=name))
    return _layout(fig, title, height=300)


def accuracy_lines(accuracy: pd.DataFrame, title: str | None = "Accuracy on labelled predictions") -> go.Figure:
    fig = go.Figure()
    for (model, version), group in accuracy.dropna(subset=["accuracy"]).groupby(["model", "version"]):
        fig.add_trace(go.Scatter(x=group["day"], y=group["accuracy"], mode="lines+markers",
                                 name=f"{model} v{version}"))
    fig.update_yaxes(range=[0, 1.05])
    return _layout(fig, title, height=300)
