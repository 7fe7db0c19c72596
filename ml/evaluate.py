"""Held-out evaluation of a fitted model: metrics, permutation importance and plotly figures (as JSON).

Plotly is imported here only, so the modelling code and the CLI stay light; every figure is returned as a
JSON string (plotly.io.from_json restores it), which is what the registry stores with a model version.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, mean_absolute_error, r2_score

CALIBRATION_BINS = 10


# -- metrics ------------------------------------------------------------------------------------
def rmse(y_true, y_pred) -> float:
    diff = np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)
    return float(np.sqrt(np.mean(diff ** 2)))


def rmse_log(y_true, y_pred) -> float:
    """RMSE between log predicted and log true values (the usual score for prices); predictions are floored
    at a tiny positive value so a negative prediction costs a lot instead of breaking the metric."""
    y_true = np.asarray(y_true, dtype=float)
    floor = max(float(np.min(y_true)) * 1e-3, 1e-9)
    return rmse(np.log(y_true), np.log(np.maximum(np.asarray(y_pred, dtype=float), floor)))


def regression_metrics(y_true, y_pred) -> dict:
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    metrics = {"rmse": rmse(y_true, y_pred), "mae": float(mean_absolute_error(y_true, y_pred)),
               "r2": float(r2_score(y_true, y_pred)) if len(y_true) > 1 else float("nan"), "rows": len(y_true)}
    if len(y_true) and np.all(y_true > 0):
        metrics["rmse_log"] = rmse_log(y_true, y_pred)
    return metrics


def classification_metrics(y_true, y_pred, proba: np.ndarray | None, classes: list) -> dict:
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred).astype(y_true.dtype)  # integer classes stay integers (sklearn rejects mixed objects)
    metrics = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0)),
        "rows": len(y_true),
        "classes": [_plain(c) for c in classes],
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=classes).tolist(),
    }
    if proba is not None:
        onehot = (y_true[:, None] == np.asarray(classes, dtype=object)[None, :]).astype(float)
        # Multi-class Brier score (mean over rows of the squared distance to the one-hot truth), halved so a
        # binary problem gives the usual 0..1 Brier score of the positive class.
        metrics["brier"] = float(np.mean(np.sum((proba - onehot) ** 2, axis=1)) / 2)
        picked = np.clip(proba[np.arange(len(y_true)), onehot.argmax(axis=1)], 1e-15, 1.0)
        metrics["log_loss"] = float(-np.mean(np.log(picked))) if onehot.sum(axis=1).all() else None
        metrics["calibration"] = calibration_table(proba, y_true, y_pred)
        metrics["expected_calibration_error"] = _ece(metrics["calibration"], len(y_true))
    return metrics


def calibration_table(proba: np.ndarray, y_true, y_pred) -> list[dict]:
    """Reliability of the top-class confidence: per confidence bin, mean confidence vs. accuracy."""
    confidence = proba.max(axis=1)
    correct = np.asarray(y_true, dtype=object) == np.asarray(y_pred, dtype=object)
    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    bins = np.clip(np.digitize(confidence, edges[1:-1]), 0, CALIBRATION_BINS - 1)
    table = []
    for b in range(CALIBRATION_BINS):
        mask = bins == b
        if mask.any():
            table.append({"bin_low": float(edges[b]), "bin_high": float(edges[b + 1]), "count": int(mask.sum()),
                          "mean_confidence": float(confidence[mask].mean()), "accuracy": float(correct[mask].mean())})
    return table


def _ece(table: list[dict], rows: int) -> float:
    return float(sum(row["count"] * abs(row["mean_confidence"] - row["accuracy"]) for row in table) / max(rows, 1))


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


# -- permutation importance ----------------------------------------------------------------------
def permutation_importances(estimator, X: pd.DataFrame, y, task: str, *, seed: int = 0, budget_s: float = 30.0,
                            max_rows: int = 2000) -> list[dict]:
    """Importance of each input column: how much the held-out score drops when that column is shuffled.

    Cost is bounded: at most `max_rows` rows, and as many repeats (1..5) as fit in `budget_s`, judged from the
    time of one prediction over the slice. Sorted by importance, largest first.
    """
    if len(X) < 2 or X.shape[1] == 0:
        return []
    if len(X) > max_rows:
        picked = np.random.default_rng(seed).choice(len(X), size=max_rows, replace=False)
        X, y = X.iloc[np.sort(picked)], np.asarray(y)[np.sort(picked)]
    started = time.perf_counter()
    estimator.predict(X)
    one_predict = max(time.perf_counter() - started, 1e-4)
    repeats = int(min(5, budget_s / (one_predict * X.shape[1])))
    if repeats < 1:
        return []
    scoring = "neg_root_mean_squared_error" if task == "regression" else "accuracy"
    result = permutation_importance(estimator, X, y, scoring=scoring, n_repeats=repeats, random_state=seed, n_jobs=1)
    rows = [{"feature": str(column), "importance": float(mean), "std": float(std)}
            for column, mean, std in zip(X.columns, result.importances_mean, result.importances_std, strict=True)]
    return sorted(rows, key=lambda row: row["importance"], reverse=True)


# -- figures -------------------------------------------------------------------------------------
def _layout(fig, title: str, x: str, y: str):
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, template="plotly_white",
                      margin={"l": 60, "r": 20, "t": 50, "b": 50})
    return fig


def regression_figures(y_true, y_pred, target: str) -> dict[str, str]:
    import plotly.graph_objects as go

    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    low, high = float(min(y_true.min(), y_pred.min())), float(max(y_true.max(), y_pred.max()))
    scatter = go.Figure([go.Scattergl(x=y_true, y=y_pred, mode="markers", name="held-out rows",
                                      marker={"size": 5, "opacity": 0.6}),
                         go.Scatter(x=[low, high], y=[low, high], mode="lines", name="perfect",
                                    line={"dash": "dash", "color": "grey"})])
    residuals = y_true - y_pred
    resid = go.Figure([go.Scattergl(x=y_pred, y=residuals, mode="markers", name="residual",
                                    marker={"size": 5, "opacity": 0.6}),
                       go.Scatter(x=[low, high], y=[0, 0], mode="lines", name="zero",
                                  line={"dash": "dash", "color": "grey"})])
    histogram = go.Figure([go.Histogram(x=residuals, nbinsx=40, name="residuals")])
    return {
        "predicted_vs_actual": _layout(scatter, f"Predicted vs actual {target} (held out)", f"actual {target}",
                                       f"predicted {target}").to_json(),
        "residuals": _layout(resid, "Residuals vs predicted (held out)", f"predicted {target}",
                             "actual - predicted").to_json(),
        "residual_histogram": _layout(histogram, "Distribution of residuals (held out)", "actual - predicted",
                                      "rows").to_json(),
    }


def classification_figures(metrics: dict) -> dict[str, str]:
    import plotly.graph_objects as go

    classes = [str(c) for c in metrics["classes"]]
    matrix = np.asarray(metrics["confusion_matrix"])
    heat = go.Figure(go.Heatmap(z=matrix, x=classes, y=classes, colorscale="Blues", text=matrix,
                                texttemplate="%{text}", hovertemplate="true %{y}<br>predicted %{x}: %{z}"))
    heat.update_yaxes(autorange="reversed")
    figures = {"confusion_matrix": _layout(heat, "Confusion matrix (held out)", "predicted", "true").to_json()}
    if metrics.get("calibration"):
        table = metrics["calibration"]
        calib = go.Figure([
            go.Scatter(x=[r["mean_confidence"] for r in table], y=[r["accuracy"] for r in table],
                       mode="lines+markers", name="model", text=[f"{r['count']} rows" for r in table]),
            go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                       line={"dash": "dash", "color": "grey"})])
        figures["calibration"] = _layout(calib, "Calibration of the top-class probability (held out)",
                                         "mean predicted probability", "share correct").to_json()
    return figures


def importance_figure(importance: list[dict], top: int = 20) -> str:
    import plotly.graph_objects as go

    rows = importance[:top][::-1]
    fig = go.Figure(go.Bar(x=[r["importance"] for r in rows], y=[r["feature"] for r in rows], orientation="h",
                           error_x={"type": "data", "array": [r["std"] for r in rows]}))
    return _layout(fig, "Permutation importance (held out)", "score drop when shuffled", "").to_json()
