"""Choose, fit and evaluate a scikit-learn model for one target column of a table: the public face of ml/.

`fit_model` reads the columns (ml.columns: numeric, numeric-coded categories, categorical, dates, free text;
identifiers and empty or constant columns are dropped with a note), builds a few candidate pipelines suited to
them (ml.features, ml.candidates), picks one by K-fold cross-validation on the training part within a time
budget (ml.selection) among single candidates and blends weighted from out-of-fold predictions (ml.ranking),
refits it and evaluates it on a held-out slice (ml.evaluate). Skewed positive regression targets are modelled
as log1p(target) (ml.targets). Everything is seeded, so the same data and seed give the same model.

Pipelines pickled before the split into modules reference their transformers and estimators as
ml.modelling.<Class>; they are re-exported here so those pickles still load.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from ml import evaluate
from ml.candidates import candidate_families, final_estimator
from ml.columns import ColumnPlan, profile_columns
from ml.errors import TrainingDataError
from ml.estimators import CalibratedMarginClassifier, MarginBlendClassifier, TrimmedRidgeCV
from ml.features import ClippedLog, FramePreparer, frame_preparer
from ml.ranking import rank
from ml.selection import cross_validate
from ml.targets import checked_target, class_sort_key, wants_log_target

Progress = Callable[[float, str], None]

CV_SHARE_OF_BUDGET = 0.7


@dataclass
class FittedModel:
    pipeline: object
    task: str
    target: str
    feature_columns: list[str]
    text_columns: list[str]
    classes: list | None
    chosen: str
    candidates: list[dict]
    holdout_rows: list[int]
    metrics: dict
    figures: dict[str, str]
    importance: list[dict]
    notes: list[str] = field(default_factory=list)
    column_roles: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def fit_model(frame: pd.DataFrame, target: str, *, task: str | None = None, text_columns: list[str] | None = None,
              time_budget_s: float = 600.0, seed: int = 0, holdout_fraction: float = 0.2,
              progress: Progress | None = None, refit_full: bool = False) -> FittedModel:
    """Choose and fit a model of `target` from the other columns of `frame`; see the module docstring.

    The held-out slice (`holdout_fraction` of the rows, stratified for classes) is never seen by model
    selection or fitting; `metrics`, `figures` and `importance` are measured on it. With `refit_full` the
    returned pipeline is refitted on every row afterwards (better for serving; its metrics are then those of
    the same method trained without the slice).
    """
    # One thread per BLAS/OpenMP pool: on a shared 2-core machine, HistGradientBoosting's OpenMP threads
    # competing with another process were measured 6-30x slower than a single thread.
    with threadpool_limits(limits=1):
        return _fit_model(frame, target, task=task, text_columns=text_columns, time_budget_s=time_budget_s,
                          seed=seed, holdout_fraction=holdout_fraction, progress=progress, refit_full=refit_full)


def _fit_model(frame, target, *, task, text_columns, time_budget_s, seed, holdout_fraction, progress,
               refit_full) -> FittedModel:
    started = time.monotonic()
    notes: list[str] = []

    def report(fraction: float, message: str) -> None:
        if progress is not None:
            progress(float(min(max(fraction, 0.0), 1.0)), message)

    report(0.0, "Checking the data")
    task, labels, keep = checked_target(frame, target, task, notes)
    frame = frame.reset_index(drop=True)
    positions = np.flatnonzero(keep)
    features = frame.drop(columns=[target])
    plan = _column_plan(features.iloc[positions], text_columns, target, notes)
    feature_columns = [c for c in features.columns if c in set(plan.features)]
    X_all = features[feature_columns]
    y_all = labels

    classes = sorted(pd.unique(y_all[positions]).tolist(), key=class_sort_key) if task == "classification" else None
    train_pos, holdout_pos = _holdout_split(positions, y_all, classes, holdout_fraction, seed)
    X_train, y_train = X_all.iloc[train_pos].reset_index(drop=True), y_all[train_pos]
    if task == "classification" and len(pd.unique(y_train)) < 2:
        raise TrainingDataError(f"The training part has a single class of '{target}'; add rows of other classes.")

    log_target = task == "regression" and wants_log_target(y_train)
    if log_target:
        notes.append(f"'{target}' is positive and right-skewed: the models fit log(1 + {target}).")
    y_model = np.log1p(y_train) if log_target else y_train

    X_model = frame_preparer(plan).fit_transform(X_train)
    families = candidate_families(task, plan, len(train_pos), seed)
    deadline = started + CV_SHARE_OF_BUDGET * time_budget_s
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        warnings.filterwarnings("ignore", message=".*(converge|infrequent|unknown categories).*")
        results, cv_notes = cross_validate(task, families, X_model, y_model, classes, seed, deadline,
                                           lambda f, m: report(0.05 + 0.7 * f, m))
        notes.extend(cv_notes)
        candidates, chosen = rank(task, results, y_model, classes, log_target)
        report(0.78, f"Fitting {chosen['name']} on the training part")
        final_started = time.perf_counter()
        pipeline = final_estimator(families, chosen, task, plan, y_train, log_target).fit(X_train, y_train)
        fit_seconds = time.perf_counter() - final_started
        for candidate in candidates:
            if candidate["name"] == chosen["name"]:
                candidate["final_fit_seconds"] = round(fit_seconds, 3)

        model = FittedModel(pipeline=pipeline, task=task, target=str(target), feature_columns=feature_columns,
                            text_columns=list(plan.text), classes=classes, chosen=chosen["name"],
                            candidates=candidates, holdout_rows=[int(p) for p in holdout_pos], metrics={},
                            figures={}, importance=[], notes=notes, column_roles=plan.roles())
        if len(holdout_pos):
            report(0.85, "Evaluating on the held-out rows")
            remaining = max(time_budget_s - (time.monotonic() - started), 0.0)
            _evaluate(model, X_all.iloc[holdout_pos], y_all[holdout_pos], seed, min(60.0, 0.5 * remaining))
        else:
            notes.append("No rows were held out, so there are no held-out metrics.")
        if refit_full and len(holdout_pos):
            report(0.95, "Refitting on every row")
            model.pipeline = final_estimator(families, chosen, task, plan, y_all[positions], log_target).fit(
                X_all.iloc[positions].reset_index(drop=True), y_all[positions])
            notes.append("The pipeline was refitted on all rows after evaluation; held-out metrics describe the "
                         "same method trained without the held-out rows.")
    model.seconds = round(time.monotonic() - started, 3)
    report(1.0, f"Done: {chosen['name']}")
    return model


def _column_plan(features: pd.DataFrame, text_columns, target: str, notes: list[str]) -> ColumnPlan:
    """The roles of the feature columns (`text_columns`, if given, are the text ones); a note per dropped column."""
    if text_columns is not None:
        text_columns = [text_columns] if isinstance(text_columns, str) else list(text_columns)
        unknown = [c for c in text_columns if c not in features.columns]
        if unknown:
            raise TrainingDataError(f"Text column(s) {', '.join(map(repr, unknown))} are not in the data.")
    plan = profile_columns(features, text_columns)
    for column, why in plan.dropped.items():
        notes.append(f"Column '{column}' not used: {why}.")
    if not plan.features:
        raise TrainingDataError(f"No usable feature columns besides '{target}': "
                                + "; ".join(f"'{c}': {w}" for c, w in plan.dropped.items())
                                + ". Add columns with information about the target.")
    return plan


def _holdout_split(positions: np.ndarray, y_all, classes, holdout_fraction: float, seed: int):
    """Sorted (training, held-out) row positions; stratified for classes, with at least one row per class held out."""
    if not (holdout_fraction and holdout_fraction > 0):
        return positions, np.array([], dtype=int)
    stratify = y_all[positions] if classes is not None else None
    n_holdout = max(int(round(holdout_fraction * len(positions))), len(classes) if classes else 1)
    train_pos, holdout_pos = train_test_split(positions, test_size=n_holdout, random_state=seed, stratify=stratify)
    return np.sort(train_pos), np.sort(holdout_pos)


def _evaluate(model: FittedModel, X_holdout: pd.DataFrame, y_holdout, seed: int, importance_budget: float) -> None:
    X_holdout = X_holdout.reset_index(drop=True)
    if model.task == "regression":
        predicted = model.pipeline.predict(X_holdout)
        model.metrics = evaluate.regression_metrics(y_holdout, predicted)
        model.figures = evaluate.regression_figures(y_holdout, predicted, model.target)
    else:
        predicted = np.asarray(model.pipeline.predict(X_holdout))
        proba = predict_proba(model, X_holdout)
        model.metrics = evaluate.classification_metrics(y_holdout, predicted, proba, model.classes)
        model.figures = evaluate.classification_figures(model.metrics)
    y_for_importance = np.asarray(y_holdout, dtype=float) if model.task == "regression" else np.asarray(y_holdout)
    model.importance = evaluate.permutation_importances(model.pipeline, X_holdout, y_for_importance, model.task,
                                                        seed=seed, budget_s=importance_budget)
    if model.importance:
        model.figures["importance"] = evaluate.importance_figure(model.importance)


# -- prediction ------------------------------------------------------------------------------------------
def _features_of(model: FittedModel, frame: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TrainingDataError("Predictions need a table (DataFrame) of rows.")
    frame = frame.reset_index(drop=True)
    missing = [c for c in model.feature_columns if c not in frame.columns]
    if missing:
        frame = frame.assign(**{c: np.nan for c in missing})
    return frame[model.feature_columns]


def predict(model: FittedModel, frame: pd.DataFrame) -> np.ndarray:
    """One prediction per row of `frame`, in its order. Missing feature columns count as missing values;
    columns the model does not use are ignored."""
    if len(frame) == 0:
        return np.array([], dtype=float if model.task == "regression" else object)
    predicted = model.pipeline.predict(_features_of(model, frame))
    return np.asarray(predicted, dtype=float) if model.task == "regression" else np.asarray(predicted)


def predict_proba(model: FittedModel, frame: pd.DataFrame) -> np.ndarray:
    """Class probabilities per row (columns in the order of `model.classes`)."""
    if model.task != "classification":
        raise TrainingDataError("Probabilities exist only for classification models.")
    X = _features_of(model, frame)
    proba = model.pipeline.predict_proba(X)
    fitted = list(model.pipeline.classes_)
    order = [fitted.index(c) for c in model.classes]
    return np.asarray(proba)[:, order]


# The classes are re-exported for pipelines pickled when they were defined here (ml.modelling.<Class>).
__all__ = ["FittedModel", "fit_model", "predict", "predict_proba", "profile_columns", "ColumnPlan",
           "FramePreparer", "ClippedLog", "CalibratedMarginClassifier", "MarginBlendClassifier", "TrimmedRidgeCV"]
