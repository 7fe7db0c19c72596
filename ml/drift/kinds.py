"""Column preparation: missing cells, numbers parsed out of text, and the kind of column (numeric, categorical,
text, identifier) that decides which detectors run.

The kind comes from the reference (the data the user trusts); the current batch is parsed the same way, so a
numeric column that arrives as "1464 sq ft" is numeric-with-text-values (a type change), not a new kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

NUMERIC, CATEGORICAL, TEXT, IDENTIFIER, EMPTY = "numeric", "categorical", "text", "identifier", "empty"
NUMERIC_SHARE = 0.95  # a column is numeric when this share of its filled cells reads as a number
DISCRETE_LEVELS = 30  # a numeric column with at most this many distinct values is also compared level by level
_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
_NUMBER_TEXT = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][+-]?\d+)?$")


@dataclass
class ColumnValues:
    """One column of one frame: how many rows, which are missing, the filled values and their numeric reading."""

    rows: int
    missing: int
    values: pd.Series  # the filled cells, as given
    numbers: np.ndarray  # the filled cells as float (NaN where a cell is not a number)

    @property
    def filled(self) -> int:
        return len(self.values)

    @property
    def numeric_count(self) -> int:
        return int(np.isfinite(self.numbers).sum())

    @property
    def numeric_share(self) -> float:
        return self.numeric_count / self.filled if self.filled else 0.0

    def finite_numbers(self) -> np.ndarray:
        return self.numbers[np.isfinite(self.numbers)]

    def strings(self) -> pd.Series:
        return self._strings

    @cached_property
    def _strings(self) -> pd.Series:
        return self.values.astype(str).str.strip()


def prepare(series: pd.Series) -> ColumnValues:
    blank = series.isna()
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        blank = blank | series.astype(str).str.strip().eq("")
    values = series[~blank].reset_index(drop=True)
    return ColumnValues(rows=len(series), missing=int(blank.sum()), values=values, numbers=_as_numbers(values))


def _as_numbers(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(values):
        return np.full(len(values), np.nan)  # yes/no flags are categories, not magnitudes
    if pd.api.types.is_datetime64_any_dtype(values):
        return _datetime_seconds(values)
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float, na_value=np.nan)
    text = values.astype(str).str.strip()
    if len(text) and text.head(200).map(lambda v: bool(_DATE.match(v))).mean() >= NUMERIC_SHARE:
        return _datetime_seconds(pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True))
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan, copy=True)
    grouped = ~np.isfinite(numbers) & text.str.contains(",", regex=False).to_numpy()
    if grouped.any():  # "1,464": thousands separators, only where the whole cell is such a number
        candidates = text[grouped]
        plain = candidates.where(candidates.str.match(_NUMBER_TEXT), None).str.replace(",", "", regex=False)
        numbers[grouped] = pd.to_numeric(plain, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return numbers


def _datetime_seconds(values: pd.Series) -> np.ndarray:
    stamps = pd.to_datetime(values, errors="coerce", utc=True)
    seconds = (stamps - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()
    return seconds.to_numpy(dtype=float, na_value=np.nan)


def column_kind(reference: ColumnValues, current: ColumnValues) -> str:
    """The kind the reference shows (the current batch when the reference column is empty)."""
    basis = reference if reference.filled else current
    if not basis.filled:
        return EMPTY
    if basis.numeric_share >= NUMERIC_SHARE:
        return NUMERIC
    strings = basis.strings()
    distinct = strings.nunique()
    lengths = strings.str.len()
    if lengths.mean() >= 30 and strings.str.split().str.len().mean() >= 4 and distinct >= 0.3 * len(strings):
        return TEXT
    if len(strings) >= 20 and distinct >= 0.9 * len(strings):
        return IDENTIFIER
    return CATEGORICAL


def is_discrete(numbers: np.ndarray) -> bool:
    """Few distinct values (codes, counts, ratings): compared level by level as well as by distribution."""
    return 0 < len(np.unique(numbers)) <= DISCRETE_LEVELS
