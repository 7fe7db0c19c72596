"""Small, deterministic tables and fitted models for the ML registry, CLI and continuous-training tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

# Below the time linear cross-validation takes, so model selection stops after the linear family: the
# same fast, deterministic candidates every run (the boosting family is ml.modelling's own tests' business).
FAST_BUDGET_S = 0.01


def linear_table(n: int = 120, seed: int = 0, noise_columns: int = 0, slope: float = 2.0) -> pd.DataFrame:
    """y = slope * x1 + small noise, a category that shifts y, and optional pure-noise columns."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x1": rng.normal(size=n), "colour": rng.choice(["red", "blue"], n)})
    for k in range(noise_columns):
        frame[f"noise{k}"] = rng.normal(size=n)
    frame["y"] = slope * frame["x1"] + np.where(frame["colour"] == "red", 1.0, 0.0) + rng.normal(scale=0.05, size=n)
    return frame


def class_table(n: int = 160, seed: int = 0, signal: str = "x1") -> pd.DataFrame:
    """label = 'high' where the `signal` column is positive: the other column is noise."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)})
    frame["label"] = np.where(frame[signal] > 0, "high", "low")
    return frame


def text_model(task_labels=("energy", "sport")):
    """A FittedModel over a `text` column, built without model selection (for write-back tests)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from ml.modelling import FittedModel

    texts = ["document about energy and the grid", "energy prices and power plants", "wind energy document",
             "football match report", "the sport pages: tennis and football", "a sport result"]
    labels = [task_labels[0]] * 3 + [task_labels[1]] * 3
    frame = pd.DataFrame({"text": texts})
    pipeline = Pipeline([("features", ColumnTransformer([("text", TfidfVectorizer(), "text")])),
                         ("model", LogisticRegression())]).fit(frame, labels)
    return FittedModel(pipeline=pipeline, task="classification", target="topic", feature_columns=["text"],
                       text_columns=["text"], classes=sorted(task_labels), chosen="tfidf+logistic", candidates=[],
                       holdout_rows=[], metrics={"accuracy": 1.0, "macro_f1": 1.0, "rows": 6},
                       figures={"confusion": '{"data": [], "layout": {}}'}, importance=[])
