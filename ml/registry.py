"""The model registry on MLflow: versions of named models, aliases champion/challenger, promote, roll back.

A registered version is one MLflow run (params, metrics, lineage as tags, figures and evaluation JSON as
artifacts, the sklearn pipeline as an MLflow model) plus a model version pointing at that run's model.
The whole FittedModel (pipeline, columns, classes, metrics, figures) is pickled beside it, so loading a
version gives back exactly what training produced.

Ownership: a model belongs to the principal who first registered it (tag `workbench.owner_id` on the
registered model). Suppliers see and act on their own models, admins on all, buyers on none. Every
function takes the acting principal first and checks it here, so the page, the CLI, jobs and the API
meet the same rule.

Champion history: promoting records the champion it replaces on the registered model (a stack in the
tag `workbench.champion_history`), so a roll back restores exactly the previous champion.
"""

from __future__ import annotations

import contextlib
import json
import math
import pickle
import re
import tempfile
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core import audit
from core.auth import Principal
from core.safe_names import UnsafeNameError, safe_name
from core.tenancy import NotFoundOrDenied, owns, require_supplier
from ml import mlflow_store

CHAMPION, CHALLENGER = "champion", "challenger"
ALIASES = (CHAMPION, CHALLENGER)
OWNER_TAG, OWNER_EMAIL_TAG = "workbench.owner_id", "workbench.owner_email"
HISTORY_TAG = "workbench.champion_history"
TRAINED_BY_TAG = "workbench.trained_by"
DECISION_TAG, DECISION_REASON_TAG = "workbench.decision", "workbench.decision_reason"
LINEAGE_PREFIX = "lineage."
FITTED_ARTIFACT = "workbench/fitted_model.pkl"
MODEL_ARTIFACT = "model"
_MAX_TAG = 5000
_MAX_PARAM = 6000
_loaded: OrderedDict[tuple[str, str], Any] = OrderedDict()
_loaded_lock = threading.Lock()
_LOADED_KEEP = 8


class RegistryError(ValueError):
    """A registry request cannot be done as asked; the message says why and what to do."""


# -- names and ownership ------------------------------------------------------------------------
def check_name(name: str) -> str:
    """The project's one safe-name rule (the name becomes an artifact directory), and a letter or digit first."""
    name = (name or "").strip() if isinstance(name, str) else ""
    try:
        safe_name(name, "model name")
    except UnsafeNameError as exc:
        raise RegistryError(str(exc)) from None
    if not name[0].isalnum():
        raise RegistryError(f"The model name {name[:40]!r} must start with a letter or digit.")
    return name


def _denied(name: str) -> NotFoundOrDenied:
    return NotFoundOrDenied(f"No model named '{name}' that you can use.")


def _registered(name: str):
    from mlflow.exceptions import MlflowException

    try:
        return mlflow_store.client().get_registered_model(name)
    except MlflowException as exc:
        if "RESOURCE_DOES_NOT_EXIST" in str(getattr(exc, "error_code", "")) or "not found" in str(exc).lower():
            return None
        raise


def _owner_id(model) -> int | None:
    value = (model.tags or {}).get(OWNER_TAG)
    return int(value) if value and value.isdigit() else None


def _model_for(principal: Principal | None, name: str, action: str):
    require_supplier(principal, action)
    name = check_name(name)
    model = _registered(name)
    if model is None or not owns(principal, _owner_id(model)):
        raise _denied(name)
    return model


def check_registrable(principal: Principal | None, name: str) -> str:
    """Refuse early (before minutes of training) a name that belongs to someone else's model."""
    require_supplier(principal, "register models")
    name = check_name(name)
    model = _registered(name)
    if model is not None and not owns(principal, _owner_id(model)):
        raise _denied(name)
    return name


def _ensure_model(principal: Principal, name: str, description: str = ""):
    """The registered model `name`, created for `principal` when new; refused when someone else owns it."""
    from mlflow.exceptions import MlflowException

    model = _registered(name)
    if model is None:
        # A concurrent registration may have created it a moment ago; its owner is checked below.
        with contextlib.suppress(MlflowException):
            mlflow_store.client().create_registered_model(
                name, tags={OWNER_TAG: str(principal.id), OWNER_EMAIL_TAG: principal.email}, description=description)
        model = _registered(name)
    if model is None or not owns(principal, _owner_id(model)):
        raise _denied(name)
    return model


# -- registering --------------------------------------------------------------------------------
def register_model(principal: Principal | None, name: str, fitted, *, lineage: dict | None = None,
                   settings: dict | None = None, description: str = "", set_alias: str | None = "auto") -> dict:
    """Log `fitted` (a ml.modelling.FittedModel) as a new version of model `name`; returns the version.

    `settings` are the training arguments (task, text columns, time budget, seed, ...) kept as params so a
    retrain can repeat them. With `set_alias="auto"` the first version becomes champion and later ones
    challenger; None leaves the aliases alone (continuous training decides itself).
    """
    require_supplier(principal, "register models")
    name = check_name(name)
    model = _ensure_model(principal, name, description)
    owner_id = _owner_id(model)
    mlflow_client = mlflow_store.client()
    run = mlflow_client.create_run(mlflow_store.experiment_id(name), run_name=f"{name}-{_now():%Y%m%d-%H%M%S}",
                                   tags=_run_tags(principal, owner_id, fitted, lineage or {}))
    run_id = run.info.run_id
    try:
        _log_run(run_id, fitted, lineage or {}, settings or {})
        mlflow_client.set_terminated(run_id, "FINISHED")
    except BaseException:
        mlflow_client.set_terminated(run_id, "FAILED")
        raise
    version = mlflow_client.create_model_version(
        name, source=f"{run.info.artifact_uri}/{MODEL_ARTIFACT}", run_id=run_id,
        tags={TRAINED_BY_TAG: principal.email, "task": str(fitted.task), "target": str(fitted.target)},
        description=description or None)
    number = str(version.version)
    if set_alias == "auto":
        current = _alias_versions(_registered(name)).get(CHAMPION)
        if current is None:
            _set_champion(name, number, reason="first version")
        else:
            mlflow_client.set_registered_model_alias(name, CHALLENGER, number)
    elif set_alias in ALIASES:
        if set_alias == CHAMPION:
            _set_champion(name, number, reason="registered as champion")
        else:
            mlflow_client.set_registered_model_alias(name, CHALLENGER, number)
    audit.record("ml.register", principal.id, f"model:{name}", version=number, run_id=run_id,
                 metrics=_scalar_metrics(fitted.metrics))
    return get_version(principal, name, number)


def _run_tags(principal: Principal, owner_id: int | None, fitted, lineage: dict) -> dict[str, str]:
    tags = {OWNER_TAG: str(owner_id if owner_id is not None else principal.id), TRAINED_BY_TAG: principal.email,
            "task": str(fitted.task), "target": str(fitted.target)}
    for key, value in lineage.items():
        text = value if isinstance(value, str) else json.dumps(_jsonable(value), default=str)
        tags[LINEAGE_PREFIX + str(key)] = text[:_MAX_TAG]
    return tags


def _log_run(run_id: str, fitted, lineage: dict, settings: dict) -> None:
    from mlflow.entities import Metric, Param

    mlflow = mlflow_store.mlflow_module()
    mlflow_client = mlflow_store.client()
    stamp = int(_now().timestamp() * 1000)
    params = {"task": fitted.task, "target": fitted.target, "chosen": _short(fitted.chosen),
              "feature_columns": ", ".join(map(str, fitted.feature_columns)),
              "text_columns": ", ".join(map(str, fitted.text_columns or [])),
              "holdout_rows": len(fitted.holdout_rows) if fitted.holdout_rows is not None else 0,
              **{f"setting.{k}": v for k, v in settings.items()}}
    metrics = _scalar_metrics(fitted.metrics)
    mlflow_client.log_batch(
        run_id, metrics=[Metric(k, v, stamp, 0) for k, v in metrics.items()],
        params=[Param(k[:250], _short(v, _MAX_PARAM)) for k, v in params.items()])
    with tempfile.TemporaryDirectory(prefix="dbw-mlrun-") as tmp:
        root = Path(tmp)
        (root / "workbench").mkdir()
        (root / "figures").mkdir()
        with open(root / FITTED_ARTIFACT, "wb") as handle:
            import cloudpickle  # a dependency of mlflow; pickles what plain pickle refuses (lambdas in pipelines)

            cloudpickle.dump(fitted, handle, protocol=pickle.HIGHEST_PROTOCOL)
        for key, figure in (fitted.figures or {}).items():
            (root / "figures" / f"{_file_stem(key)}.json").write_text(
                figure if isinstance(figure, str) else json.dumps(figure), encoding="utf-8")
        for key, value in (("metrics", fitted.metrics), ("candidates", fitted.candidates),
                           ("importance", fitted.importance), ("lineage", lineage), ("settings", settings)):
            (root / "workbench" / f"{key}.json").write_text(
                json.dumps(_jsonable(value), indent=2, default=str), encoding="utf-8")
        # The pipeline as a standard MLflow model, so the MLflow UI and `mlflow models` tools understand it.
        mlflow.sklearn.save_model(fitted.pipeline, root / MODEL_ARTIFACT, serialization_format="cloudpickle",
                                  pip_requirements=_pip_requirements())
        mlflow_client.log_artifacts(run_id, str(root))


def _pip_requirements() -> list[str]:
    # Given explicitly: MLflow would otherwise spend seconds inferring them by importing the model in a subprocess.
    from importlib.metadata import version

    return [f"{pkg}=={version(pkg)}" for pkg in ("scikit-learn", "pandas", "numpy", "cloudpickle")]


# -- reading ------------------------------------------------------------------------------------
def list_models(principal: Principal | None) -> list[dict]:
    """Every model the principal may see, each with its versions (metrics, aliases, lineage)."""
    require_supplier(principal, "see models")
    mlflow_client = mlflow_store.client()
    models, token = [], None
    while True:
        page = mlflow_client.search_registered_models(max_results=500, page_token=token)
        models.extend(page)
        token = page.token
        if not token:
            break
    visible = [m for m in models if owns(principal, _owner_id(m))]
    return [_model_dict(m, _versions(m)) for m in sorted(visible, key=lambda m: m.name.lower())]


def get_model(principal: Principal | None, name: str) -> dict:
    model = _model_for(principal, name, "see models")
    return _model_dict(model, _versions(model))


def model_versions(principal: Principal | None, name: str) -> list[dict]:
    return get_model(principal, name)["versions"]


def get_version(principal: Principal | None, name: str, ref: str | int | None = None) -> dict:
    """One version: a number ("3" or "v3"), an alias ("champion", "challenger"), or None for the champion
    (the latest version when there is no champion)."""
    model = _model_for(principal, name, "see models")
    number = _resolve(model, ref)
    for version in _versions(model):
        if str(version["version"]) == number:
            return version
    raise RegistryError(f"Model '{model.name}' has no version {number}.")


def resolve_version(principal: Principal | None, name: str, ref: str | int | None = None) -> str:
    return _resolve(_model_for(principal, name, "use models"), ref)


def _resolve(model, ref: str | int | None) -> str:
    aliases = _alias_versions(model)
    text = str(ref).strip() if ref is not None else ""
    if text.lower() in ("", "latest") or text.lower() in ALIASES:
        alias = text.lower() or CHAMPION
        if alias in aliases:
            return aliases[alias]
        if alias == CHALLENGER:
            raise RegistryError(f"Model '{model.name}' has no challenger.")
        latest = _latest_number(model.name)
        if latest is None:
            raise RegistryError(f"Model '{model.name}' has no versions yet; train one first.")
        return latest
    number = text[1:] if text[:1] in ("v", "V") else text
    if not number.isdigit():
        raise RegistryError(f"{text!r} is not a version: give a number (3 or v3), 'champion' or 'challenger'.")
    return str(int(number))


def _latest_number(name: str) -> str | None:
    numbers = [int(v.version) for v in mlflow_store.client().search_model_versions(f"name = '{name}'")]
    return str(max(numbers)) if numbers else None


def _alias_versions(model) -> dict[str, str]:
    aliases = getattr(model, "aliases", None) or {}
    return {alias: str(version) for alias, version in aliases.items()}


def _versions(model) -> list[dict]:
    mlflow_client = mlflow_store.client()
    versions = list(mlflow_client.search_model_versions(f"name = '{model.name}'"))
    runs = {}
    if versions:
        experiment = mlflow_client.get_experiment_by_name(mlflow_store.EXPERIMENT_PREFIX + model.name)
        if experiment is not None:
            for run in mlflow_client.search_runs([experiment.experiment_id], max_results=5000):
                runs[run.info.run_id] = run
    by_version: dict[str, list[str]] = {}
    for alias, number in _alias_versions(model).items():
        by_version.setdefault(number, []).append(alias)
    out = []
    for version in sorted(versions, key=lambda v: int(v.version), reverse=True):
        run = runs.get(version.run_id)
        tags = dict(run.data.tags) if run else {}
        params = dict(run.data.params) if run else {}
        out.append({
            "name": model.name, "version": int(version.version), "run_id": version.run_id,
            "aliases": sorted(by_version.get(str(version.version), [])),
            "created_at": datetime.fromtimestamp(version.creation_timestamp / 1000, UTC),
            "task": tags.get("task") or (version.tags or {}).get("task"),
            "target": tags.get("target") or (version.tags or {}).get("target"),
            "chosen": params.get("chosen"), "trained_by": tags.get(TRAINED_BY_TAG),
            "metrics": dict(run.data.metrics) if run else {},
            "lineage": {k[len(LINEAGE_PREFIX):]: v for k, v in tags.items() if k.startswith(LINEAGE_PREFIX)},
            "settings": {k[len("setting."):]: v for k, v in params.items() if k.startswith("setting.")},
            "decision": (version.tags or {}).get(DECISION_TAG), "decision_reason": (version.tags or {}).get(
                DECISION_REASON_TAG),
            "tags": dict(version.tags or {}),
        })
    return out


def _model_dict(model, versions: list[dict]) -> dict:
    aliases = _alias_versions(model)
    return {"name": model.name, "owner_id": _owner_id(model), "owner_email": (model.tags or {}).get(OWNER_EMAIL_TAG),
            "description": model.description or "", "aliases": aliases,
            "champion": int(aliases[CHAMPION]) if CHAMPION in aliases else None,
            "challenger": int(aliases[CHALLENGER]) if CHALLENGER in aliases else None,
            "champion_history": [int(v) for v in _history(model)], "versions": versions}


def version_figures(principal: Principal | None, name: str, ref: str | int | None = None) -> dict[str, str]:
    """The version's stored figures as plotly JSON strings (plotly.io.from_json turns one back into a Figure)."""
    fitted = load_model(principal, name, ref)
    return dict(fitted.figures or {})


def load_model(principal: Principal | None, name: str, ref: str | int | None = None):
    """The FittedModel of a version (number, alias, or None for the champion)."""
    model = _model_for(principal, name, "use models")
    number = _resolve(model, ref)
    mlflow_client = mlflow_store.client()
    version = mlflow_client.get_model_version(model.name, number)
    key = (mlflow_store.tracking_uri(), version.run_id)
    with _loaded_lock:
        if key in _loaded:
            _loaded.move_to_end(key)
            return _loaded[key]
    with tempfile.TemporaryDirectory(prefix="dbw-mlload-") as tmp:
        path = mlflow_client.download_artifacts(version.run_id, FITTED_ARTIFACT, tmp)
        with open(path, "rb") as handle:
            fitted = pickle.load(handle)  # noqa: S301 - our own artifact, written by register_model
    with _loaded_lock:
        _loaded[key] = fitted
        while len(_loaded) > _LOADED_KEEP:
            _loaded.popitem(last=False)
    return fitted


# -- aliases: promote, challenger, roll back ----------------------------------------------------
def promote(principal: Principal | None, name: str, ref: str | int, *, reason: str = "promoted by hand") -> dict:
    """Make a version the champion; the champion it replaces is recorded so `rollback` can restore it."""
    model = _model_for(principal, name, "promote models")
    number = _resolve(model, ref)
    _check_exists(model.name, number)
    previous = _alias_versions(model).get(CHAMPION)
    _set_champion(model.name, number, reason=reason)
    audit.record("ml.promote", principal.id, f"model:{model.name}", version=number, previous_champion=previous,
                 reason=reason)
    return get_model(principal, model.name)


def set_challenger(principal: Principal | None, name: str, ref: str | int) -> dict:
    model = _model_for(principal, name, "change model aliases")
    number = _resolve(model, ref)
    _check_exists(model.name, number)
    mlflow_store.client().set_registered_model_alias(model.name, CHALLENGER, number)
    audit.record("ml.challenger", principal.id, f"model:{model.name}", version=number)
    return get_model(principal, model.name)


def rollback(principal: Principal | None, name: str) -> dict:
    """Restore the champion that the last promotion replaced."""
    model = _model_for(principal, name, "roll back models")
    history = _history(model)
    current = _alias_versions(model).get(CHAMPION)
    if not history:
        raise RegistryError(f"Model '{model.name}' has no previous champion to roll back to.")
    restored = history.pop()
    mlflow_client = mlflow_store.client()
    mlflow_client.set_registered_model_alias(model.name, CHAMPION, restored)
    mlflow_client.set_registered_model_tag(model.name, HISTORY_TAG, json.dumps(history))
    if current:
        mlflow_client.set_model_version_tag(model.name, current, "workbench.rolled_back_at", _now().isoformat())
        if CHALLENGER not in _alias_versions(_registered(model.name)):
            mlflow_client.set_registered_model_alias(model.name, CHALLENGER, current)
    audit.record("ml.rollback", principal.id, f"model:{model.name}", restored=restored, replaced=current)
    return get_model(principal, model.name)


def record_decision(principal: Principal | None, name: str, ref: str | int, decision: str, reason: str) -> None:
    """Tag a version with a continuous-training decision ("promoted", "kept champion") and why."""
    model = _model_for(principal, name, "change models")
    number = _resolve(model, ref)
    mlflow_client = mlflow_store.client()
    mlflow_client.set_model_version_tag(model.name, number, DECISION_TAG, decision)
    mlflow_client.set_model_version_tag(model.name, number, DECISION_REASON_TAG, reason[:_MAX_TAG])


def _set_champion(name: str, number: str, reason: str) -> None:
    mlflow_client = mlflow_store.client()
    model = _registered(name)
    aliases = _alias_versions(model)
    previous = aliases.get(CHAMPION)
    if previous == number:
        return
    if previous is not None:
        history = _history(model) + [previous]
        mlflow_client.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history[-50:]))
        mlflow_client.set_model_version_tag(name, number, "workbench.previous_champion", previous)
    mlflow_client.set_registered_model_alias(name, CHAMPION, number)
    mlflow_client.set_model_version_tag(name, number, "workbench.promoted_at", _now().isoformat())
    mlflow_client.set_model_version_tag(name, number, "workbench.promotion_reason", reason[:_MAX_TAG])
    if aliases.get(CHALLENGER) == number:
        mlflow_client.delete_registered_model_alias(name, CHALLENGER)


def _history(model) -> list[str]:
    try:
        values = json.loads((model.tags or {}).get(HISTORY_TAG) or "[]")
    except json.JSONDecodeError:
        return []
    return [str(v) for v in values if str(v).isdigit()]


def _check_exists(name: str, number: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        mlflow_store.client().get_model_version(name, number)
    except MlflowException:
        raise RegistryError(f"Model '{name}' has no version {number}.") from None


# -- helpers ------------------------------------------------------------------------------------
def _now() -> datetime:
    return datetime.now(UTC)


def _scalar_metrics(metrics: dict | None) -> dict[str, float]:
    """The finite numbers among the metrics (MLflow metrics are floats; matrices go to metrics.json)."""
    out = {}
    for key, value in (metrics or {}).items():
        if isinstance(value, bool):
            value = float(value)
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            out[re.sub(r"[^A-Za-z0-9_\-. /]", "_", str(key))[:250]] = number
    return out


def _short(value, limit: int = 500) -> str:
    text = value if isinstance(value, str) else json.dumps(_jsonable(value), default=str)
    return text[:limit]


def _file_stem(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(key)).strip("._")[:80] or "figure"


def _jsonable(value):
    """Plain JSON types from numpy, pandas and dataclass values."""
    import numpy as np
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return json.loads(value.to_json(orient="records", date_format="iso"))
    if isinstance(value, pd.Series):
        return json.loads(value.to_json(date_format="iso"))
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return _jsonable(asdict(value))
    return value
