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


class PreparedPool:
    """A pool with its distance features ready for matching: numbers as floats with the spread a difference
    is measured in (interquartile range, else standard deviation, else 1), categories lower-cased. Built once
    per valuation run, not once per listing."""

    def __init__(self, pool: pd.DataFrame, features: list[str]):
        self.pool = pool.reset_index(drop=True)
        self.features = features
        self.numeric: dict[str, tuple[np.ndarray, float]] = {}
        self.categorical: dict[str, np.ndarray] = {}
        for feature in features:
            column = self.pool[feature]
            if pd.api.types.is_numeric_dtype(column) and column.notna().any():
                values = column.astype(float).to_numpy()
                q1, q3 = np.nanpercentile(values, [25, 75])
                self.numeric[feature] = (values, float(q3 - q1) or float(np.nanstd(values)) or 1.0)
            else:
                self.categorical[feature] = column.astype(str).str.strip().str.lower().to_numpy()
        self.item_ids = self.pool["item_id"].to_numpy() if "item_id" in self.pool.columns else None

    def distances(self, row: dict) -> np.ndarray:
        total = np.zeros(len(self.pool))
        for feature, (values, scale) in self.numeric.items():
            wanted = pd.to_numeric(pd.Series([row.get(feature)]), errors="coerce").iloc[0]
            if pd.isna(wanted):
                total += MISSING_PENALTY ** 2
                continue
            difference = np.abs(values - float(wanted)) / scale
            total += np.where(np.isnan(difference), MISSING_PENALTY, difference) ** 2
        for feature, values in self.categorical.items():
            wanted = row.get(feature)
            if wanted is None or (isinstance(wanted, float) and np.isnan(wanted)):
                total += MISSING_PENALTY ** 2
                continue
            total += (values != str(wanted).strip().lower()).astype(float)
        return np.sqrt(total / max(len(self.features), 1))


def nearest(prepared: PreparedPool, row: dict, target: str, count: int = DEFAULT_COUNT,
            exclude_item: int | None = None) -> list[dict]:
    """The `count` pool rows closest to `row`: each with its price, distance and the distance features."""
    pool, features = prepared.pool, prepared.features
    if pool.empty or not features:
        return []
    distance = prepared.distances(row)
    if exclude_item is not None and prepared.item_ids is not None:
        distance = np.where(prepared.item_ids == exclude_item, np.inf, distance)
    order = [int(i) for i in np.argsort(distance, kind="stable")[:count] if np.isfinite(distance[i])]
    out = []
    for position in order:
        record = pool.iloc[position]
        out.append({"price": _plain(record[target]), "distance": round(float(distance[position]), 4),
                    "features": {f: _plain(record[f]) for f in features},
                    **{k: _plain(record[k]) for k in ("title", "url", "item_id") if k in pool.columns}})
    return out


def _plain(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value
