"""The candidate models for a task and its columns, and the final estimator built from the chosen candidate.

Candidates come in families, one per preprocessing (ml.features), each with a few variants:
- linear: RidgeCV and TrimmedRidgeCV for regression; LinearSVC over a C grid for text classes, logistic
  regression for tabular classes; with text, a second family adds char 2-5 grams (LinearSVC / RidgeCV only).
- boosting: HistGradientBoosting on raw numerics and ordinal-coded categories (native categorical splits).
A chosen blend (ml.selection) becomes a weighted VotingRegressor/VotingClassifier or MarginBlendClassifier.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    VotingClassifier,
    VotingRegressor,
)
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from ml.columns import ColumnPlan
from ml.estimators import RIDGE_ALPHAS, CalibratedMarginClassifier, MarginBlendClassifier, TrimmedRidgeCV
from ml.features import frame_preparer, linear_preprocessor, numeric_outputs, tree_preprocessor

SVC_C_GRID = (0.3, 1.0, 3.0, 10.0)
LOGISTIC_C_GRID = (0.03, 0.3, 3.0, 30.0)
TEXT_LOGISTIC_C_GRID = (3.0, 30.0)


@dataclass
class Family:
    """Candidates sharing one preprocessing: per fold it is fitted once and every variant fitted on its output."""
    name: str
    make_preprocessor: Callable[[], object]
    variants: dict[str, Callable[[], object]]


def candidate_families(task: str, plan: ColumnPlan, rows: int, seed: int) -> list[Family]:
    """The candidates worth trying for `task` on columns `plan` of a training part of `rows` rows."""
    families = []
    text_only = bool(plan.text) and not (numeric_outputs(plan) or plan.categorical)
    if task == "regression":
        families.append(Family("linear", lambda: linear_preprocessor(plan, rows),
                               {"ridge": lambda: RidgeCV(alphas=RIDGE_ALPHAS),
                                "ridge_trimmed": lambda: TrimmedRidgeCV()}))
        if plan.text:
            families.append(Family("linear+chars", lambda: linear_preprocessor(plan, rows, with_chars=True),
                                   {"ridge+chars": lambda: RidgeCV(alphas=RIDGE_ALPHAS)}))
    else:
        variants = {}
        if plan.text:
            variants.update({f"linear_svc(C={c})": (lambda c=c: LinearSVC(C=c, random_state=seed))
                             for c in SVC_C_GRID})
        if not text_only:  # probabilities for the blend with boosting; on TF-IDF LinearSVC was better and faster
            grid = TEXT_LOGISTIC_C_GRID if plan.text else LOGISTIC_C_GRID
            variants.update({f"logistic(C={c})": (lambda c=c: LogisticRegression(C=c, max_iter=3000))
                             for c in grid})
        families.append(Family("linear", lambda: linear_preprocessor(plan, rows), variants))
        if plan.text:
            char_variants = {f"{name}+chars": factory for name, factory in variants.items()
                             if name.startswith("linear_svc")}
            families.append(Family("linear+chars", lambda: linear_preprocessor(plan, rows, with_chars=True),
                                   char_variants))
    if not text_only and (numeric_outputs(plan) or plan.categorical):
        families.append(Family("boosting", lambda: tree_preprocessor(plan),
                               {"hist_gradient_boosting": lambda: _boosting_model(task, plan, seed, rows)}))
    return families


def _boosting_model(task: str, plan: ColumnPlan, seed: int, rows: int):
    n_numeric = len(numeric_outputs(plan))
    categorical = [False] * n_numeric + [True] * len(plan.categorical)
    # Small tables need (and can validate) fewer trees; a faster rate keeps them from underfitting.
    small = rows < 1000
    # Early stopping holds out 10% of a fold's rows, stratified: on a few hundred rows with several classes
    # that split can be smaller than the number of classes and fail, so small tables get a fixed 200 trees.
    stopping = dict(early_stopping=True, validation_fraction=0.1, n_iter_no_change=50) if rows >= 300 \
        else dict(early_stopping=False)
    params = dict(learning_rate=0.1 if small else 0.04, max_iter=(300 if rows >= 300 else 200) if small else 2000,
                  max_leaf_nodes=15, min_samples_leaf=max(5, min(20, rows // 50)),
                  l2_regularization=1.0, max_features=0.5, categorical_features=categorical or None,
                  random_state=seed, **stopping)
    if task == "regression":
        return HistGradientBoostingRegressor(**params)
    return HistGradientBoostingClassifier(**params)


def _variant_estimator(families: list[Family], name: str, task: str, y_train):
    family = next(f for f in families if name in f.variants)
    model = family.variants[name]()
    if task == "classification" and isinstance(model, LinearSVC):
        smallest = int(pd.Series(y_train).value_counts().min())
        model = CalibratedMarginClassifier(model, cv=max(2, min(3, smallest)))
    return Pipeline([("features", family.make_preprocessor()), ("model", model)])


def final_estimator(families, chosen: dict, task: str, plan: ColumnPlan, y_train, log_target: bool):
    """An unfitted pipeline of the chosen candidate (a ranked entry of ml.selection) over raw feature columns."""
    if chosen["kind"] == "blend":
        members = [("linear", _variant_estimator(families, chosen["linear"], task, y_train)),
                   ("boosting", _variant_estimator(families, chosen["boosting"], task, y_train))]
        weights = [chosen["weight"], 1 - chosen["weight"]]
        if task == "regression":
            model = VotingRegressor(members, weights=weights)
        elif chosen.get("combine") == "margins":
            model = MarginBlendClassifier(members, weights=weights)
        else:
            model = VotingClassifier(members, voting="soft", weights=weights)
    else:
        model = _variant_estimator(families, chosen["name"], task, y_train)
    pipeline = Pipeline([("prepare", frame_preparer(plan)), ("model", model)])
    if task == "regression" and log_target:
        return TransformedTargetRegressor(regressor=pipeline, func=np.log1p, inverse_func=np.expm1,
                                          check_inverse=False)
    return pipeline
