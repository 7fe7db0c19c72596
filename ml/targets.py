"""The target column: checks with a clear error for each way it can be unusable, the task (regression or
classification) inferred from its values when not given, class labels made uniform, and whether a regression
target is better modelled as log1p(target)."""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from ml.columns import MAX_CODE_VALUES, blank_cells
from ml.errors import TrainingDataError
from ml.features import SKEW_THRESHOLD

MIN_ROWS = 20


def _infer_task(y: pd.Series) -> str:
    values = y.dropna()
    numeric = pd.to_numeric(values, errors="coerce") if not pd.api.types.is_bool_dtype(values) else None
    if numeric is None or numeric.isna().mean() > 0.05:
        return "classification"
    numeric = numeric.dropna()
    distinct = numeric.nunique()
    integral = bool(np.all(np.mod(numeric.to_numpy(dtype=float), 1) == 0))
    if distinct <= 2 or (integral and distinct <= MAX_CODE_VALUES) or (not integral and distinct <= 10):
        return "classification"
    return "regression"


def checked_target(frame: pd.DataFrame, target: str, task: str | None, notes: list[str]):
    """(task, labels of every row, mask of the rows usable for training); raises TrainingDataError when the
    target cannot be trained on, and appends a note for each row or class it leaves out."""
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise TrainingDataError("The table is empty; give data with a target column and feature columns.")
    if target not in frame.columns:
        close = difflib.get_close_matches(str(target), [str(c) for c in frame.columns], n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise TrainingDataError(f"There is no column '{target}' in the data.{hint} Columns: "
                                f"{', '.join(map(str, list(frame.columns)[:30]))}.")
    y = frame[target]
    present = ~blank_cells(y)
    if not present.any():
        raise TrainingDataError(f"The target column '{target}' has no values; pick a column that is filled in.")
    if (~present).any():
        notes.append(f"{int((~present).sum())} rows without a value of '{target}' were left out.")
    if task not in (None, "regression", "classification"):
        raise TrainingDataError(f"Unknown task '{task}'; use 'regression' or 'classification'.")
    task = task or _infer_task(y[present])
    keep = present.to_numpy()
    if task == "regression":
        values = pd.to_numeric(y, errors="coerce")
        bad = present & values.isna()
        if bad.any():
            examples = ", ".join(repr(v) for v in y[bad].astype(str).unique()[:3])
            raise TrainingDataError(f"Regression needs a numeric target, but '{target}' holds {int(bad.sum())} "
                                    f"non-numbers ({examples}); clean them or train a classification.")
        labels = values.to_numpy(dtype=float)
    else:
        labels = np.asarray(y.map(class_label), dtype=object)
        counts = pd.Series(labels[keep]).value_counts()
        rare = counts[counts < 2]
        if len(rare) and len(counts) - len(rare) >= 2:
            notes.append(f"Classes with a single row were left out (cannot be validated): "
                         f"{', '.join(map(str, rare.index[:10]))}.")
            keep &= ~pd.Series(labels).isin(rare.index).to_numpy()
            counts = counts[counts >= 2]
        if len(counts) < 2:
            only = counts.index[0] if len(counts) else "-"
            raise TrainingDataError(f"The target '{target}' has only one class ({only!r}); classification needs "
                                    "at least two classes with two rows each. Pick another target or add data.")
    if task == "classification":
        labels = _homogeneous(labels, keep)
    if keep.sum() < MIN_ROWS:
        raise TrainingDataError(f"Only {int(keep.sum())} rows have a usable '{target}'; training needs at least "
                                f"{MIN_ROWS}.")
    return task, labels, keep


def _homogeneous(labels: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Integer labels as an int array, anything else as strings: scikit-learn rejects mixed object arrays."""
    kept = labels[keep]
    filler = kept[0]
    if all(isinstance(v, (int, bool)) for v in kept):
        return np.array([v if k else filler for v, k in zip(labels, keep, strict=True)], dtype=np.int64)
    return np.array([str(v) if k else str(filler) for v, k in zip(labels, keep, strict=True)], dtype=object)


def class_label(value):
    """Class labels as plain Python values (floats that are whole numbers become ints: 1.0 -> 1)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value.strip() if isinstance(value, str) else value


def wants_log_target(y: np.ndarray) -> bool:
    """A non-negative, right-skewed regression target: errors in log1p space match its relative scale."""
    if np.min(y) < 0 or len(np.unique(y)) < 10:
        return False
    centred = y - y.mean()
    skew = np.mean(centred ** 3) / (np.std(y) ** 3 + 1e-12)
    return bool(skew > SKEW_THRESHOLD)


def class_sort_key(value):
    """Orders class labels of mixed types: numbers first (by value), then everything else by its text."""
    return (0, value, "") if isinstance(value, (int, float)) else (1, 0, str(value))

