"""Drift reports: has a dataset's or a model's data moved? The statistics are ml.drift.compare_frames'.

Two comparisons, each stored as a DriftReport (per-column results, drifted columns, in words):
- runs: a dataset's items in one refinement run against an earlier run's kept items. By default the
  current side is only the items *new* in the current run (a new run re-decides every old item too, which
  would dilute a shifted batch); when a run brings no new items the whole run is compared.
- model: a registered model's training data (the exact refinement run, package version or file its
  lineage names) against a dataset it now scores, on the model's input columns (`model_inputs`), and the
  model's predictions on both (`model_predictions`).

A model comparison can trigger the ML Lab's retraining when the model is watched (ml/continuous.py): when
its predictions drifted, or at least `retrain_above` of its input columns did, the watch's data marker is
cleared and the ML Lab's own `retrain` job is submitted; it retrains on the current data and promotes the
new version only if it scores better (the decision and why stay on the version, as for any retrain).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlmodel import select

from core import audit, tenancy
from core.auth import Principal
from core.store.models import Dataset, ModelWatch, RefinementRun
from core.store.models_monitoring import DriftReport
from core.store.sql import session_scope

NOT_COMPARED = ("id", "item_id", "run_id", "url", "raw_id", "created_at", "content_hash", "fields")
MAX_ROWS = 20_000  # a random sample above this keeps a check to seconds; tests are about distributions
PREDICTION = "prediction"


class DriftCheckError(ValueError):
    """A comparison cannot be made; the message says what to do."""


# -- frames -------------------------------------------------------------------------------------
def _sampled(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    return frame.sample(MAX_ROWS, random_state=seed) if len(frame) > MAX_ROWS else frame


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[c for c in NOT_COMPARED if c in frame.columns]).reset_index(drop=True)


def run_items(principal: Principal | None, run_id: int) -> pd.DataFrame:
    """The kept items of a run as a table (item fields flattened to columns, with `id`)."""
    from ml.data import flatten_fields

    run = tenancy.run_for(principal, run_id, action="check this run for drift")
    path = Path(run.get("validated_path") or "")
    if run["status"] != "succeeded" or not run.get("validated_path") or not path.exists():
        raise DriftCheckError(f"Run {run_id} has no kept items in the lake (it failed or its files were removed).")
    return flatten_fields(pd.read_parquet(path))


def _succeeded_run_ids(dataset_id: int) -> list[int]:
    with session_scope() as session:
        return list(session.exec(select(RefinementRun.id).where(RefinementRun.dataset_id == dataset_id,
                                                                RefinementRun.status == "succeeded")
                                 .order_by(RefinementRun.id)).all())


# -- comparisons --------------------------------------------------------------------------------
def _compare(reference: pd.DataFrame, current: pd.DataFrame, columns: list[str] | None = None) -> dict:
    from ml.drift import compare_frames

    if reference.empty or current.empty:
        raise DriftCheckError("One side of the comparison has no rows.")
    return compare_frames(_sampled(reference), _sampled(current), columns=columns)


def compare_runs(principal: Principal | None, dataset: str, reference_run: int | None = None,
                 current_run: int | None = None, only_new: bool = True, job_id: int | None = None) -> dict:
    """Drift of a dataset between two of its runs (default: the latest against the one before); stored."""
    owned = tenancy.dataset_for(principal, dataset, action="check this dataset for drift")
    runs = _succeeded_run_ids(owned["id"])
    current_run = current_run or (runs[-1] if runs else None)
    if reference_run is None:
        earlier = [r for r in runs if current_run is not None and r < current_run]
        reference_run = earlier[-1] if earlier else None
    if current_run is None or reference_run is None:
        raise DriftCheckError(f"Dataset '{dataset}' needs two finished refinement runs to compare; refine it again "
                              "after new data arrives.")
    if reference_run == current_run:
        raise DriftCheckError("Choose two different runs.")
    reference, current = run_items(principal, reference_run), run_items(principal, current_run)
    label = f"run {current_run}"
    if only_new and "id" in current.columns and "id" in reference.columns:
        new = current[~current["id"].astype(str).isin(set(reference["id"].astype(str)))]
        if len(new):
            current, label = new, f"{len(new):,} items new in run {current_run}"
    result = _compare(_comparable(reference), _comparable(current))
    return store_report(principal, "runs", result, reference=f"run {reference_run}", current=label,
                        dataset_id=owned["id"], job_id=job_id)


def model_training_frame(principal: Principal | None, model_name: str, version: str | int | None = None
                         ) -> tuple[pd.DataFrame, dict, str]:
    """(training table, version info, words) of a model version: the exact run, package version or file."""
    from ml import registry
    from ml.data import load_training_data

    info = registry.get_version(principal, model_name, version)
    lineage = info.get("lineage") or {}
    source = lineage.get("source") or (info.get("settings") or {}).get("source")
    if lineage.get("kind") == "dataset" and str(lineage.get("run_id") or "").isdigit():
        frame = run_items(principal, int(lineage["run_id"]))
        words = f"training data of v{info['version']} (run {lineage['run_id']})"
    elif source:
        frame = load_training_data(source, principal).frame
        words = f"training data of v{info['version']} ({source})"
    else:
        raise DriftCheckError(f"Model '{model_name}' v{info['version']} does not say what it was trained on.")
    return frame, info, words


def compare_model(principal: Principal | None, model_name: str, dataset: str, version: str | int | None = None,
                  retrain_above: float | None = None, job_id: int | None = None) -> dict:
    """Drift of a model's inputs and predictions: its training data against `dataset`'s items now.

    Returns {"inputs": report, "predictions": report, "retrain": decision or None}."""
    from core.refine.runs import load_items
    from ml.data import flatten_fields
    from ml.predict import predict_frame

    owned = tenancy.dataset_for(principal, dataset, action="check this dataset for drift")
    reference, info, words = model_training_frame(principal, model_name, version)
    current = flatten_fields(load_items(owned["id"]))
    if current.empty:
        raise DriftCheckError(f"Dataset '{dataset}' has no items.")
    target = info.get("target")
    features = _feature_columns(principal, model_name, info["version"]) or list(_comparable(reference).columns)
    inputs = [c for c in features if c != target and c in reference.columns and c in current.columns]
    if not inputs:
        raise DriftCheckError(f"Dataset '{dataset}' has none of the columns model '{model_name}' was trained on.")
    reference, current = _sampled(reference), _sampled(current)
    current_words = f"items of {dataset} now"
    input_report = store_report(principal, "model_inputs", _compare(reference, current, inputs),
                                reference=words, current=current_words, dataset_id=owned["id"],
                                model_name=model_name, job_id=job_id)
    reference_predictions, number = predict_frame(principal, model_name, reference, info["version"])
    current_predictions, _ = predict_frame(principal, model_name, current, number)
    prediction_report = store_report(
        principal, "model_predictions",
        _compare(reference_predictions[[PREDICTION]], current_predictions[[PREDICTION]], [PREDICTION]),
        reference=f"predictions of v{number} on its training data", current=f"predictions on {current_words}",
        dataset_id=owned["id"], model_name=model_name, job_id=job_id)
    decision = None
    if retrain_above is not None:
        decision = retrain_if_drifted(principal, model_name, input_report, prediction_report, retrain_above)
    return {"inputs": input_report, "predictions": prediction_report, "retrain": decision}


def _feature_columns(principal: Principal, model_name: str, version) -> list[str]:
    """The columns the model reads (its pipeline's inputs); signals it was trained with may be absent now."""
    from ml import registry

    return list(getattr(registry.load_model(principal, model_name, version), "feature_columns", None) or [])


# -- retraining ---------------------------------------------------------------------------------
def retrain_if_drifted(principal: Principal, model_name: str, inputs: dict, predictions: dict,
                       retrain_above: float) -> dict:
    """Submit the ML Lab's retrain job for a watched model whose inputs or predictions drifted enough."""
    from core.store.jobs import submit

    share = len(inputs["drifted"]) / max(inputs["columns_checked"], 1)
    reasons = ([f"{share:.0%} of its input columns drifted (threshold {retrain_above:.0%})"]
               if share >= retrain_above and inputs["drifted"] else [])
    if predictions["drifted"]:
        reasons.append("its predictions drifted")
    if not reasons:
        return {"retrain": False, "reason": f"Only {share:.0%} of the input columns drifted and the predictions "
                                            "did not; no retraining."}
    with session_scope() as session:
        watch = session.exec(select(ModelWatch).where(ModelWatch.model_name == model_name)).first()
        if watch is None or not tenancy.owns(principal, watch.created_by):
            return {"retrain": False, "reason": f"Drift found ({'; '.join(reasons)}), but '{model_name}' is not "
                                                "watched: watch it in the ML Lab to retrain on drift."}
        watch.last_marker = None  # "not trained on the current data": the retrain job's check then retrains
        session.add(watch)
        params = ({"dataset": watch.dataset_name} if watch.dataset_name else
                  {"package": watch.source[len("package:"):]} if watch.source.startswith("package:") else {})
    job_id = submit("retrain", params, principal)
    with session_scope() as session:
        for report_id in (inputs["id"], predictions["id"]):
            row = session.get(DriftReport, report_id)
            row.retrain_job_id = job_id
            session.add(row)
    audit.record("monitoring.drift_retrain", principal.id, f"model:{model_name}", job_id=job_id, reasons=reasons)
    return {"retrain": True, "job_id": job_id, "reason": "Retraining: " + "; ".join(reasons) + "."}


# -- stored reports -----------------------------------------------------------------------------
def store_report(principal: Principal, kind: str, result: dict, *, reference: str, current: str,
                 dataset_id: int | None = None, model_name: str | None = None, job_id: int | None = None) -> dict:
    columns = result.get("columns") or {}
    with session_scope() as session:
        row = DriftReport(kind=kind, dataset_id=dataset_id, model_name=model_name, reference=reference[:300],
                          current=current[:300], columns_checked=len(columns),
                          drifted=list(result.get("drifted") or []), report=_json_safe(result), job_id=job_id,
                          created_by=principal.id)
        session.add(row)
        session.flush()
        return row.model_dump()


def _json_safe(value):
    import math

    import numpy as np

    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def list_reports(principal: Principal | None, limit: int = 50) -> pd.DataFrame:
    """The principal's drift reports (admins: all), newest first, one row each."""
    tenancy.require_supplier(principal, "see drift reports")
    with session_scope() as session:
        query = (select(DriftReport, Dataset.name).join(Dataset, Dataset.id == DriftReport.dataset_id, isouter=True)
                 .order_by(DriftReport.id.desc()).limit(limit))
        if not tenancy.sees_everything(principal):
            query = query.where(DriftReport.created_by == principal.id)
        rows = [{"report_id": r.id, "kind": r.kind, "dataset": name, "model": r.model_name,
                 "reference": r.reference, "current": r.current, "columns": r.columns_checked,
                 "drifted": len(r.drifted), "drifted_columns": ", ".join(r.drifted),
                 "retrain_job": r.retrain_job_id, "created_at": r.created_at} for r, name in session.exec(query)]
    return pd.DataFrame(rows, columns=["report_id", "kind", "dataset", "model", "reference", "current", "columns",
                                       "drifted", "drifted_columns", "retrain_job", "created_at"])


def report_detail(principal: Principal | None, report_id: int) -> dict:
    tenancy.require_supplier(principal, "see drift reports")
    with session_scope() as session:
        row = session.get(DriftReport, report_id)
        if row is None or not tenancy.owns(principal, row.created_by):
            raise tenancy.NotFoundOrDenied(f"No drift report {report_id} that you can see.")
        return row.model_dump()


def drifted_table(report: dict) -> pd.DataFrame:
    """The drifted columns of a stored report with their readable effect, drifted first."""
    rows = [{"column": column, "drifted": bool(info.get("drifted")), "method": info.get("method"),
             "effect": info.get("summary") or str(info.get("effect")), "statistic": info.get("statistic")}
            for column, info in (report.get("report", {}).get("columns") or {}).items()]
    frame = pd.DataFrame(rows, columns=["column", "drifted", "method", "effect", "statistic"])
    return frame.sort_values(["drifted", "column"], ascending=[False, True]).reset_index(drop=True)
