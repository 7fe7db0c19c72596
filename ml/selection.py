"""Cross-validation of the candidate families on the training part within a time budget: out-of-fold
predictions (and probabilities, margins) of every variant, for ml.ranking to score and blend.

Each family's preprocessing is fitted once per fold and every variant of the family fitted on its output.
A family that cannot finish all folds before the deadline is left out (the first one always runs).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold

from ml.estimators import class_margins

CV_FOLDS = 5


@dataclass
class _Fold:
    train: np.ndarray
    valid: np.ndarray


@dataclass
class VariantResult:
    name: str
    family: str
    oof: np.ndarray  # regression: predictions (model scale); classification: labels
    proba: np.ndarray | None
    seconds: float
    folds_done: int = 0
    margins: np.ndarray | None = None  # classification: out-of-fold decision_function, one column per class


def cross_validate(task, families, X, y_model, classes, seed, deadline, report) -> tuple[dict, list[str]]:
    """Out-of-fold predictions of every variant that finished all folds before `deadline`."""
    notes = []
    if task == "regression":
        splitter = KFold(n_splits=CV_FOLDS, shuffle=True, random_state=seed)
    else:
        smallest = int(pd.Series(y_model).value_counts().min())
        splitter = StratifiedKFold(n_splits=max(2, min(CV_FOLDS, smallest)), shuffle=True, random_state=seed)
    folds = [_Fold(tr, va) for tr, va in splitter.split(X, y_model)]
    results: dict[str, VariantResult] = {}
    steps = sum(len(f.variants) for f in families) * len(folds)
    done = 0
    for family in families:
        if results and time.monotonic() > deadline:
            notes.append(f"Skipped the {family.name} candidates: the time budget for model selection was used.")
            continue
        family_results = {
            name: VariantResult(name, family.name, np.empty(len(y_model), dtype=object if task != "regression"
                                                            else float),
                                 np.zeros((len(y_model), len(classes))) if classes is not None else None, 0.0)
            for name in family.variants}
        complete = True
        for number, fold in enumerate(folds):
            if results and time.monotonic() > deadline:
                complete = False
                notes.append(f"Stopped the {family.name} candidates after {number} of {len(folds)} folds: the "
                             "time budget for model selection was used.")
                break
            started = time.perf_counter()
            pre = family.make_preprocessor()
            X_train = pre.fit_transform(X.iloc[fold.train], y_model[fold.train])
            X_valid = pre.transform(X.iloc[fold.valid])
            pre_seconds = (time.perf_counter() - started) / len(family.variants)
            for name, factory in family.variants.items():
                started = time.perf_counter()
                model = factory().fit(X_train, y_model[fold.train])
                result = family_results[name]
                result.oof[fold.valid] = model.predict(X_valid)
                columns = _class_positions(classes, model.classes_) if classes is not None else None
                if result.proba is not None and hasattr(model, "predict_proba"):
                    result.proba[np.ix_(fold.valid, columns)] = model.predict_proba(X_valid)
                if classes is not None and hasattr(model, "decision_function"):
                    if result.margins is None:
                        result.margins = np.zeros((len(y_model), len(classes)))
                    result.margins[np.ix_(fold.valid, columns)] = class_margins(model.decision_function(X_valid))
                result.seconds += pre_seconds + time.perf_counter() - started
                result.folds_done += 1
                done += 1
                report(done / steps, f"Cross-validating {name} (fold {number + 1} of {len(folds)})")
        if complete:
            for name, result in family_results.items():
                if result.proba is not None and not hasattr(family.variants[name](), "predict_proba"):
                    result.proba = None
                results[name] = result
    return results, notes


def _class_positions(classes: list, fitted_classes) -> list[int]:
    index = {c: i for i, c in enumerate(classes)}
    return [index[c] for c in fitted_classes]
