"""Continuous training: retrain a watched model when its data gets a new version, promote only if better.

A watch (SQL table `modelwatch`) ties a registered model to its training source and settings. The data
version ("marker") is the latest succeeded refinement run of a `dataset:` source, the latest published
package of a `package:` source, or the content hash of a file. `check_watched` does one pass: for each
watch whose marker moved, it retrains with the same settings, scores the new model and the champion on
the SAME rows (the new model's held-out slice of the new data, which the new model never saw), promotes
the new version only when it is strictly better, and records the decision and why on the version (MLflow
tags), in the audit trail and on the watch.

A succeeded refine job submits a "retrain" job for its dataset when a watch names it
(core/refine/jobs.py), so new refinement runs retrain their models without anyone clicking.

Caveat worth knowing when reading decisions: the champion may have been trained on rows that are in the
new held-out slice (a new run of a dataset keeps most old items); that favours the champion, so a
promotion is conservative.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlmodel import select

from core import audit, tenancy
from core.auth import Principal
from core.store.models import DataPackage, Dataset, ModelWatch, RefinementRun
from core.store.sql import session_scope
from ml.errors import TrainingDataError
from ml.targets import class_label

PROMOTED, KEPT = "promoted", "kept champion"


# -- watches ------------------------------------------------------------------------------------
def watch(principal: Principal | None, model_name: str, source: str | None = None, target: str | None = None, *,
          task: str | None = None, text_columns: list[str] | None = None, time_budget_s: float = 600.0,
          seed: int = 0, holdout_fraction: float = 0.2) -> dict:
    """Retrain `model_name` whenever `source` gets new data. Source and target default to those the model's
    champion was trained with. The current data version counts as seen: only newer data triggers."""
    from ml import registry

    tenancy.require_supplier(principal, "watch datasets")
    model = registry.get_model(principal, model_name)  # ownership check
    if source is None or target is None:
        champion = registry.get_version(principal, model_name)
        settings = champion.get("settings") or {}
        source = source or settings.get("source") or champion["lineage"].get("source")
        target = target or settings.get("target") or champion.get("target")
        task = task or _none(settings.get("task")) or champion.get("task")
        text_columns = text_columns if text_columns is not None else _list(settings.get("text_columns"))
    if not source or not target:
        raise TrainingDataError("Say which data to watch and which column to predict (source and target).")
    dataset_name = source[len("dataset:"):].strip() if source.startswith("dataset:") else None
    marker = current_marker(principal, source)
    settings = {"task": task, "text_columns": text_columns, "time_budget_s": float(time_budget_s), "seed": int(seed),
                "holdout_fraction": float(holdout_fraction)}
    with session_scope() as session:
        row = session.exec(select(ModelWatch).where(ModelWatch.model_name == model["name"])).first()
        if row is None:
            row = ModelWatch(model_name=model["name"], source=source, target=target, created_by=principal.id)
        row.source, row.dataset_name, row.target, row.settings = source, dataset_name, target, settings
        row.last_marker = marker
        session.add(row)
        session.flush()
        result = row.model_dump()
    audit.record("ml.watch", principal.id, f"model:{model['name']}", source=source, column=target)
    return result


def unwatch(principal: Principal | None, model_name: str) -> None:
    with session_scope() as session:
        row = session.exec(select(ModelWatch).where(ModelWatch.model_name == model_name)).first()
        if row is None or not _may_act(principal, row):
            raise tenancy.NotFoundOrDenied(f"No watch on a model named '{model_name}' that you can change.")
        session.delete(row)
    audit.record("ml.unwatch", principal.id, f"model:{model_name}")


def list_watches(principal: Principal | None) -> list[dict]:
    tenancy.require_supplier(principal, "see watched datasets")
    with session_scope() as session:
        query = select(ModelWatch).order_by(ModelWatch.model_name)
        if not tenancy.sees_everything(principal):
            query = query.where(ModelWatch.created_by == principal.id)
        return [row.model_dump() for row in session.exec(query)]


def _may_act(principal: Principal | None, row: ModelWatch) -> bool:
    tenancy.require_supplier(principal, "change watched datasets")
    return tenancy.owns(principal, row.created_by)


# -- data versions ------------------------------------------------------------------------------
def current_marker(principal: Principal | None, source: str) -> str | None:
    """The version of the data behind `source` now: run:<id>, package:<id>, or file:<sha256>."""
    source = source.strip()
    if source.startswith("dataset:"):
        dataset = tenancy.dataset_for(principal, source[len("dataset:"):].strip(), action="watch this dataset")
        with session_scope() as session:
            run_id = session.exec(select(RefinementRun.id).where(RefinementRun.dataset_id == dataset["id"],
                                                                 RefinementRun.status == "succeeded")
                                  .order_by(RefinementRun.id.desc())).first()
        return f"run:{run_id}" if run_id else None
    if source.startswith("package:"):
        name, _, version = source[len("package:"):].partition("@")
        with session_scope() as session:
            query = (select(DataPackage.id, Dataset.created_by).join(Dataset, Dataset.id == DataPackage.dataset_id)
                     .where(DataPackage.name == name.strip(), DataPackage.status == "published"))
            if version.strip():  # a pinned version never changes, so it never retrains
                query = query.where(DataPackage.version == version.strip())
            row = session.exec(query.order_by(DataPackage.id.desc())).first()
        if row is None or not tenancy.owns(principal, row[1]):
            return None
        return f"package:{row[0]}"
    path = Path(source).expanduser()
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"file:{digest.hexdigest()}"


# -- one pass -----------------------------------------------------------------------------------
def check_watched(principal: Principal | None, dataset: str | None = None, package: str | None = None,
                  progress=None) -> list[dict]:
    """Retrain every watched model (of `dataset` or `package`, or all) whose data has a new version; returns
    the decisions made (models without new data are left out)."""
    tenancy.require_supplier(principal, "retrain models")
    report = progress or (lambda fraction, message=None: None)
    watches = [w for w in list_watches(principal)
               if (dataset is None or w["dataset_name"] == dataset)
               and (package is None or w["source"] == f"package:{package}")]
    decisions = []
    for index, row in enumerate(watches):
        report(index / max(len(watches), 1), f"Checking {row['model_name']}")
        try:
            marker = current_marker(principal, row["source"])
        except tenancy.NotFoundOrDenied as exc:
            decisions.append(_remember(row, None, {"model": row["model_name"], "decision": "skipped",
                                                   "reason": str(exc)}))
            continue
        if marker is None or marker == row["last_marker"]:
            continue  # nothing new since the last training
        try:
            decision = retrain(principal, row, marker)
        except (TrainingDataError, ValueError) as exc:
            decision = {"model": row["model_name"], "decision": "failed", "reason": f"Retraining failed: {exc}",
                        "marker": marker}
            audit.record("ml.retrain", principal.id, f"model:{row['model_name']}", **decision)
        decisions.append(_remember(row, marker, decision))
    report(1.0, f"Checked {len(watches)} watched model(s)")
    return decisions


def retrain(principal: Principal, row: dict, marker: str) -> dict:
    """Retrain one watched model on its source now; compare with the champion on the new held-out rows."""
    from ml import registry
    from ml.data import load_training_data
    from ml.modelling import fit_model

    name, target, settings = row["model_name"], row["target"], row["settings"] or {}
    data = load_training_data(row["source"], principal)
    # No refit on all rows: the comparison must use rows the new model has not seen.
    fitted = fit_model(data.frame, target, task=settings.get("task"), text_columns=settings.get("text_columns"),
                       time_budget_s=float(settings.get("time_budget_s", 600.0)), seed=int(settings.get("seed", 0)),
                       holdout_fraction=float(settings.get("holdout_fraction", 0.2)), refit_full=False)
    version = registry.register_model(principal, name, fitted, lineage={**data.lineage, "marker": marker},
                                      settings={"source": row["source"], "target": target, **settings,
                                                "refit_full": False, "trigger": "continuous"},
                                      set_alias=None)
    number = str(version["version"])
    holdout = data.frame.reset_index(drop=True).iloc[list(fitted.holdout_rows)]
    metric, lower_is_better = ("rmse", True) if fitted.task == "regression" else ("accuracy", False)
    new_score = _score(fitted, holdout, target, metric)
    champion_number = registry.get_model(principal, name)["champion"]
    champion_score, champion_problem = None, None
    if champion_number is not None:
        try:
            champion_score = _score(registry.load_model(principal, name, champion_number), holdout, target, metric)
        except Exception as exc:  # noqa: BLE001 - a champion that cannot score the new data loses
            champion_problem = f"{type(exc).__name__}: {exc}"
    rows = len(holdout)
    where = f"on the same {rows} held-out rows of the new data ({_shown(marker)})"
    if not rows:
        decision, reason = KEPT, "The new data left no held-out rows to compare on; the champion stays."
    elif champion_number is None:
        decision, reason = PROMOTED, f"No champion yet; v{number} {metric} {new_score:.4g} {where}."
    elif champion_problem:
        decision, reason = PROMOTED, (f"The champion v{champion_number} could not score the new data "
                                      f"({champion_problem[:300]}); v{number} {metric} {new_score:.4g} {where}.")
    else:
        better = new_score < champion_score if lower_is_better else new_score > champion_score
        decision = PROMOTED if better else KEPT
        comparison = ("better" if better else "not better") + f" than champion v{champion_number} " \
                                                              f"{metric} {champion_score:.4g}"
        reason = f"v{number} {metric} {new_score:.4g} is {comparison} {where}."
    registry.record_decision(principal, name, number, decision, reason)
    if decision == PROMOTED:
        registry.promote(principal, name, number, reason=reason)
    else:
        registry.set_challenger(principal, name, number)
    outcome = {"model": name, "decision": decision, "reason": reason, "version": int(number),
               "champion_version": int(champion_number) if champion_number is not None else None,
               "metric": metric, "new_score": _finite(new_score), "champion_score": _finite(champion_score),
               "holdout_rows": rows, "marker": marker}
    audit.record("ml.retrain", principal.id, f"model:{name}", **outcome)
    return outcome


def _score(fitted, holdout: pd.DataFrame, target: str, metric: str) -> float:
    from ml.evaluate import rmse
    from ml.modelling import predict

    predicted = predict(fitted, holdout)
    if metric == "rmse":
        truth = pd.to_numeric(holdout[target], errors="coerce").to_numpy(dtype=float)
        return rmse(truth, predicted)
    truth = [class_label(v) for v in holdout[target]]
    return float(np.mean([class_label(p) == t for p, t in zip(predicted, truth, strict=True)]))


def _remember(row: dict, marker: str | None, decision: dict) -> dict:
    with session_scope() as session:
        stored = session.get(ModelWatch, row["id"])
        if stored is not None:
            if marker is not None:
                stored.last_marker = marker
            stored.last_decision = {**decision, "at": datetime.now(UTC).isoformat()}
            stored.last_checked_at = datetime.now(UTC)
            session.add(stored)
    return decision


def _shown(marker: str) -> str:
    kind, _, value = marker.partition(":")
    return f"{kind} {value[:12]}" if kind == "file" else f"{kind} {value}"


def _finite(value) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


def _none(value):
    return None if value in (None, "", "null", "None") else value


def _list(value) -> list[str] | None:
    import json

    if value in (None, "", "null", "None"):
        return None
    if isinstance(value, list):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, json.JSONDecodeError):
        return [v.strip() for v in str(value).split(",") if v.strip()]
    return parsed if isinstance(parsed, list) else None
