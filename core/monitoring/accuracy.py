"""Model accuracy over time, per model version, as labels arrive.

A stored prediction (the SQL `prediction` table, written by ml/predict.py) is scored once its item has a
label:
- a person's label: the Raw Explorer's good/bad feedback on the item's raw record (the latest one counts),
  for models that predict good/bad (the quality models);
- later ground truth: the model's target column appearing in the item's fields (a listing's sold price
  filled in, a class set by a later import), for any model.
Figures per model version and day of the prediction: labelled predictions, accuracy for classes, mean
absolute error and mean absolute percentage error for numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlmodel import select

from core import tenancy
from core.auth import Principal
from core.store.models import Dataset, Feedback, Item, Prediction
from core.store.sql import get_engine

FEEDBACK_CLASSES = ("good", "bad")
COLUMNS = ["model", "version", "day", "labelled", "accuracy", "mae", "mape", "label_source"]


def _targets(principal: Principal, pairs: set[tuple[str, int]]) -> dict[tuple[str, int], str | None]:
    from ml import registry

    targets = {}
    for name, version in pairs:
        try:
            targets[(name, version)] = registry.get_version(principal, name, version).get("target")
        except Exception:  # noqa: BLE001 - a model removed from the registry still has stored predictions
            targets[(name, version)] = None
    return targets


def labelled_predictions(principal: Principal | None, model_name: str | None = None) -> pd.DataFrame:
    """Every stored prediction of the principal's items that has a label, with the label and its source."""
    tenancy.require_supplier(principal, "see model accuracy")
    query = (select(Prediction.model_name, Prediction.model_version, Prediction.prediction, Prediction.created_at,
                    Item.raw_id, Item.source_app, Item.fields)
             .join(Item, Item.id == Prediction.item_id).join(Dataset, Dataset.id == Item.dataset_id))
    if not tenancy.sees_everything(principal):
        query = query.where(Dataset.created_by == principal.id)
    if model_name:
        query = query.where(Prediction.model_name == model_name)
    feedback_query = select(Feedback.app, Feedback.raw_id, Feedback.label).order_by(Feedback.created_at)
    with get_engine().connect() as connection:
        rows = connection.execute(query).all()
        feedback = {(app, raw_id): label for app, raw_id, label in connection.execute(feedback_query)}
    targets = _targets(principal, {(name, int(version)) for name, version, *_ in rows})
    out = []
    for name, version, prediction, created_at, raw_id, app, fields in rows:
        label, source = None, None
        target = targets.get((name, int(version)))
        if target and isinstance(fields, dict) and fields.get(target) not in (None, ""):
            label, source = fields[target], "ground truth"
        elif isinstance(prediction, str) and prediction in FEEDBACK_CLASSES and (app, raw_id) in feedback:
            label, source = feedback[(app, raw_id)], "feedback"
        if source:
            out.append({"model": name, "version": int(version), "created_at": created_at, "prediction": prediction,
                        "label": label, "label_source": source})
    return pd.DataFrame(out, columns=["model", "version", "created_at", "prediction", "label", "label_source"])


def _score(group: pd.DataFrame) -> dict:
    predicted = pd.to_numeric(group["prediction"], errors="coerce")
    truth = pd.to_numeric(group["label"], errors="coerce")
    numeric = predicted.notna().all() and truth.notna().all() and not group["prediction"].map(
        lambda v: isinstance(v, str)).any()
    if numeric and predicted.nunique() > 2:  # a regression: errors, not hit rates
        errors = (predicted - truth).abs()
        relative = errors[truth != 0] / truth[truth != 0].abs()
        return {"accuracy": None, "mae": float(errors.mean()),
                "mape": float(relative.mean()) if len(relative) else None}
    hits = [str(p).strip() == str(t).strip() for p, t in zip(group["prediction"], group["label"], strict=True)]
    return {"accuracy": float(np.mean(hits)), "mae": None, "mape": None}


def accuracy_over_time(principal: Principal | None, model_name: str | None = None) -> pd.DataFrame:
    """One row per model, version and day: how many predictions are labelled and how right they were."""
    labelled = labelled_predictions(principal, model_name)
    if labelled.empty:
        return pd.DataFrame(columns=COLUMNS)
    labelled["day"] = pd.to_datetime(labelled["created_at"], utc=True).dt.strftime("%Y-%m-%d")
    rows = [{"model": model, "version": int(version), "day": day, "labelled": len(group), **_score(group),
             "label_source": ", ".join(sorted(set(group["label_source"])))}
            for (model, version, day), group in labelled.groupby(["model", "version", "day"], sort=True)]
    return pd.DataFrame(rows, columns=COLUMNS)


def latest_accuracy(principal: Principal | None) -> list[dict]:
    """Per model, its newest version's accuracy over all its labelled predictions (for alerts)."""
    labelled = labelled_predictions(principal)
    out = []
    for model, group in labelled.groupby("model", sort=True):
        newest = group[group["version"] == group["version"].max()]
        score = _score(newest)
        if score["accuracy"] is not None:
            out.append({"model": model, "version": int(newest["version"].iat[0]), "accuracy": score["accuracy"],
                        "labelled": len(newest)})
    return out
