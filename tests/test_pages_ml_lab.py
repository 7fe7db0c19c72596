"""ML Lab page: train from a dataset with progress, see versions, promote and roll back, score a dataset."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from apptest_helpers import ROOT, assert_no_exception, button, page_app
from ml_fixtures import FAST_BUDGET_S
from principals import as_supplier, new_user
from streamlit.testing.v1 import AppTest

from core.store import jobs


def _tabular_dataset(n: int = 60) -> str:
    """A supplier's dataset whose kept items carry x1, colour and y = 2 x1 (+1 when red) as fields."""
    from core.refine import runs
    from core.sources.ingest import ensure_dataset, items_from_documents
    from core.store.raw import content_hash

    name = f"mll-{uuid.uuid4().hex[:8]}"
    dataset = ensure_dataset(as_supplier(), name, "uploads", license="CC-BY-4.0", origin="university",
                             attested=True)
    rng = np.random.default_rng(0)
    x1 = rng.normal(size=n)
    colour = rng.choice(["red", "blue"], n)
    y = 2 * x1 + np.where(colour == "red", 1.0, 0.0) + rng.normal(scale=0.05, size=n)
    now = datetime.now(UTC)
    docs = [{"_id": uuid.uuid4().hex[:24], "source_id": f"upload:{name}", "url": f"upload://{name}/f.jsonl#{i}",
             "fetched_at": now, "content_hash": content_hash(f"{name}{i}"),
             "raw_content": json.dumps({"text": f"measurement {i}", "x1": float(x1[i]), "colour": str(colour[i]),
                                        "y": float(y[i])}),
             "metadata": {"format": "jsonl"}} for i in range(n)]
    items_from_documents("uploads", dataset["id"], docs)
    items = runs.load_items(dataset["id"])
    signals = pd.DataFrame({"id": items["id"], "quality": 0.9, "language": "en", "duplicate_cluster": items["id"],
                            "pii_count": 0, "topic_label": "measurements"})
    decisions = pd.DataFrame({"id": items["id"], "kept": True, "drop_reason": ""})
    run_id = runs.start_run(dataset["id"], {"rules": []}, "mllab0000000", None, None)
    runs.finish_run(run_id, name, items, signals, decisions, [], {"total_s": 0.1}, items["text"])
    return name


def _train(at: AppTest, dataset: str) -> dict:
    at.radio(key="mll_data_kind").set_value("Dataset").run()
    at.selectbox(key="mll_dataset").select(dataset).run()
    assert_no_exception(at)
    assert "y" in at.selectbox(key="mll_target").options and "x1" in at.selectbox(key="mll_target").options
    at.selectbox(key="mll_target").select("y").run()
    at.number_input(key="mll_budget").set_value(FAST_BUDGET_S).run()
    button(at, "Train").click().run()
    assert_no_exception(at)
    job = jobs.wait_for(at.session_state["mll_train_job"], timeout_s=180)
    assert job["status"] == "succeeded", job["error"]
    at.run()
    assert_no_exception(at)
    return job["result"]


def _confirm(at: AppTest, label: str) -> None:
    button(at, label).click().run()
    assert any("?" in w.value for w in at.warning), [w.value for w in at.warning]
    button(at, "Confirm").click().run()
    assert_no_exception(at)


@pytest.fixture(scope="module")
def dataset(workbench):
    return _tabular_dataset()


def test_train_compare_promote_roll_back_and_predict(dataset):
    from ml import registry

    at = page_app("ml_lab.py", role="supplier", timeout=180)
    assert_no_exception(at)
    first = _train(at, dataset)
    name = first["model"]
    assert name == f"{dataset}-y" and first["version"] == 1 and "rmse" in first["metrics"]
    second = _train(at, dataset)
    assert second["version"] == 2 and second["aliases"] == ["challenger"]

    # The versions table shows both versions with their metrics and lineage back to the run.
    table = next(frame.value for frame in at.dataframe if "model" in frame.value.columns)
    rows = table[table["model"] == name]
    assert sorted(rows["version"]) == [1, 2] and rows["rmse"].notna().all()
    assert set(rows["trained on"]) == {f"dataset:{dataset}"} and rows["run"].astype(str).str.len().min() > 0

    at.selectbox(key="mll_model").select(name).run()
    assert_no_exception(at)
    at.multiselect(key=f"mll_compare_{name}").set_value([2, 1]).run()
    assert_no_exception(at)
    metrics = next(frame.value for frame in at.dataframe if list(frame.value.columns) == ["v2", "v1"])
    assert "rmse" in metrics.index
    assert len(at.get("plotly_chart")) >= 2  # the stored figures of both versions, side by side

    at.selectbox(key=f"mll_alias_version_{name}").select(2).run()
    _confirm(at, "Promote to champion")
    assert registry.get_model(as_supplier(), name)["champion"] == 2
    _confirm(at, "Roll back champion")
    model = registry.get_model(as_supplier(), name)
    assert model["champion"] == 1 and model["challenger"] == 2
    assert any("Rollback" in s.value for s in at.success)

    at.selectbox(key="mll_pred_model").select(name).run()
    at.selectbox(key="mll_pred_dataset").select(dataset).run()
    button(at, "Run predictions").click().run()
    job = jobs.wait_for(at.session_state["mll_pred_job"], timeout_s=120)
    assert job["status"] == "succeeded", job["error"]
    at.run()
    assert_no_exception(at)
    sample = next(frame.value for frame in at.dataframe if "prediction" in frame.value.columns)
    assert len(sample) == 20 and sample["prediction"].notna().all() and (sample["model_version"] == 1).all()


def test_watch_and_unwatch_a_dataset(dataset):
    from ml import continuous
    from ml.jobs import train_and_register

    name = f"watch-{uuid.uuid4().hex[:6]}"
    train_and_register(as_supplier(), f"dataset:{dataset}", "y", name, time_budget_s=FAST_BUDGET_S)
    at = page_app("ml_lab.py", role="supplier", timeout=120)
    at.selectbox(key="mll_watch_model").select(name).run()
    at.selectbox(key="mll_watch_dataset").select(dataset).run()
    button(at, "Watch").click().run()
    assert_no_exception(at)
    watch = next(w for w in continuous.list_watches(as_supplier()) if w["model_name"] == name)
    assert watch["source"] == f"dataset:{dataset}" and watch["target"] == "y"
    at.run()
    assert name in next(f.value for f in at.dataframe if "last decision" in f.value.columns)["model"].tolist()
    button(at, "Unwatch").click().run()
    assert_no_exception(at)
    assert all(w["model_name"] != name for w in continuous.list_watches(as_supplier()))


@pytest.mark.parametrize("role", ["buyer", None])
def test_buyers_and_signed_out_visitors_are_refused(workbench, role):
    at = AppTest.from_file(str(ROOT / "pages" / "ml_lab.py"), default_timeout=60)
    if role:
        at.session_state["auth_user"] = new_user(role).as_dict()
    at.run()
    assert not at.exception
    assert not at.dataframe and not at.button
    expected = "signed in as a buyer" if role else "Sign in to use this page"
    assert expected in " ".join(w.value for w in at.warning)
