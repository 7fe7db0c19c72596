"""Continuous training: a new data version retrains; the new model is promoted only when it is better."""

from __future__ import annotations

import uuid

import pytest
from ml_fixtures import FAST_BUDGET_S, class_table, linear_table
from principals import as_supplier, new_user

from core.tenancy import NotFoundOrDenied


def _name() -> str:
    return f"watched-{uuid.uuid4().hex[:8]}"


def test_better_model_is_promoted_and_unchanged_data_is_not_retrained(workbench, tmp_path):
    from core import audit
    from ml import continuous, registry
    from ml.jobs import train_and_register

    supplier, name = as_supplier(), _name()
    path = tmp_path / "labels.csv"
    class_table(n=160, seed=0, signal="x1").to_csv(path, index=False)
    train_and_register(supplier, str(path), "label", name, time_budget_s=FAST_BUDGET_S, refit_full=False)
    watch = continuous.watch(supplier, name)  # source and target from the champion's settings
    assert watch["source"] == str(path) and watch["target"] == "label"
    assert all(d["model"] != name for d in continuous.check_watched(supplier))  # no new data yet

    # The world changed: the label now follows x2. The champion (x1) is a coin toss on it, a retrain is not.
    class_table(n=160, seed=1, signal="x2").to_csv(path, index=False)
    decision = next(d for d in continuous.check_watched(supplier) if d["model"] == name)
    assert decision["decision"] == "promoted", decision
    assert decision["new_score"] > 0.9 and decision["champion_score"] < 0.75
    assert decision["holdout_rows"] == 32 and "same 32 held-out rows" in decision["reason"]

    model = registry.get_model(supplier, name)
    assert model["champion"] == 2 and model["champion_history"] == [1]
    version = registry.get_version(supplier, name, 2)
    assert version["decision"] == "promoted" and version["decision_reason"] == decision["reason"]
    assert any(e["target"] == f"model:{name}" and e["detail"]["decision"] == "promoted"
               for e in audit.recent(20, action="ml.retrain"))
    # The same data again: nothing to do.
    assert all(d["model"] != name for d in continuous.check_watched(supplier))


def test_worse_model_leaves_the_champion_in_place(workbench, tmp_path):
    from ml import continuous, registry
    from ml.jobs import train_and_register

    supplier, name = as_supplier(), _name()
    path = tmp_path / "prices.csv"
    linear_table(n=300, seed=0, noise_columns=20).to_csv(path, index=False)
    train_and_register(supplier, str(path), "y", name, time_budget_s=FAST_BUDGET_S, refit_full=False)
    continuous.watch(supplier, name, str(path), "y", time_budget_s=FAST_BUDGET_S, holdout_fraction=0.5)

    # Same relation, but only 40 rows for 22 features: the retrain cannot match a champion fitted on 300.
    linear_table(n=40, seed=7, noise_columns=20).to_csv(path, index=False)
    decision = next(d for d in continuous.check_watched(supplier) if d["model"] == name)
    assert decision["decision"] == "kept champion", decision
    assert decision["new_score"] > decision["champion_score"]  # RMSE: the newcomer's is larger
    model = registry.get_model(supplier, name)
    assert model["champion"] == 1 and model["challenger"] == 2
    assert registry.get_version(supplier, name, 2)["decision"] == "kept champion"
    assert continuous.list_watches(supplier)[-1]["last_decision"]["decision"] in ("kept champion", "promoted")


def test_watches_belong_to_their_owner(workbench, tmp_path):
    from ml import continuous, registry

    owner, name = new_user("supplier"), _name()
    from ml_fixtures import text_model

    registry.register_model(owner, name, text_model())
    path = tmp_path / "d.csv"
    class_table(n=30).to_csv(path, index=False)
    continuous.watch(owner, name, str(path), "label")
    stranger = new_user("supplier")
    assert all(w["model_name"] != name for w in continuous.list_watches(stranger))
    with pytest.raises(NotFoundOrDenied):
        continuous.watch(stranger, name, str(path), "label")
    with pytest.raises(NotFoundOrDenied):
        continuous.unwatch(stranger, name)
    continuous.unwatch(owner, name)
    assert all(w["model_name"] != name for w in continuous.list_watches(owner))


def test_a_new_refinement_run_is_a_new_data_version(workbench):
    from refine_fixtures import dataset_with_run

    from core.refine import jobs as refine_jobs
    from ml import continuous

    supplier = as_supplier()
    dataset, run_id = dataset_with_run(n=4)
    assert continuous.current_marker(supplier, f"dataset:{dataset['name']}") == f"run:{run_id}"
    with pytest.raises(NotFoundOrDenied):
        continuous.current_marker(new_user("supplier"), f"dataset:{dataset['name']}")
    assert not refine_jobs._watched(dataset["name"])


def test_a_refine_job_on_a_watched_dataset_submits_a_retrain(workbench):
    from refine_fixtures import dataset_with_run
    from sqlmodel import select

    from core.store import jobs
    from core.store.models import Job, ModelWatch
    from core.store.sql import session_scope
    from ml import continuous

    supplier = as_supplier()
    dataset, run_id = dataset_with_run(n=4)
    with session_scope() as session:  # a watch as continuous.watch stores it (no model needed for the hook)
        session.add(ModelWatch(model_name=_name(), source=f"dataset:{dataset['name']}", dataset_name=dataset["name"],
                               target="no_such_column", last_marker=f"run:{run_id}", created_by=supplier.id))
    outcome = jobs.run_foreground("refine", {"dataset": dataset["name"]}, supplier, echo=None)
    assert outcome["status"] == "succeeded", outcome["error"]
    with session_scope() as session:
        retrain = session.exec(select(Job).where(Job.kind == "retrain").order_by(Job.id.desc())).first()
        assert retrain.created_by == supplier.id and retrain.params == {"dataset": dataset["name"]}
    finished = jobs.wait_for(retrain.id, timeout_s=60)
    assert finished["status"] == "succeeded", finished["error"]
    # The new run was seen and tried; the failure (a target that is not there) is recorded, not raised.
    watch = next(w for w in continuous.list_watches(supplier) if w["dataset_name"] == dataset["name"])
    assert watch["last_marker"] == f"run:{outcome['result']['run_id']}"
    assert watch["last_decision"]["decision"] == "failed" and "no_such_column" in watch["last_decision"]["reason"]
