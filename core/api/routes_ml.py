"""Models (the MLflow registry, through ml.registry) and predictions (ml.predict)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from core import tenancy
from core.api.deps import Caller
from core.api.paging import MODEL_NAME_PATTERN, Limit, Offset
from core.api.routes_jobs import JobOut, submitted
from core.store import jobs

router = APIRouter(tags=["models"])
ModelName = Annotated[str, Path(pattern=MODEL_NAME_PATTERN)]
Cell = str | int | float | bool | None


class ModelVersionOut(BaseModel):
    version: int
    aliases: list[str]
    task: str | None
    target: str | None
    chosen: str | None = Field(description="the estimator training picked")
    metrics: dict[str, float]
    created_at: datetime


class ModelOut(BaseModel):
    name: str
    description: str
    champion: int | None
    challenger: int | None
    versions: list[ModelVersionOut]


class PredictRequest(BaseModel):
    rows: list[dict[str, Cell]] = Field(min_length=1, max_length=10_000,
                                        description="one object per row: column -> value")
    version: str | None = Field(default=None, max_length=20,
                                description="a number, 'champion' or 'challenger'; default: the champion")


class PredictionRow(BaseModel):
    prediction: Cell
    probability: float | None = Field(default=None, description="classification: of the predicted class")


class PredictOut(BaseModel):
    model: str
    version: int
    predictions: list[PredictionRow]


class ScoreRequest(BaseModel):
    dataset: str = Field(min_length=1, max_length=200)
    version: str | None = Field(default=None, max_length=20)


class StoredPrediction(BaseModel):
    item_id: int
    raw_id: str
    app: str
    model_name: str
    model_version: int
    prediction: Cell
    probability: float | None
    created_at: datetime


class PredictionPage(BaseModel):
    total: int
    offset: int
    limit: int
    predictions: list[StoredPrediction]


def _finite(value) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _model_out(model: dict) -> ModelOut:
    versions = [ModelVersionOut(version=v["version"], aliases=v["aliases"], task=v.get("task"), target=v.get("target"),
                                chosen=v.get("chosen"),
                                metrics={k: f for k, m in v["metrics"].items() if (f := _finite(m)) is not None},
                                created_at=v["created_at"]) for v in model["versions"]]
    return ModelOut(name=model["name"], description=model["description"], champion=model["champion"],
                    challenger=model["challenger"], versions=versions)


def _cell(value) -> Cell:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


@router.get("/models", response_model=list[ModelOut], summary="Your registered models and their versions")
def list_models(principal: Caller) -> list[ModelOut]:
    tenancy.require_supplier(principal, "see models")
    from ml import registry

    return [_model_out(m) for m in registry.list_models(principal)]


@router.get("/models/{name}", response_model=ModelOut, summary="One model with its versions")
def get_model(name: ModelName, principal: Caller) -> ModelOut:
    tenancy.require_supplier(principal, "see models")
    from ml import registry

    return _model_out(registry.get_model(principal, name))


@router.post("/models/{name}/predictions", response_model=PredictOut, summary="Predict for the rows sent")
def predict(name: ModelName, body: PredictRequest, principal: Caller) -> PredictOut:
    tenancy.require_supplier(principal, "use models")
    from ml.predict import predict_frame

    frame = pd.DataFrame(body.rows)
    predictions, number = predict_frame(principal, name, frame, body.version)
    probabilities = predictions["probability"] if "probability" in predictions else [None] * len(predictions)
    rows = [PredictionRow(prediction=_cell(p), probability=_finite(q))
            for p, q in zip(predictions["prediction"], probabilities, strict=True)]
    return PredictOut(model=name, version=number, predictions=rows)


@router.post("/models/{name}/score-jobs", response_model=JobOut, status_code=202,
             summary="Score every item of a dataset and store the predictions (a job)")
def score(name: ModelName, body: ScoreRequest, principal: Caller) -> JobOut:
    tenancy.dataset_for(principal, body.dataset, action="score datasets")
    from ml import registry

    registry.resolve_version(principal, name, body.version)  # unknown model or version: an answer now
    params = {"dataset": body.dataset, "model": name, "version": body.version}
    return submitted(jobs.submit("predict", params, principal), principal)


@router.get("/predictions", response_model=PredictionPage, summary="Stored predictions of your items, newest first")
def stored_predictions(principal: Caller, offset: Offset = 0, limit: Limit = 100,
                       model: Annotated[str | None, Query(max_length=100)] = None,
                       app: Annotated[str | None, Query(max_length=50)] = None) -> PredictionPage:
    from ml.predict import read_predictions

    frame = read_predictions(principal, app=app, model_name=model)
    page = frame.iloc[offset:offset + limit]
    rows = [StoredPrediction(item_id=int(r.item_id), raw_id=str(r.raw_id), app=str(r.app),
                             model_name=str(r.model_name), model_version=int(r.model_version),
                             prediction=_cell(r.prediction), probability=_finite(r.probability),
                             created_at=r.created_at) for r in page.itertuples(index=False)]
    return PredictionPage(total=len(frame), offset=offset, limit=limit, predictions=rows)
