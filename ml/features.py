"""Feature transformers: typed input from a DataFrame (FramePreparer) and the preprocessing of each model
family - scaled, clipped and log-transformed numbers, one-hot categories and TF-IDF text for linear models;
raw numbers and ordinal-coded categories for gradient boosting.

The transformer classes live at module level so that fitted pipelines pickle (ml.registry stores them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from ml.columns import ColumnPlan, blank_cells

SKEW_THRESHOLD = 0.75
MISSING = "__missing__"


class FramePreparer(TransformerMixin, BaseEstimator):
    """Typed input for the model: the planned columns of any DataFrame (missing ones as missing, extra ones
    ignored), numbers parsed, dates expanded to numbers, categories as strings, text as strings."""

    def __init__(self, numeric=(), categorical=(), text=(), datetime=()):
        self.numeric = numeric
        self.categorical = categorical
        self.text = text
        self.datetime = datetime

    def fit(self, X, y=None):
        return self

    @staticmethod
    def date_features(column: str) -> list[str]:
        return [f"{column}__year", f"{column}__month", f"{column}__dayofweek", f"{column}__days"]

    def transform(self, X):
        X = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
        rows = len(X)
        missing = pd.Series([np.nan] * rows, index=X.index, dtype=object)

        def col(name):
            return X[name] if name in X.columns else missing

        out = {}
        for name in self.numeric:
            values = col(name)
            if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
                values = values.astype(object).where(values.notna(), None).astype(str).str.strip()
                values = values.str.replace(",", "", regex=False)
            out[name] = pd.to_numeric(values, errors="coerce").astype(float)
        for name in self.datetime:
            stamps = pd.to_datetime(col(name), errors="coerce", utc=True, format="mixed")
            year, month, dow, days = self.date_features(name)
            out[year] = stamps.dt.year.astype(float)
            out[month] = stamps.dt.month.astype(float)
            out[dow] = stamps.dt.dayofweek.astype(float)
            out[days] = ((stamps - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds() / 86400.0).astype(float)
        for name in self.categorical:
            values = col(name)
            out[name] = np.where(blank_cells(values), MISSING, values.astype(str).str.strip()).astype(object)
        for name in self.text:
            values = col(name)
            out[name] = np.where(values.isna(), "", values.astype(str)).astype(object)
        return pd.DataFrame(out, index=X.index)


class ClippedLog(TransformerMixin, BaseEstimator):
    """Clip each column to its training range, then log1p the skewed non-negative ones (for linear models:
    a long right tail otherwise lets a few rows set the slope, and unseen extremes extrapolate wildly)."""

    def __init__(self, threshold=SKEW_THRESHOLD):
        self.threshold = threshold

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=float)
        self.low_ = np.nanmin(X, axis=0) if len(X) else np.zeros(X.shape[1])
        self.high_ = np.nanmax(X, axis=0) if len(X) else np.zeros(X.shape[1])
        centred = X - np.nanmean(X, axis=0)
        spread = np.nanstd(X, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            skew = np.nanmean(centred ** 3, axis=0) / spread ** 3
        self.skewed_ = (self.low_ >= 0) & (np.nan_to_num(skew) > self.threshold)
        return self

    def transform(self, X):
        X = np.clip(np.asarray(X, dtype=float), self.low_, self.high_)
        X[:, self.skewed_] = np.log1p(X[:, self.skewed_])
        return X

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features, dtype=object)


def frame_preparer(plan: ColumnPlan) -> FramePreparer:
    """The first step of every pipeline: the planned columns, typed."""
    return FramePreparer(plan.numeric, plan.categorical, plan.text, plan.datetime)


def numeric_outputs(plan: ColumnPlan) -> list[str]:
    """The numeric columns FramePreparer outputs: the numeric ones, then the numbers each date expands to."""
    dates = [name for column in plan.datetime for name in FramePreparer.date_features(column)]
    return [*plan.numeric, *dates]


def _one_hot(rows: int) -> OneHotEncoder:
    """One-hot coding that pools categories rarer than 0.3% of the rows (at least 2) into one column."""
    return OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=max(2, int(round(0.003 * rows))))


def _text_vectorizer(with_chars: bool, rows: int):
    min_df = 2 if rows >= 50 else 1
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=min_df, max_df=0.95,
                            strip_accents="unicode", max_features=200_000, dtype=np.float32)
    if not with_chars:
        return words
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=min_df,
                            max_df=0.95, strip_accents="unicode", max_features=300_000, dtype=np.float32)
    return FeatureUnion([("words", words), ("chars", chars)])


def linear_preprocessor(plan: ColumnPlan, rows: int, with_chars: bool = False) -> ColumnTransformer:
    parts = []
    numeric = numeric_outputs(plan)
    if numeric:
        parts.append(("numeric", Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=True,
                                                                    keep_empty_features=True)),
                                           ("log", ClippedLog()), ("scale", StandardScaler())]), numeric))
    if plan.codes:
        parts.append(("codes", _one_hot(rows), plan.codes))
    if plan.categorical:
        parts.append(("categorical", _one_hot(rows), plan.categorical))
    for column in plan.text:
        parts.append((f"text:{column}", _text_vectorizer(with_chars, rows), column))
    return ColumnTransformer(parts, sparse_threshold=0.3 if plan.text else 0.0, remainder="drop")


def tree_preprocessor(plan: ColumnPlan) -> ColumnTransformer:
    parts = []
    numeric = numeric_outputs(plan)
    if numeric:
        parts.append(("numeric", "passthrough", numeric))
    if plan.categorical:
        parts.append(("categorical", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                                                    encoded_missing_value=np.nan, max_categories=250,
                                                    dtype=np.float64), plan.categorical))
    return ColumnTransformer(parts, sparse_threshold=0.0, remainder="drop", verbose_feature_names_out=False)

