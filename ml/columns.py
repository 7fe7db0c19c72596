"""Column roles: which columns of a training table are numbers, numeric codes, categories, dates or free text,
and which are dropped (empty, constant, identifiers) - decided from the values, with a reason for each drop."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MAX_CODE_VALUES = 20  # integer columns with at most this many values are also one-hot coded for linear models
_ID_NAME = re.compile(r"(^|[^a-z0-9])(id|ids|uuid|guid|key|index|idx|pid|order|no|number|row|rownum)$")


@dataclass
class ColumnPlan:
    numeric: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # numeric columns with few integer values (subset of numeric)
    categorical: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    datetime: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical, *self.text, *self.datetime]

    def roles(self) -> dict[str, str]:
        roles = {c: "numeric" for c in self.numeric}
        roles.update({c: "numeric code" for c in self.codes})
        roles.update({c: "categorical" for c in self.categorical})
        roles.update({c: "text" for c in self.text})
        roles.update({c: "date" for c in self.datetime})
        roles.update({c: f"dropped: {why}" for c, why in self.dropped.items()})
        return roles


def blank_cells(series: pd.Series) -> pd.Series:
    """True where a cell is missing or an empty/whitespace string."""
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        return series.isna() | series.astype(str).str.strip().eq("")
    return series.isna()


def _id_like_name(name: str) -> bool:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(name)).lower()
    return bool(_ID_NAME.search(spaced.strip()))


def _looks_numeric(values: pd.Series) -> pd.Series | None:
    parsed = pd.to_numeric(values.astype(str).str.strip().str.replace(",", "", regex=False), errors="coerce")
    return parsed if parsed.notna().mean() >= 0.95 else None


_DATE_PATTERN = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _looks_datetime(values: pd.Series) -> bool:
    sample = values.astype(str).str.strip().head(200)
    return bool(len(sample)) and sample.map(lambda v: bool(_DATE_PATTERN.match(v))).mean() >= 0.95


def _looks_text(values: pd.Series) -> bool:
    """Free text: long-ish strings of several words, mostly distinct (not a category with a few labels)."""
    strings = values.astype(str)
    words = strings.str.split().str.len()
    return bool(strings.str.len().mean() >= 30 and words.mean() >= 4 and values.nunique() >= 0.3 * len(values))


def profile_columns(X: pd.DataFrame, text_columns: list[str] | None = None) -> ColumnPlan:
    plan = ColumnPlan()
    rows = len(X)
    explicit_text = text_columns is not None
    for column in X.columns:
        series = X[column]
        present = series[~blank_cells(series)]
        if present.empty:
            plan.dropped[column] = "empty text column" if column in (text_columns or []) else "all values missing"
            continue
        if explicit_text and column in text_columns:
            plan.text.append(column)
            continue
        if present.nunique() <= 1 and len(present) == rows:
            plan.dropped[column] = "the same value in every row"
            continue
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            numeric = pd.to_numeric(present, errors="coerce").astype(float)
            _numeric_role(plan, column, numeric, rows)
        elif pd.api.types.is_datetime64_any_dtype(series):
            plan.datetime.append(column)
        else:
            parsed = _looks_numeric(present)
            if parsed is not None:
                _numeric_role(plan, column, parsed.dropna().astype(float), rows)
            elif _looks_datetime(present):
                plan.datetime.append(column)
            elif not explicit_text and _looks_text(present):
                plan.text.append(column)
            elif present.nunique() == rows and rows >= 10:
                plan.dropped[column] = "a different value in every row (an identifier)"
            else:
                plan.categorical.append(column)
    return plan


def _numeric_role(plan: ColumnPlan, column: str, values: pd.Series, rows: int) -> None:
    integral = bool(np.all(np.mod(values.to_numpy(), 1) == 0))
    distinct = values.nunique()
    if integral and distinct == rows and rows >= 10 and (_id_like_name(column) or _consecutive(values)):
        plan.dropped[column] = "a different value in every row (an identifier)"
        return
    plan.numeric.append(column)
    if integral and 3 <= distinct <= MAX_CODE_VALUES:
        plan.codes.append(column)


def _consecutive(values: pd.Series) -> bool:
    ordered = np.sort(values.to_numpy())
    return len(ordered) > 1 and bool(np.all(np.diff(ordered) == 1))

