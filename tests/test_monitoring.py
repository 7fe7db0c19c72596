"""Monitoring library: quality markers, pipeline figures, bounded logs and samples, alerts, drift, feedback."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from monitoring_fixtures import add_items, finish_planted_run, listing_rows, plant_job
from principals import as_admin, new_user
from sqlmodel import select

from core.config import get_settings
from core.monitoring import accuracy, alerts, drift, feedback, logs, pipeline, quality, resources, tick
from core.store.models import Feedback, Item, Prediction
from core.store.models_monitoring import ResourceSample
from core.store.sql import session_scope
from core.tenancy import NotFoundOrDenied


@pytest.fixture(scope="module")
def people(workbench):
    return {"owner": new_user("supplier"), "other": new_user("supplier")}


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# -- data quality over time ---------------------------------------------------------------------
def test_a_clear_drop_in_kept_share_is_marked_and_noise_is_not(people):
    owner = people["owner"]
    name = _name("quality")
    dataset = add_items(owner, name, listing_rows(150, seed=1), source="feed-a")
    add_items(owner, name, listing_rows(150, seed=2), source="feed-b")
    for seed in (1, 2, 3):
        finish_planted_run(dataset, kept_share=0.8, seed=seed)
    finish_planted_run(dataset, kept_share=0.4, seed=4)
    table = quality.quality_over_time(owner, name)["runs"]
    overall = table[table["source"] == quality.ALL_SOURCES].sort_values("run_id")
    assert [bool(c) for c in overall["changes"]] == [False, False, False, True]
    marker = overall["changes"].iat[-1][0]
    shown_now = round(overall["kept_share"].iat[-1] * 100)
    assert marker.startswith("kept share 8") and f"-> {shown_now}%" in marker and "previous 3 runs" in marker
    assert overall["kept_share"].iat[-1] == pytest.approx(0.4, abs=0.07)
    per_source = table[table["source"] == "feed-a"].sort_values("run_id")
    assert list(per_source["items"]) == [150] * 4 and per_source["changes"].iat[-1][0].startswith("kept share")
    reasons = quality.quality_over_time(owner, name)["reasons"]
    assert set(reasons["reason"]) == {"min_quality"}
    with pytest.raises(NotFoundOrDenied):
        quality.quality_over_time(people["other"], name)


def test_change_thresholds_known_answers():
    assert quality.rate_changed_clearly(0.40, 300, 0.80, 900)
    assert not quality.rate_changed_clearly(0.76, 300, 0.80, 900)  # 4 points: below the floor
    assert not quality.rate_changed_clearly(0.60, 10, 0.80, 30)  # 20 points on 10 items: noise
    assert quality.mean_changed_clearly(0.5, 0.01, 200, 0.7, 0.01, 600)
    assert not quality.mean_changed_clearly(0.68, 0.01, 200, 0.7, 0.01, 600)


# -- pipelines ----------------------------------------------------------------------------------
def test_pipeline_figures_match_planted_jobs(workbench):
    owner = new_user("supplier")
    for seconds, documents in ((10, 100), (20, 200), (30, 300)):
        plant_job(owner, "refine", "succeeded", seconds, params={"dataset": "a"}, result={"input": documents})
    plant_job(owner, "refine", "failed", 5, params={"dataset": "b"}, error="boom")
    plant_job(owner, "refine", "succeeded", 40, params={"dataset": "b"}, result={"input": 400})  # the retry
    plant_job(owner, "scrape", "succeeded", 40, params={"sources": ["s1", "s2"]},
              result={"pages": 40, "sources": {"s1": {"pages": 30}, "s2": {"pages": 10}}})
    stats = pipeline.pipeline_stats(owner)
    refine = stats["by_kind"].set_index("kind").loc["refine"]
    assert (refine["jobs"], refine["failed"], refine["retries"]) == (5, 1, 1)
    assert refine["failure_rate"] == pytest.approx(0.2)
    assert refine["median_s"] == pytest.approx(20) and refine["max_s"] == pytest.approx(40)
    assert refine["documents"] == 1000 and refine["docs_per_s"] == pytest.approx(1000 / 100)
    by_source = stats["by_source"].set_index(["kind", "source"])
    assert by_source.loc[("scrape", "s1"), "documents"] == 30
    assert by_source.loc[("scrape", "s1"), "docs_per_s"] == pytest.approx(1.0)
    assert by_source.loc[("refine", "dataset:b"), "retries"] == 1
    assert pipeline.pipeline_stats(new_user("supplier"))["by_kind"].empty  # nobody else's jobs


# -- logs ---------------------------------------------------------------------------------------
def test_logs_collection_stays_bounded(workbench):
    marker = uuid.uuid4().hex
    logs.write_logs([{"key": f"test:{marker}:{i}", "ts": datetime.now(UTC), "level": "WARNING", "level_no": 30,
                      "origin": "test", "message": f"{marker} entry {i}", "owner_id": None} for i in range(40)])
    collection = logs.logs_collection()
    total = collection.count_documents({})
    assert logs.prune_logs(max_entries=total - 1) == 0  # within the 5% slack: nothing to do yet
    logs.prune_logs(max_entries=25)
    assert collection.count_documents({}) == 25
    left = sorted(int(d["message"].split()[-1]) for d in collection.find({"message": {"$regex": marker}}))
    assert left == list(range(40 - len(left), 40))  # the newest stayed


def test_handler_and_job_problems_are_scoped_to_their_owner(people, monkeypatch):
    owner, other = people["owner"], people["other"]
    monkeypatch.setattr(get_settings(), "monitoring_log_max_entries", 10_000)
    handler = logs.install_log_handler()
    try:
        marker = uuid.uuid4().hex
        with logs.bound_to(owner.id, job_id=None):
            logging.getLogger("core.somewhere").warning("disk nearly full %s", marker)
        logging.getLogger("core.elsewhere").error("system trouble %s", marker)
    finally:
        logs.remove_log_handler()
    assert handler is not None
    mine = logs.search_logs(owner, text=marker)
    assert list(mine["message"]) == [f"disk nearly full {marker}"]
    assert logs.search_logs(other, text=marker).empty
    assert len(logs.search_logs(as_admin(), text=marker)) == 2
    assert len(logs.search_logs(as_admin(), text=marker, level="ERROR")) == 1

    failed = plant_job(owner, "scrape", "failed", 3, error=f"ConnectionError: host down {marker}",
                       log=f"10:00:01 error https://x.example/ {marker}: timeout\n10:00:02 s: 3 pages, 0 errors")
    logs.collect_job_problems()
    found = logs.search_logs(owner, text=marker)
    assert any(f"job {failed} failed" in m for m in found["message"])
    assert any("timeout" in m for m in found["message"]) and not any("0 errors" in m for m in found["message"])
    assert logs.search_logs(other, text=marker).empty
    logs.collect_job_problems()  # idempotent
    assert len(logs.search_logs(owner, text=marker)) == len(found)


# -- resources ----------------------------------------------------------------------------------
def test_resource_samples_stay_in_a_bounded_window(workbench, monkeypatch):
    settings = get_settings()
    monkeypatch.setattr(settings, "monitoring_max_samples", 10)
    sample = resources.take_sample()
    assert 0 <= sample["disk_percent"] <= 100 and sample["process_rss_mb"] > 0 and sample["sql_mb"] > 0
    old = {**sample, "taken_at": datetime.now(UTC) - timedelta(hours=settings.monitoring_keep_hours + 1)}
    resources.record_sample(old)
    for _ in range(14):
        resources.record_sample(dict(sample))
    with session_scope() as session:
        stored = session.exec(select(ResourceSample)).all()
        assert len(stored) == 10
        assert min(r.taken_at.replace(tzinfo=UTC) if r.taken_at.tzinfo is None else r.taken_at for r in stored) > \
            old["taken_at"]
    assert resources.sample_if_due() is None  # the last sample is fresh
    assert len(resources.resource_history(new_user("supplier"))) == 10


def test_tick_does_every_part_and_skips_when_not_due(workbench, monkeypatch):
    monkeypatch.setattr(tick, "_last_run", 0.0)
    done = tick.run_once()
    assert set(done) == {"sample", "job_problems", "alerts"} and done["alerts"] is not None
    tick.run_due()
    assert tick.run_due() == [] and tick._last_run > 0


# -- alerts -------------------------------------------------------------------------------------
def test_alert_rules_open_and_resolve_alerts_for_their_owner_only(people):
    owner, other = people["owner"], people["other"]
    name = _name("alerts")
    dataset = add_items(owner, name, listing_rows(120, seed=5))
    finish_planted_run(dataset, kept_share=0.4, seed=5)
    assert not [a for a in alerts.evaluate_alerts(owner) if name in a["message"]]  # default: below 0.3
    rule = alerts.save_rule(owner, "kept_share_below", 0.6, dataset=name)
    raised = [a for a in alerts.evaluate_alerts(owner) if a["rule_id"] == rule["id"]]
    assert len(raised) == 1 and name in raised[0]["message"] and raised[0]["value"] < 0.6
    assert not [a for a in alerts.evaluate_alerts(other) if a["rule_id"] == rule["id"]]
    assert [a for a in alerts.open_alerts(as_admin()) if a["rule_id"] == rule["id"]]
    with pytest.raises(NotFoundOrDenied):
        alerts.save_rule(other, "kept_share_below", 0.9, rule_id=rule["id"])
    with pytest.raises(NotFoundOrDenied):
        alerts.save_rule(other, "kept_share_below", 0.9, dataset=name)
    with pytest.raises(alerts.AlertRuleError, match="from 0 to 1"):
        alerts.save_rule(owner, "kept_share_below", 7)
    with pytest.raises(alerts.AlertRuleError, match="not about one dataset"):
        alerts.save_rule(owner, "disk_percent_above", 50, dataset=name)
    alerts.save_rule(owner, "kept_share_below", 0.2, dataset=name, rule_id=rule["id"])
    assert not [a for a in alerts.evaluate_alerts(owner) if a["rule_id"] == rule["id"]]
    history = [a for a in alerts.open_alerts(owner, include_resolved=True) if a["rule_id"] == rule["id"]]
    assert [a["status"] for a in history] == ["resolved"]
    alerts.delete_rule(owner, rule["id"])


def test_failure_rate_and_disk_rules(workbench):
    owner = new_user("supplier")
    plant_job(owner, "refine", "failed", 1, error="x")
    plant_job(owner, "refine", "succeeded", 1)
    alerts.save_rule(owner, "job_failure_rate_above", 0.4)
    alerts.save_rule(owner, "disk_percent_above", 0)
    resources.record_sample()
    messages = " ".join(a["message"] for a in alerts.evaluate_alerts(owner))
    assert "50% of 2 finished job(s) failed" in messages and "disk of the data directory" in messages


# -- drift --------------------------------------------------------------------------------------
def test_drift_between_runs_finds_a_planted_shift_and_raises_an_alert(people):
    owner, other = people["owner"], people["other"]
    name = _name("drift")
    dataset = add_items(owner, name, listing_rows(400, seed=7))
    finish_planted_run(dataset, kept_share=1.0, seed=7)
    add_items(owner, name, listing_rows(300, seed=8, area_scale=1.3))  # the new batch: flats 30% larger
    finish_planted_run(dataset, kept_share=1.0, seed=8)
    report = drift.compare_runs(owner, name)
    assert "area" in report["drifted"] and "rooms" not in report["drifted"] and "city" not in report["drifted"]
    assert report["current"].startswith("300 items new in run")
    table = drift.drifted_table(drift.report_detail(owner, report["id"]))
    assert table.iloc[0]["column"] in ("area", "value") and table.iloc[0]["effect"]
    raised = [a for a in alerts.evaluate_alerts(owner) if a["metric"] == "drift_columns_at_least"]
    assert raised and "area" in raised[0]["message"] and name in raised[0]["message"]
    assert report["id"] not in set(drift.list_reports(other)["report_id"])
    with pytest.raises(NotFoundOrDenied):
        drift.report_detail(other, report["id"])
    with pytest.raises(NotFoundOrDenied):
        drift.compare_runs(other, name)


def test_same_data_twice_shows_no_drift(people):
    owner = people["owner"]
    name = _name("nodrift")
    dataset = add_items(owner, name, listing_rows(300, seed=11))
    finish_planted_run(dataset, kept_share=1.0, seed=1)
    add_items(owner, name, listing_rows(300, seed=12))
    finish_planted_run(dataset, kept_share=1.0, seed=2)
    assert drift.compare_runs(owner, name)["drifted"] == []
    with pytest.raises(drift.DriftCheckError, match="two finished refinement runs"):
        lonely = _name("lonely")
        finish_planted_run(add_items(owner, lonely, listing_rows(20, seed=1)), kept_share=1.0)
        drift.compare_runs(owner, lonely)


# -- feedback and accuracy ----------------------------------------------------------------------
def test_feedback_shows_who_labelled_and_how_decisions_changed(people):
    owner, other = people["owner"], people["other"]
    name = _name("feedback")
    dataset = add_items(owner, name, listing_rows(30, seed=3))
    finish_planted_run(dataset, kept_share=0.0, seed=3, created_at=datetime.now(UTC) - timedelta(hours=2))
    with session_scope() as session:
        item = session.exec(select(Item).where(Item.dataset_id == dataset["id"])).first()
        item_id, raw_id, app = item.id, item.raw_id, item.source_app
        session.add(Feedback(app=app, raw_id=raw_id, label="good", user_id=owner.id,
                             created_at=datetime.now(UTC) - timedelta(hours=1)))
    finish_planted_run(dataset, kept_share=1.0, seed=4)  # after the label: now kept
    summary = feedback.feedback_summary(owner, name)
    row = summary["labels"].set_index("item_id").loc[item_id]
    assert (row["before"], row["after"], row["change"], row["agrees"]) == ("dropped", "kept", "dropped -> kept", True)
    assert summary["by_person"].iloc[0]["by"] == owner.display_name and summary["agreement"] == 1.0
    assert feedback.feedback_table(other, name).empty


def test_accuracy_per_version_from_feedback_labels(people):
    owner, other = people["owner"], people["other"]
    name = _name("accuracy")
    dataset = add_items(owner, name, listing_rows(4, seed=9))
    model = _name("quality-model")
    with session_scope() as session:
        items = session.exec(select(Item).where(Item.dataset_id == dataset["id"]).order_by(Item.id)).all()
        for item, predicted, truth in zip(items, ["good", "good", "bad", "bad"], ["good", "bad", "bad", "bad"],
                                          strict=True):
            session.add(Prediction(item_id=item.id, raw_id=item.raw_id, app=item.source_app, model_name=model,
                                   model_version=1, prediction=predicted))
            session.add(Feedback(app=item.source_app, raw_id=item.raw_id, label=truth, user_id=owner.id))
    scores = accuracy.accuracy_over_time(owner, model)
    assert list(scores["labelled"]) == [4] and scores["accuracy"].iat[0] == pytest.approx(0.75)
    assert scores["label_source"].iat[0] == "feedback"
    assert accuracy.accuracy_over_time(other, model).empty


def test_model_drift_triggers_the_ml_labs_retraining_of_a_watched_model(people):
    from ml_fixtures import FAST_BUDGET_S

    from core.store.jobs import wait_for
    from ml import continuous
    from ml.jobs import train_and_register

    owner = people["owner"]
    name, model = _name("modeldrift"), _name("value-model")
    dataset = add_items(owner, name, listing_rows(300, seed=21))
    finish_planted_run(dataset, kept_share=1.0, seed=21)
    train_and_register(owner, f"dataset:{name}", "value", model, time_budget_s=FAST_BUDGET_S, refit_full=False)
    continuous.watch(owner, model, time_budget_s=FAST_BUDGET_S)
    quiet = drift.compare_model(owner, model, name, retrain_above=0.3)
    assert quiet["inputs"]["drifted"] == [] and quiet["retrain"]["retrain"] is False

    # The new items are bigger flats: more rooms, so the model's inputs and its predicted prices move.
    shifted = [{**row, "rooms": row["rooms"] + 3} for row in listing_rows(300, seed=22)]
    add_items(owner, name, shifted)
    finish_planted_run(dataset, kept_share=1.0, seed=22)
    out = drift.compare_model(owner, model, name, retrain_above=0.3)
    assert "rooms" in out["inputs"]["drifted"], out["inputs"]["report"]["summary"]
    assert out["retrain"]["retrain"] is True and "input columns drifted" in out["retrain"]["reason"]
    job = wait_for(out["retrain"]["job_id"], timeout_s=120)
    assert job["status"] == "succeeded", job["error"]
    assert [d["model"] for d in job["result"]["decisions"]] == [model]
    assert drift.list_reports(owner).set_index("report_id").at[out["inputs"]["id"], "retrain_job"] == job["id"]
    with pytest.raises(NotFoundOrDenied):
        drift.compare_model(people["other"], model, name)
