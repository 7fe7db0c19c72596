"""Monitoring page: alerts, quality markers, a drift check run from the page, rules, logs, other suppliers."""

from __future__ import annotations

import uuid

from apptest_helpers import ROOT, assert_no_exception, button
from monitoring_fixtures import add_items, finish_planted_run, listing_rows, plant_job
from principals import new_user
from streamlit.testing.v1 import AppTest

from core.monitoring import logs, quality
from core.store import jobs


def _monitoring_as(principal) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.session_state["auth_user"] = principal.as_dict()
    at.run()
    at.switch_page("pages/monitoring.py")
    return at.run()


def _text(at: AppTest) -> str:
    parts = [str(e.value) for kind in ("markdown", "caption", "info", "warning", "error", "success")
             for e in getattr(at, kind)]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    return "\n".join(parts)


def test_monitoring_page_runs_a_drift_check_and_shows_the_alert_to_its_owner_only(workbench):
    owner, other = new_user("supplier"), new_user("supplier")
    name = f"monpage-{uuid.uuid4().hex[:8]}"
    dataset = add_items(owner, name, listing_rows(300, seed=31))
    finish_planted_run(dataset, kept_share=0.9, seed=31)
    add_items(owner, name, listing_rows(200, seed=32, area_scale=1.3))
    second_run = finish_planted_run(dataset, kept_share=0.3, seed=32)  # collapsing kept share: a change marker
    plant_job(owner, "refine", "failed", 2, params={"dataset": name}, error=f"planted failure in {name}")
    logs.collect_job_problems()

    at = _monitoring_as(owner)
    assert_no_exception(at)
    assert at.title[0].value == "Monitoring"
    text = _text(at)
    # The quality marker, the pipeline's failed job and its log entry.
    assert f"Run {second_run} · {quality.ALL_SOURCES}: kept share" in text and f"planted failure in {name}" in text
    assert any("refine" in frame.value.get("kind", []).tolist() for frame in at.dataframe if "failed" in frame.value)

    at.selectbox(key="mon_drift_dataset").select(name).run()
    button(at, "Run drift check").click().run()
    job = jobs.wait_for(at.session_state["mon_drift_job"], timeout_s=60)
    assert job["status"] == "succeeded", job["error"]
    assert "area" in job["result"]["drifted"]
    button(at, "Check alerts now").click().run()
    assert_no_exception(at)
    alerts_shown = [e.value for e in at.error if "**Alert**" in str(e.value)]
    assert any("area" in a and name in a for a in alerts_shown), alerts_shown
    assert any("area" in str(m.value) for m in at.markdown)  # the drifted column with its readable effect

    # A bad threshold is refused with a message, and nothing is saved.
    at.selectbox(key="mon_rule_metric").select("kept_share_below").run()
    at.number_input(key="mon_rule_threshold").set_value(5.0)
    at.button(key="FormSubmitter:mon_rule_form-Save rule").click().run()
    assert any("from 0 to 1" in str(e.value) for e in at.error)

    intruder = _monitoring_as(other)
    assert_no_exception(intruder)
    assert name not in _text(intruder)
    assert not [e for e in intruder.error if "**Alert**" in str(e.value) and name in str(e.value)]


def test_overview_shows_open_alerts(workbench):
    owner = new_user("supplier")
    plant_job(owner, "scrape", "failed", 1, error="down")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["auth_user"] = owner.as_dict()
    at.run()
    assert_no_exception(at)
    assert any("100% of 1 finished job(s) failed" in str(e.value) for e in at.error)
