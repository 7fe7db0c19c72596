"""Valuation models: trained and registered through the ML Lab, calibrated for intervals, with comparables.

`train_valuation` reuses the ML Lab's stack (ml.modelling.fit_model picks and fits the model, ml.registry
registers the version with its lineage, owner and metrics) and adds what a valuation needs:
1. the interval: quantiles of log(actual / estimate) on out-of-fold predictions of the chosen pipeline over
   the training part, checked on the held-out rows (their measured coverage is stored and shown);
2. the served pipeline refitted on every row (the held-out metrics describe the same method without them);
3. the comparables pool (training sales with their distance features) in the lake, and a
   PropertyValuationModel row tying both to the model version.

`estimate_for_fields` values one property from plain fields (the listing bot's price suggestion).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlmodel import select

from core import audit
from core.apps.listings.property import calibration, comparables
from core.apps.listings.property.features import (
    LISTING_FEATURES,
    ValuationDataError,
    scoring_table,
    training_table,
)
from core.auth import Principal
from core.store import lake
from core.store.models_listings import PropertyValuationModel
from core.store.sql import session_scope
from core.tenancy import NotFoundOrDenied, owns, require_supplier, sees_everything

DEFAULT_LEVEL = 0.8
DEFAULT_TIME_BUDGET_S = 120.0
OOF_FOLDS = 5
POOL_ZONE = "processed"


class NoValuationModel(ValuationDataError):
    """No valuation model the principal may use exists yet."""


# -- training -------------------------------------------------------------------------------------
def load_source(principal: Principal, source: str) -> tuple[pd.DataFrame, dict]:
    """(table, lineage) of `dataset:NAME` (its last refinement run's kept items, or every item when it was
    never refined) or of a CSV/Parquet/JSONL file."""
    from ml.data import DATASET_PREFIX, fingerprint, flatten_fields, load_training_data
    from ml.errors import TrainingDataError

    source = str(source or "").strip()
    if not source:
        raise ValuationDataError("Choose the sales to train on: dataset:NAME or a file.")
    if not source.startswith(DATASET_PREFIX):
        data = load_training_data(source, principal)
        return data.frame, data.lineage
    try:
        data = load_training_data(source, principal)
        return data.frame, data.lineage
    except TrainingDataError as exc:
        if "no finished refinement run" not in str(exc):
            raise ValuationDataError(str(exc)) from None
    from core.refine.runs import load_items
    from core.tenancy import dataset_for

    name = source[len(DATASET_PREFIX):].strip()
    owned = dataset_for(principal, name, action="train on this dataset")
    frame = flatten_fields(load_items(owned["id"]))
    if frame.empty:
        raise ValuationDataError(f"Dataset '{name}' has no items yet; scrape or upload sales first.")
    lineage = {"kind": "dataset-items", "source": source, "dataset": name, "rows": int(len(frame)),
               "columns": [str(c) for c in frame.columns], "fingerprint": fingerprint(frame.astype(str))}
    return frame, lineage


def train_valuation(principal: Principal | None, source: str, name: str, *, target: str | None = None,
                    level: float = DEFAULT_LEVEL, time_budget_s: float = DEFAULT_TIME_BUDGET_S, seed: int = 0,
                    holdout_fraction: float = 0.2, progress=None) -> dict:
    """Train, calibrate and register a valuation model; returns its summary (JSON types)."""
    from ml import registry
    from ml.modelling import fit_model

    require_supplier(principal, "train valuation models")
    registry.check_name(name)
    if not 0.5 <= float(level) < 1:
        raise ValuationDataError(f"The interval level must be between 0.5 and 1 (e.g. 0.8); got {level}.")
    report = progress or (lambda fraction, message: None)
    report(0.0, f"Loading {source}")
    frame, lineage = load_source(principal, source)
    registry.check_registrable(principal, name)
    table, target, kind, notes, display = training_table(frame, target)
    report(0.05, f"Choosing a model of {target} on {len(table):,} sales")
    fitted = fit_model(table, target, task="regression", time_budget_s=time_budget_s, seed=seed,
                       holdout_fraction=holdout_fraction, refit_full=False,
                       progress=lambda f, m: report(0.05 + 0.6 * f, m))
    report(0.7, "Calibrating the interval on out-of-fold errors")
    figures = _calibrate_and_refit(fitted, table, target, level, seed)
    notes += list(fitted.notes) + figures.pop("notes")
    report(0.9, f"Registering a new version of {name}")
    settings = {"source": source, "target": target, "task": "regression", "time_budget_s": time_budget_s,
                "seed": seed, "holdout_fraction": holdout_fraction, "valuation_level": level}
    version = registry.register_model(principal, name, fitted, lineage={**lineage, "prepared": f"property-{kind}"},
                                      settings=settings, description=f"Property valuation ({kind}) of {target}")
    number = int(version["version"])
    pool = pd.concat([table, display.drop(columns=[c for c in display.columns if c in table.columns])], axis=1)
    features = comparables.distance_features(kind, LISTING_FEATURES, fitted.importance, fitted.feature_columns, pool)
    pool_path = _write_pool(pool[[c for c in pool.columns if c in set(features) | {target, "title", "url",
                                                                                      "item_id"}]], name, number)
    currency = _currency(frame)
    row = PropertyValuationModel(
        model_name=name, model_version=number, kind=kind, source=str(source)[:500], target=target, currency=currency,
        feature_columns=list(fitted.feature_columns), distance_features=features, interval_level=float(level),
        log_ratio_low=figures["log_ratio_low"], log_ratio_high=figures["log_ratio_high"],
        coverage=figures["coverage"], holdout_rows=figures["holdout_rows"], mae=figures["mae"],
        mape=figures["mape"], training_rows=int(len(table)), pool_path=str(pool_path), notes=notes,
        created_by=principal.id)
    with session_scope() as session:
        session.add(row)
    audit.record("property.train", principal.id, f"model:{name}", version=number, kind=kind,
                 coverage=figures["coverage"], mape=figures["mape"])
    report(1.0, f"Registered {name} version {number}")
    return {"model": name, "version": number, "kind": kind, "target": target, "chosen": fitted.chosen,
            "training_rows": int(len(table)), "interval_level": float(level), **figures, "notes": notes}


def _calibrate_and_refit(fitted, table: pd.DataFrame, target: str, level: float, seed: int) -> dict:
    """Interval quantiles from out-of-fold errors of the chosen pipeline on the training part, coverage on the
    held-out rows, then the pipeline refitted on every row (fitted.pipeline is replaced)."""
    from sklearn.base import clone
    from sklearn.model_selection import KFold
    from threadpoolctl import threadpool_limits

    X = table[fitted.feature_columns]
    y = table[target].to_numpy(dtype=float)
    holdout = np.asarray(fitted.holdout_rows, dtype=int)
    train = np.setdiff1d(np.arange(len(table)), holdout)
    notes = []
    with threadpool_limits(limits=1):
        folds = KFold(n_splits=min(OOF_FOLDS, len(train)), shuffle=True, random_state=seed)
        oof = np.empty(len(train))
        for fit_part, predict_part in folds.split(train):
            model = clone(fitted.pipeline).fit(X.iloc[train[fit_part]], y[train[fit_part]])
            oof[predict_part] = model.predict(X.iloc[train[predict_part]])
        train_ratios = calibration.log_ratios(y[train], oof)
        low, high = calibration.interval_quantiles(train_ratios, level)
        held_predicted = fitted.pipeline.predict(X.iloc[holdout]) if len(holdout) else np.array([])
        held_actual = y[holdout]
        measured = calibration.coverage(held_actual, held_predicted, low, high)
        # The served interval uses every out-of-sample error there is: the folds' and the held-out rows'.
        low, high = calibration.interval_quantiles(
            np.concatenate([train_ratios, calibration.log_ratios(held_actual, held_predicted)]), level)
        fitted.pipeline = clone(fitted.pipeline).fit(X, y)
    notes.append("The served pipeline was refitted on all rows after the held-out check; the interval comes from "
                 "out-of-fold and held-out errors.")
    mae = float(np.mean(np.abs(held_actual - held_predicted))) if len(holdout) else None
    mape = float(np.mean(np.abs(held_actual - held_predicted) / held_actual) * 100) if len(holdout) else None
    return {"log_ratio_low": round(low, 6), "log_ratio_high": round(high, 6),
            "coverage": round(measured, 4) if measured is not None else None, "holdout_rows": int(len(holdout)),
            "mae": round(mae, 2) if mae is not None else None, "mape": round(mape, 3) if mape is not None else None,
            "notes": notes}


def _currency(frame: pd.DataFrame) -> str | None:
    if "currency" not in frame.columns:
        return None
    counts = frame["currency"].dropna().astype(str).value_counts()
    return str(counts.index[0]) if len(counts) else None


def _write_pool(pool: pd.DataFrame, name: str, number: int):
    from core.safe_names import safe_name

    target = lake.zone_path(POOL_ZONE, "property-valuation", safe_name(name, "model name"), f"v{number}.parquet")
    return lake.write_parquet(pool.reset_index(drop=True), target)


# -- model records ----------------------------------------------------------------------------------
def valuation_models(principal: Principal | None) -> list[dict]:
    """The valuation model versions the principal may use, newest first."""
    require_supplier(principal, "see valuation models")
    query = select(PropertyValuationModel).order_by(PropertyValuationModel.id.desc())
    if not sees_everything(principal):
        query = query.where(PropertyValuationModel.created_by == principal.id)
    with session_scope() as session:
        return [row.model_dump() for row in session.exec(query)]


def valuation_model(principal: Principal | None, name: str | None = None, version: str | int | None = None) -> dict:
    """One valuation model version: the named one (champion by default), or the principal's newest."""
    from ml import registry

    require_supplier(principal, "use valuation models")
    if not name:
        models = valuation_models(principal)
        if not models:
            raise NoValuationModel("No valuation model yet: train one on the Property page (or with "
                                   "`python -m core property train dataset:NAME --name MODEL`).")
        return models[0]
    number = int(registry.resolve_version(principal, name, version))  # checks the model's owner
    with session_scope() as session:
        row = session.exec(select(PropertyValuationModel).where(PropertyValuationModel.model_name == name,
                                                                PropertyValuationModel.model_version == number)).first()
        record = row.model_dump() if row else None
    if record is None:
        raise NoValuationModel(f"Model '{name}' version {number} is not a valuation model (it has no interval "
                               "calibration); train it on the Property page.")
    if not owns(principal, record["created_by"]):
        raise NotFoundOrDenied(f"No model named '{name}' that you can use.")
    return record


def load_pool(record: dict) -> pd.DataFrame:
    path = record["pool_path"]
    if not os.path.exists(path):
        raise ValuationDataError(f"The comparables of {record['model_name']} v{record['model_version']} are missing "
                                 "from the lake; train the model again.")
    return lake.read_parquet(path)


# -- valuing ----------------------------------------------------------------------------------------
def value_frame(principal: Principal, record: dict, frame: pd.DataFrame, *, with_comparables: bool = True,
                comparable_count: int = comparables.DEFAULT_COUNT) -> pd.DataFrame:
    """Estimate, low, high (and comparables) for every row of `frame` (items or plain fields)."""
    from ml import registry
    from ml.modelling import predict

    fitted = registry.load_model(principal, record["model_name"], record["model_version"])
    table = scoring_table(frame, record["kind"], record["target"])
    present = [c for c in fitted.feature_columns if c in table.columns and table[c].notna().any()]
    if len(present) < max(1, len(fitted.feature_columns) // 2):
        missing = [c for c in fitted.feature_columns if c not in present]
        raise ValuationDataError(
            f"These rows lack most columns the model {record['model_name']} was trained on (missing: "
            f"{', '.join(missing[:8])}{'...' if len(missing) > 8 else ''}); value them with a model trained on "
            "data like them.")
    estimate = predict(fitted, table) if len(table) else np.array([])
    estimate = np.where(np.isfinite(estimate) & (estimate > 0), estimate, np.nan)
    low, high = calibration.interval(estimate, record["log_ratio_low"], record["log_ratio_high"])
    out = table.reset_index(drop=True).copy()
    out["estimate"], out["low"], out["high"] = estimate, low, high
    if with_comparables:
        pool = load_pool(record)
        prepared = comparables.PreparedPool(pool, record["distance_features"])
        out["comparables"] = [
            comparables.nearest(prepared, row, record["target"], comparable_count,
                                exclude_item=_int_or_none(row.get("item_id")))
            for row in out.to_dict("records")]
    return out


def _int_or_none(value) -> int | None:
    try:
        return int(value) if value is not None and not pd.isna(value) else None
    except (TypeError, ValueError):
        return None


def estimate_for_fields(principal: Principal | None, fields: dict, *, model: str | None = None,
                        version: str | int | None = None) -> dict:
    """Value one property from plain fields (area_m2, beds, baths, property_type, city, district or a location
    line; or the columns of an uploaded sales table). For the listing bot's suggested price.

    Returns {estimate, low, high, interval_level, currency, comparables, model, version, kind, features_used};
    raises NoValuationModel when the principal has no valuation model, ValuationDataError when the fields
    cannot be valued by it."""
    if not isinstance(fields, dict) or not fields:
        raise ValuationDataError("Give the property's fields (area_m2, beds, city, ...) to value it.")
    record = valuation_model(principal, model, version)
    frame = pd.DataFrame([{str(k): v for k, v in fields.items()}])
    valued = value_frame(principal, record, frame).iloc[0]
    if pd.isna(valued["estimate"]):
        raise ValuationDataError("The model gave no usable estimate for these fields.")
    used = [c for c in record["feature_columns"] if c in valued.index and not pd.isna(valued[c])]
    return {"estimate": round(float(valued["estimate"]), 2), "low": round(float(valued["low"]), 2),
            "high": round(float(valued["high"]), 2), "interval_level": record["interval_level"],
            "coverage": record["coverage"], "currency": record["currency"], "comparables": valued["comparables"],
            "model": record["model_name"], "version": record["model_version"], "kind": record["kind"],
            "features_used": used, "valued_at": datetime.now(UTC).isoformat()}
