"""The MLflow store under DATA_DIR: tracking and model registry in one SQLite file, artifacts beside it.

    DATA_DIR/mlflow/mlflow.db         runs (params, metrics, tags), registered models, versions, aliases
    DATA_DIR/mlflow/artifacts/<model>/<run id>/artifacts/   each version's files (model, figures, JSON)

so `mlflow ui --backend-store-uri sqlite:///DATA_DIR/mlflow/mlflow.db` shows the same runs and models.
MLFLOW_TRACKING_URI overrides the store (a shared tracking server or database).

MLflow is imported here, lazily, and only by the registry functions: `import mlflow` costs ~2 s, which
the Streamlit start-up and `python -m core` must not pay. Its telemetry is switched off before the
import (nothing leaves this machine) and its INFO chatter is silenced so the CLI prints only results.
"""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path

from core.config import get_settings
from core.logging_setup import quiet_libraries
from core.safe_names import safe_name

MLFLOW_DIR = "mlflow"
EXPERIMENT_PREFIX = "workbench/"
_clients: dict[str, object] = {}
_lock = threading.Lock()


def store_dir() -> Path:
    return Path(get_settings().data_dir) / MLFLOW_DIR


def tracking_uri() -> str:
    explicit = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    return explicit or f"sqlite:///{store_dir() / 'mlflow.db'}"


def artifact_root() -> Path:
    return store_dir() / "artifacts"


def _quiet_import():
    # Telemetry off before mlflow is imported: it reads these once. Both spellings are honoured by 3.x.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow

    # The registry is local and trusted, and cloudpickle is what keeps any fitted pipeline loadable (skops
    # refuses custom transformers): its warnings, and MLflow's INFO chatter, held back (core/logging_setup.py).
    quiet_libraries()
    warnings.filterwarnings("ignore", message=".*pickle or cloudpickle format.*")
    # MLflow 3.17 on SQLAlchemy 2.1: a deprecation inside MLflow, nothing a user can act on.
    warnings.filterwarnings("ignore", message=".*``noload`` loader strategy is deprecated.*")
    return mlflow


def mlflow_module():
    """The mlflow package, imported on first use with telemetry and INFO logging switched off."""
    return _quiet_import()


def client():
    """A MlflowClient on this DATA_DIR's store (created, with MLflow's own schema, on first use)."""
    uri = tracking_uri()
    with _lock:
        found = _clients.get(uri)
        if found is None:
            mlflow = _quiet_import()
            if uri.startswith("sqlite:///"):
                Path(uri[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
            artifact_root().mkdir(parents=True, exist_ok=True)
            found = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
            _clients[uri] = found
        return found


def experiment_id(model_name: str) -> str:
    """The experiment holding a model's training runs ("workbench/<model>"), created on first use."""
    mlflow_client = client()
    name = EXPERIMENT_PREFIX + model_name
    with _lock:
        experiment = mlflow_client.get_experiment_by_name(name)
        if experiment is not None:
            return experiment.experiment_id
        location = artifact_root() / safe_name(model_name, "model name")
        location.mkdir(parents=True, exist_ok=True)
        return mlflow_client.create_experiment(name, artifact_location=location.as_uri())


def forget_clients() -> None:
    """Drop cached clients (tests that switch DATA_DIR)."""
    with _lock:
        _clients.clear()
