"""Content workflows (topic brief, run report) as jobs, the refinement-run filter, and saved schedules."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from principals import as_supplier, new_user
from refine_fixtures import dataset_with_run, ingest_texts
from sqlmodel import select
from test_news_analysis import _demo_articles

from core.apps.news.digest import list_digests, review_digest
from core.apps.news.schedules import (
    delete_schedule,
    list_schedules,
    run_due_schedules,
    save_schedule,
    set_schedule_enabled,
)
from core.apps.news.service import analysed_articles, analyze_dataset, dataset_runs
from core.apps.news.workflows import run_report, topic_brief
from core.auth import PermissionDenied
from core.store import jobs
from core.store.models import RefinementRecord
from core.store.sql import session_scope


@pytest.fixture(scope="module")
def news(workbench):
    name = f"wf-{uuid.uuid4().hex[:8]}"
    texts = _demo_articles("en")[:8]
    texts.append("City tram news: write to jane.doe@example.org. The city tram network grows. Trams run late.")
    ingest_texts(name, texts)
    analyze_dataset(as_supplier(), name)
    return name


@pytest.fixture(scope="module")
def run_dataset(workbench):
    dataset, run_id = dataset_with_run(n=12)
    analyze_dataset(as_supplier(), dataset["name"])
    return dataset["name"], run_id


def test_topic_brief_job_is_stored_pii_checked_and_reviewable(news):
    topic = analysed_articles(as_supplier(), news)[0]["topic"]
    outcome = jobs.run_foreground("news_generate", {"workflow": "topic", "dataset": news, "topic": topic},
                                  as_supplier(), echo=None)
    assert outcome["status"] == "succeeded", outcome["error"]
    brief = list_digests(as_supplier(), news, workflow="topic")[0]
    assert brief["id"] == outcome["result"]["output_id"] and brief["generator"] == "topic-brief-template-v1"
    assert brief["markdown"].startswith("# Topic brief") and "## Key points" in brief["markdown"]
    assert brief["inputs"]["topic"] == topic and brief["inputs"]["analysis_ids"]
    assert "jane.doe@example.org" not in brief["markdown"]
    assert review_digest(as_supplier(), brief["id"], "rejected")["status"] == "rejected"
    with pytest.raises(ValueError):
        topic_brief(as_supplier(), news, "")


def test_run_filter_keeps_only_the_runs_kept_items(run_dataset):
    name, run_id = run_dataset
    with session_scope() as session:
        kept = {r.item_id for r in session.exec(select(RefinementRecord).where(RefinementRecord.run_id == run_id))
                if r.kept}
    everything = analysed_articles(as_supplier(), name)
    of_run = analysed_articles(as_supplier(), name, run_id=run_id)
    assert 0 < len(of_run) < len(everything) == 12
    assert {r["item_id"] for r in of_run} == kept
    assert [r["run_id"] for r in dataset_runs(as_supplier(), name)] == [run_id]
    stranger = new_user("supplier")
    with pytest.raises(PermissionDenied):
        analysed_articles(stranger, run_id=run_id)
    with pytest.raises(PermissionDenied):
        run_report(stranger, run_id)


def test_run_report_names_the_funnel_and_the_kept_articles(run_dataset):
    name, run_id = run_dataset
    outcome = jobs.run_foreground("news_generate", {"workflow": "run", "run_id": run_id}, as_supplier(), echo=None)
    assert outcome["status"] == "succeeded", outcome["error"]
    report = list_digests(as_supplier(), name, workflow="run")[0]
    assert report["markdown"].startswith(f"# Refinement run report: run {run_id}")
    assert "| kept |" in report["markdown"] and "min\\_quality" in report["markdown"]
    assert report["inputs"]["run_id"] == run_id and report["inputs"]["analysis_ids"]


def test_schedules_run_due_workflows_as_their_owner_once(news):
    owner = as_supplier()
    past = datetime.now(UTC) - timedelta(minutes=1)
    schedule = save_schedule(owner, news, "daily", 24, {"analyse_first": False}, first_run_at=past)
    assert [s["id"] for s in list_schedules(owner, news)][0] == schedule["id"]
    submitted = []

    def foreground(kind, params, principal):
        outcome = jobs.run_foreground(kind, params, principal, echo=None)
        submitted.append(outcome)
        return outcome["job_id"]

    now = datetime.now(UTC)
    started = run_due_schedules(now, submit=foreground)
    mine = [o for o in submitted if o["result"].get("workflow") == "daily"]
    assert len(started) >= 1 and mine and mine[0]["status"] == "succeeded"
    assert run_due_schedules(now, submit=foreground) == [], "a claimed slot does not run twice"
    stored = next(s for s in list_schedules(owner, news) if s["id"] == schedule["id"])
    assert stored["last_job_id"] in started and stored["next_run_at"] > now
    stranger = new_user("supplier")
    with pytest.raises(PermissionDenied):
        set_schedule_enabled(stranger, schedule["id"], False)
    with pytest.raises(PermissionDenied):
        save_schedule(stranger, news, "daily", 24)
    with pytest.raises(ValueError):
        save_schedule(owner, news, "topic", 24, {})
    set_schedule_enabled(owner, schedule["id"], False)
    delete_schedule(owner, schedule["id"])
    assert schedule["id"] not in [s["id"] for s in list_schedules(owner, news)]
