"""Predictions: score a file for the CLI, or score a dataset's items and write the predictions back.

Write-back goes to two places:
- the application's raw store (MongoDB), in a `predictions` collection of the application's database,
  one document per (raw document, model, version): `{raw_id, item_id, dataset, model_name,
  model_version, prediction, probability, probabilities, created_at}`. A separate collection rather than
  a field on the document because the raw documents stay exactly as collected (their content hash and
  re-scrape idempotency untouched), several models and versions can score the same document without
  rewriting it, and the embedded server is fast at bulk inserts but slow at per-document updates. An app
  page reads the predictions of the documents it shows with one `raw_id: {$in: [...]}` query.
- SQL, the `prediction` table (one row per item, model and version), for querying and joins with items.

Re-scoring with the same version replaces that version's earlier predictions in both stores.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert
from sqlmodel import select

from core import audit, tenancy
from core.auth import Principal
from core.store.models import Dataset, Item, Prediction
from core.store.sql import get_engine, session_scope
from ml.errors import TrainingDataError

PREDICTIONS_COLLECTION = "predictions"
BATCH_ROWS = 5000


# -- scoring tables -----------------------------------------------------------------------------
def read_rows(source: str, principal: Principal | None = None) -> pd.DataFrame:
    """The rows to score: a CSV/Parquet/JSONL file, or `dataset:NAME` / `package:NAME` like training data."""
    from ml.data import load_training_data, read_table_file

    source = str(source).strip()
    if source.startswith(("dataset:", "package:")):
        return load_training_data(source, principal).frame
    path = Path(source).expanduser()
    try:
        return read_table_file(path)
    except TrainingDataError as exc:
        # Training needs two columns (a target and a feature); scoring a one-column file is fine.
        if "column(s)" not in str(exc) or path.suffix.lower() not in (".csv", ".tsv", ".txt", ""):
            raise
        frame = pd.read_csv(path, encoding="utf-8-sig", sep=None, engine="python")
        if frame.empty:
            raise TrainingDataError(f"{path.name} has a header but no data rows.") from None
        frame.columns = [str(c).strip() for c in frame.columns]
        return frame


def predict_frame(principal: Principal | None, name: str, frame: pd.DataFrame, ref: str | int | None = None
                  ) -> tuple[pd.DataFrame, int]:
    """Predictions for every row of `frame`, in its order: columns `prediction` (and for classes
    `probability`, the probability of the predicted class). Returns them and the version number used."""
    from ml import registry
    from ml.modelling import predict, predict_proba

    number = registry.resolve_version(principal, name, ref)
    fitted = registry.load_model(principal, name, number)
    frame = _aligned(frame, list(getattr(fitted, "feature_columns", None) or []))
    out = pd.DataFrame(index=range(len(frame)))
    out["prediction"] = _plain_values(predict(fitted, frame))
    if fitted.task == "classification" and len(frame):
        try:
            proba = predict_proba(fitted, frame)
        except (AttributeError, NotImplementedError):
            proba = None
        if proba is not None:
            out["probability"] = proba.max(axis=1)
            out.attrs["probabilities"] = proba
            out.attrs["classes"] = list(fitted.classes or [])
    return out, int(number)


def _aligned(frame: pd.DataFrame, feature_columns: list[str]) -> pd.DataFrame:
    """`frame` with the item fields under the names the model was trained with.

    A field is named `fields.NAME` when NAME clashes with a column of the training table; a refinement
    run's kept items carry signal columns (`language`, `quality`, ...) that the items being scored lack, so
    the same field arrives as plain NAME here. Without this the model saw that feature as missing in
    every scored row (right classes, but at half the probability it had on its held-out rows)."""
    renamed = {c[len("fields."):]: c for c in feature_columns
               if c.startswith("fields.") and c not in frame.columns and c[len("fields."):] in frame.columns}
    if not renamed:
        return frame
    frame = frame.copy()
    for plain, prefixed in renamed.items():
        frame[prefixed] = frame[plain]
    return frame


def predict_file(principal: Principal | None, name: str, data: str, out: str | Path,
                 ref: str | int | None = None) -> dict:
    """Score DATA and write OUT (CSV): one row per input row, in input order, `id` first when DATA has one."""
    frame = read_rows(data, principal)
    predictions, number = predict_frame(principal, name, frame, ref)
    table = pd.DataFrame({"prediction": predictions["prediction"].to_numpy()})
    if "id" in frame.columns:
        table.insert(0, "id", frame["id"].to_numpy())
    out = Path(out).expanduser()
    if out.is_dir():
        raise TrainingDataError(f"{out} is a folder; give a file name for the predictions, e.g. {out}/pred.csv.")
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".pred-", suffix=".csv", dir=out.parent)
    os.close(handle)
    try:
        table.to_csv(tmp, index=False)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return {"model": name, "version": number, "rows": len(table), "out": str(out)}


def _plain_values(values) -> list:
    """Python scalars (JSON columns and BSON take no numpy types); a non-finite number becomes None."""
    plain = [v.item() if isinstance(v, np.generic) else v for v in np.asarray(values, dtype=object)]
    return [None if isinstance(v, float) and not np.isfinite(v) else v for v in plain]


# -- write-back for an application's items ------------------------------------------------------
def score_dataset(principal: Principal | None, dataset: str, model_name: str, ref: str | int | None = None,
                  progress=None) -> dict:
    """Score every item of `dataset` with a model version; write the predictions beside the raw documents
    (the application's MongoDB `predictions` collection) and into the SQL `prediction` table."""
    from core.store.raw import get_raw_store
    from ml import registry
    from ml.data import dataset_rows_for_scoring

    report = progress or (lambda fraction, message=None: None)
    owned = tenancy.dataset_for(principal, dataset, action="score this dataset")
    number = int(registry.resolve_version(principal, model_name, ref))
    report(0.02, f"Loading the items of {dataset}")
    frame, raw_ids = dataset_rows_for_scoring(owned["id"])
    if frame.empty:
        raise TrainingDataError(f"Dataset '{dataset}' has no items to score.")
    store = get_raw_store()
    created_at = datetime.now(UTC)
    written = 0
    for start in range(0, len(frame), BATCH_ROWS):
        chunk = frame.iloc[start:start + BATCH_ROWS].reset_index(drop=True)
        predictions, _ = predict_frame(principal, model_name, chunk, number)
        rows = _prediction_rows(chunk, predictions, raw_ids, model_name, number, created_at)
        _write_sql(rows, model_name, number)
        _write_raw(store, rows, dataset)
        written += len(rows)
        report(0.05 + 0.9 * written / len(frame), f"Scored {written:,} of {len(frame):,} items")
    audit.record("ml.predict", principal.id, f"model:{model_name}", version=number, dataset=dataset, rows=written)
    report(1.0, f"Scored {written:,} items")
    return {"model": model_name, "version": number, "dataset": dataset, "rows": written,
            "apps": sorted({row["app"] for row in rows}) if written else []}


def _prediction_rows(chunk: pd.DataFrame, predictions: pd.DataFrame, raw_ids: dict, model_name: str, number: int,
                     created_at: datetime) -> list[dict]:
    probabilities = predictions.attrs.get("probabilities")
    classes = predictions.attrs.get("classes") or []
    rows = []
    for position, item in enumerate(chunk.itertuples(index=False)):
        item_id = int(item.item_id)
        row = {"item_id": item_id, "raw_id": str(raw_ids.get(item_id, "")), "app": item.source_app,
               "model_name": model_name, "model_version": number,
               "prediction": predictions["prediction"].iat[position], "probability": None,
               "created_at": created_at}
        if "probability" in predictions.columns:
            row["probability"] = float(predictions["probability"].iat[position])
            row["probabilities"] = {str(c): float(p) for c, p in zip(classes, probabilities[position], strict=True)}
        rows.append(row)
    return rows


def _write_sql(rows: list[dict], model_name: str, number: int) -> None:
    columns = ("item_id", "raw_id", "app", "model_name", "model_version", "prediction", "probability", "created_at")
    with session_scope() as session:
        session.execute(delete(Prediction).where(Prediction.model_name == model_name,
                                              Prediction.model_version == number,
                                              Prediction.item_id.in_([r["item_id"] for r in rows])))
        session.execute(insert(Prediction), [{c: r[c] for c in columns} for r in rows])


def _write_raw(store, rows: list[dict], dataset: str) -> None:
    by_app: dict[str, list[dict]] = {}
    for row in rows:
        by_app.setdefault(row["app"], []).append(row)
    for app, app_rows in by_app.items():
        collection = raw_predictions_collection(store, app)
        model_name, number = app_rows[0]["model_name"], app_rows[0]["model_version"]
        collection.delete_many({"model_name": model_name, "model_version": number,
                                "raw_id": {"$in": [r["raw_id"] for r in app_rows]}})
        # Bulk insert: fast on the embedded server, where per-document upserts are slow.
        collection.insert_many([{k: v for k, v in {**r, "dataset": dataset}.items() if k != "app"}
                                for r in app_rows], ordered=False)


def raw_predictions_collection(store, app: str):
    """The `predictions` collection beside an application's raw documents (indexed on first use)."""
    import pymongo

    collection = store.database(app)[PREDICTIONS_COLLECTION]
    present = {tuple(k for k, _ in info["key"]) for info in collection.index_information().values()}
    if ("raw_id", "model_name", "model_version") not in present:
        collection.create_index([("raw_id", pymongo.ASCENDING), ("model_name", pymongo.ASCENDING),
                                 ("model_version", pymongo.ASCENDING)])
    return collection


# -- reading predictions back (for app pages) ---------------------------------------------------
def read_predictions(principal: Principal | None, *, app: str | None = None, raw_ids: list[str] | None = None,
                     item_ids: list[int] | None = None, model_name: str | None = None,
                     model_version: int | None = None, latest_only: bool = True) -> pd.DataFrame:
    """Predictions of the principal's items (admins: all), newest first; with `latest_only` one row per
    item and model (the most recent version that scored it)."""
    tenancy.require_supplier(principal, "see predictions")
    query = (select(Prediction.item_id, Prediction.raw_id, Prediction.app, Prediction.model_name,
                    Prediction.model_version, Prediction.prediction, Prediction.probability, Prediction.created_at,
                    Item.dataset_id)
             .join(Item, Item.id == Prediction.item_id).join(Dataset, Dataset.id == Item.dataset_id)
             .order_by(Prediction.created_at.desc(), Prediction.id.desc()))
    if not tenancy.sees_everything(principal):
        query = query.where(Dataset.created_by == principal.id)
    if app:
        query = query.where(Prediction.app == app)
    if raw_ids is not None:
        query = query.where(Prediction.raw_id.in_([str(r) for r in raw_ids]))
    if item_ids is not None:
        query = query.where(Prediction.item_id.in_([int(i) for i in item_ids]))
    if model_name:
        query = query.where(Prediction.model_name == model_name)
    if model_version is not None:
        query = query.where(Prediction.model_version == int(model_version))
    with get_engine().connect() as connection:
        rows = connection.execute(query).all()
    frame = pd.DataFrame(rows, columns=["item_id", "raw_id", "app", "model_name", "model_version", "prediction",
                                        "probability", "created_at", "dataset_id"])
    if latest_only and not frame.empty:
        frame = frame.drop_duplicates(["item_id", "model_name"], keep="first").reset_index(drop=True)
    return frame
