"""Comparables: the nearest training sales to a listing on a few features a person can check.

The distance features are the listing basics (area, rooms, type, city, district) for scraped listings, and
the model's most important features (held-out permutation importance) for an uploaded sales table. A number
counts by its difference over the pool's interquartile range, a category by whether it matches; the
distance is the root mean square over the features, so it reads as "typical differences per feature".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_DISTANCE_FEATURES = 6
DEFAULT_COUNT = 5
MISSING_PENALTY = 1.0


def distance_features(kind: str, listing_features: list[str], importance: list[dict], feature_columns: list[str],
                      pool: pd.DataFrame) -> list[str]:
    if kind == "listings":
        return [c for c in listing_features if c in pool.columns]
    ranked = [row["feature"] for row in sorted(importance or [], key=lambda r: -r.get("importance", 0))]
    chosen = [c for c in ranked if c in feature_columns and c in pool.columns and _usable(pool[c])]
    if len(chosen) < MAX_DISTANCE_FEATURES:
        numeric = [c for c in feature_columns if c in pool.columns and pd.api.types.is_numeric_dtype(pool[c])
                   and c not in chosen and _usable(pool[c])]
        chosen += numeric[:MAX_DISTANCE_FEATURES - len(chosen)]
    return chosen[:MAX_DISTANCE_FEATURES]


def _usable(column: pd.Series) -> bool:
    return column.notna().mean() >= 0.5 and column.nunique(dropna=True) > 1


def nearest(pool: pd.DataFrame, row: dict, features: list[str], target: str, count: int = DEFAULT_COUNT,
            exclude_item: int | None = None) -> list[dict]:
    """The `count` pool rows closest to `row`: each with its price, distance and the distance features."""
    if pool.empty or not features:
        return []
    candidates = pool
    if exclude_item is not None and "item_id" in pool.columns:
        candidates = pool[pool["item_id"] != exclude_item]
    total = np.zeros(len(candidates))
    for feature in features:
        total += _component(candidates[feature], row.get(feature), pool[feature]) ** 2
    distance = np.sqrt(total / len(features))
    order = np.argsort(distance, kind="stable")[:count]
    out = []
    for position in order:
        record = candidates.iloc[int(position)]
        out.append({"price": _plain(record[target]), "distance": round(float(distance[position]), 4),
                    "features": {f: _plain(record[f]) for f in features},
                    **{k: _plain(record[k]) for k in ("title", "url", "item_id") if k in candidates.columns}})
    return out


def _component(values: pd.Series, wanted, whole: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(whole):
        wanted = pd.to_numeric(pd.Series([wanted]), errors="coerce").iloc[0]
        if pd.isna(wanted):
            return np.full(len(values), MISSING_PENALTY)
        q1, q3 = np.nanpercentile(whole.astype(float), [25, 75])
        spread = (q3 - q1) or float(np.nanstd(whole.astype(float))) or 1.0
        difference = np.abs(values.astype(float).to_numpy() - float(wanted)) / spread
        return np.where(np.isnan(difference), MISSING_PENALTY, difference)
    if wanted is None or (isinstance(wanted, float) and np.isnan(wanted)):
        return np.full(len(values), MISSING_PENALTY)
    text = str(wanted).strip().lower()
    return np.where(values.astype(str).str.strip().str.lower().to_numpy() == text, 0.0, 1.0)


def _plain(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value
