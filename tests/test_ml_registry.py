"""The MLflow registry on the test DATA_DIR: versions, aliases, promote/roll back, ownership, write-back."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from ml_fixtures import FAST_BUDGET_S, linear_table, text_model
from principals import as_admin, as_supplier, new_user

from core.auth import PermissionDenied
from core.tenancy import NotFoundOrDenied


@pytest.fixture(scope="module")
def fitted(workbench):
    from ml.modelling import fit_model

    return fit_model(linear_table(), "y", time_budget_s=FAST_BUDGET_S)


def _name() -> str:
    return f"m-{uuid.uuid4().hex[:8]}"


def test_versions_aliases_promote_and_roll_back(workbench, fitted):
    from ml import mlflow_store, registry
    from ml.modelling import predict

    supplier, name = as_supplier(), _name()
    first = registry.register_model(supplier, name, fitted, lineage={"kind": "file", "rows": 120,
                                                                      "fingerprint": "abc"},
                                    settings={"target": "y", "seed": 0})
    assert first["version"] == 1 and first["aliases"] == ["champion"]
    assert first["metrics"]["rmse"] == pytest.approx(fitted.metrics["rmse"])
    assert first["lineage"] == {"kind": "file", "rows": "120", "fingerprint": "abc"}
    second = registry.register_model(supplier, name, fitted)
    assert second["aliases"] == ["challenger"]

    listed = {m["name"]: m for m in registry.list_models(supplier)}[name]
    assert listed["aliases"] == {"champion": "1", "challenger": "2"}
    assert [v["version"] for v in listed["versions"]] == [2, 1]
    assert all("rmse" in v["metrics"] for v in listed["versions"])

    promoted = registry.promote(supplier, name, "challenger")
    assert promoted["champion"] == 2 and promoted["challenger"] is None and promoted["champion_history"] == [1]
    rolled = registry.rollback(supplier, name)
    assert rolled["champion"] == 1 and rolled["champion_history"] == []
    with pytest.raises(registry.RegistryError, match="no previous champion"):
        registry.rollback(supplier, name)

    loaded = registry.load_model(supplier, name, "v2")
    frame = linear_table(n=10, seed=5)
    np.testing.assert_allclose(predict(loaded, frame), predict(fitted, frame))
    assert registry.version_figures(supplier, name, 1).keys() == fitted.figures.keys()
    # What `mlflow ui --backend-store-uri` reads: one SQLite file and an artifact folder under DATA_DIR.
    store = Path(workbench.data_dir) / "mlflow"
    assert mlflow_store.tracking_uri() == f"sqlite:///{store / 'mlflow.db'}"
    assert (store / "mlflow.db").exists()
    run_dir = next((store / "artifacts" / name).glob(f"{first['run_id']}/artifacts"))
    assert (run_dir / "model" / "MLmodel").exists() and (run_dir / registry.FITTED_ARTIFACT).exists()
    assert {p.stem for p in (run_dir / "figures").glob("*.json")} == set(fitted.figures)


def test_other_suppliers_and_buyers_are_refused(workbench, fitted):
    from ml import registry

    owner, name = new_user("supplier"), _name()
    registry.register_model(owner, name, fitted)
    stranger, buyer = new_user("supplier"), new_user("buyer")

    assert name not in {m["name"] for m in registry.list_models(stranger)}
    for attempt in (lambda: registry.get_model(stranger, name), lambda: registry.load_model(stranger, name),
                    lambda: registry.promote(stranger, name, 1), lambda: registry.rollback(stranger, name),
                    lambda: registry.register_model(stranger, name, fitted)):
        with pytest.raises(NotFoundOrDenied):
            attempt()
    for attempt in (lambda: registry.list_models(buyer), lambda: registry.load_model(buyer, name),
                    lambda: registry.register_model(buyer, _name(), fitted)):
        with pytest.raises(PermissionDenied, match="supplier or admin"):
            attempt()
    admin_view = {m["name"]: m for m in registry.list_models(as_admin())}
    assert admin_view[name]["owner_id"] == owner.id


def test_bad_names_and_versions_are_clear_errors(workbench, fitted):
    from ml import registry

    supplier = as_supplier()
    with pytest.raises(registry.RegistryError, match="model name"):
        registry.register_model(supplier, "../escape", fitted)
    name = _name()
    registry.register_model(supplier, name, fitted)
    with pytest.raises(registry.RegistryError, match="no version 7"):
        registry.promote(supplier, name, 7)
    with pytest.raises(registry.RegistryError, match="not a version"):
        registry.load_model(supplier, name, "newest")


def test_train_job_registers_a_version(workbench):
    from core.store.jobs import run_foreground
    from ml import registry

    supplier, name = as_supplier(), _name()
    path = Path(workbench.data_dir) / f"{name}.csv"
    linear_table(n=60, seed=3).to_csv(path, index=False)
    outcome = run_foreground("train", {"source": str(path), "target": "y", "name": name,
                                       "time_budget_s": FAST_BUDGET_S}, supplier, echo=None)
    assert outcome["status"] == "succeeded", outcome["error"]
    assert outcome["result"]["version"] == 1 and outcome["result"]["metrics"]["rmse"] < 0.5
    version = registry.get_version(supplier, name)
    assert version["lineage"]["kind"] == "file" and version["settings"]["target"] == "y"
    refused = run_foreground("train", {"source": str(path), "target": "y", "name": name}, new_user("supplier"),
                             echo=None)
    assert refused["status"] == "failed" and "No model named" in refused["error"]


def test_predictions_land_in_the_raw_store_and_in_sql(workbench, raw_store):
    from refine_fixtures import dataset_with_run
    from sqlmodel import select

    from core.store.jobs import run_foreground
    from core.store.models import Item
    from core.store.sql import session_scope
    from ml import predict, registry

    supplier, name = as_supplier(), _name()
    dataset, _ = dataset_with_run(n=6)
    registry.register_model(supplier, name, text_model())
    outcome = run_foreground("predict", {"dataset": dataset["name"], "model": name}, supplier, echo=None)
    assert outcome["status"] == "succeeded", outcome["error"]
    assert outcome["result"]["rows"] == 6

    stored = raw_store.database("uploads")[predict.PREDICTIONS_COLLECTION].find({"model_name": name})
    documents = list(stored)
    assert len(documents) == 6
    assert {d["prediction"] for d in documents} == {"energy"}
    assert all(d["model_version"] == 1 and 0.5 < d["probability"] <= 1 for d in documents)
    raw_ids = {d["raw_id"] for d in documents}
    with session_scope() as session:
        item_raw_ids = set(session.exec(select(Item.raw_id).where(Item.dataset_id == dataset["id"])).all())
    assert raw_ids == item_raw_ids  # keyed by the scored documents' raw ids

    rows = predict.read_predictions(supplier, app="uploads", raw_ids=sorted(raw_ids), model_name=name)
    assert len(rows) == 6 and set(rows["prediction"]) == {"energy"} and set(rows["raw_id"]) == raw_ids
    # Scoring again with the same version replaces, not duplicates.
    predict.score_dataset(supplier, dataset["name"], name, 1)
    assert raw_store.database("uploads")[predict.PREDICTIONS_COLLECTION].count_documents({"model_name": name}) == 6
    assert len(predict.read_predictions(supplier, model_name=name, latest_only=False)) == 6

    assert predict.read_predictions(new_user("supplier"), model_name=name).empty
    with pytest.raises(PermissionDenied):
        predict.read_predictions(new_user("buyer"), model_name=name)
    with pytest.raises(NotFoundOrDenied):
        predict.score_dataset(new_user("supplier"), dataset["name"], name)
