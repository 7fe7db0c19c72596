"""The Privacy (GDPR) page: search, export, erase with a confirmation, and the report."""

from __future__ import annotations

from pathlib import Path

from apptest_helpers import assert_no_exception, button, text_input
from principals import new_user
from privacy_fixtures import EMAIL, plant_person
from streamlit.testing.v1 import AppTest

from core.store import jobs

ROOT = Path(__file__).resolve().parent.parent


def privacy_page(principal) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["auth_user"] = principal.as_dict()
    at.run()
    at.switch_page("pages/privacy.py")
    return at.run()


def search(at: AppTest, email: str) -> AppTest:
    text_input(at, "Email").set_value(email)
    button(at, "Search").click()
    return at.run()


def test_page_searches_exports_and_erases_with_a_confirmation(workbench):
    planted = plant_person()
    at = search(privacy_page(planted.owner), EMAIL.upper())
    assert_no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["raw documents"] == "1" and metrics["package versions"] == "2"
    shown = at.dataframe[0].value
    assert len(shown) >= 5 and not shown["snippet"].str.contains("marlowe@", case=False).any()

    button(at, "Prepare export archive").click()
    at.run()
    assert_no_exception(at)
    assert at.get("download_button"), "the archive is offered for download"

    assert button(at, "Erase everywhere").disabled  # nothing happens before the confirmation
    at.checkbox(key="privacy_confirm").check()
    at.run()
    button(at, "Erase everywhere").click()
    at.run()
    job = jobs.wait_for(at.session_state["privacy_job"], timeout_s=60)
    assert job["status"] == "succeeded", job
    at.run()
    assert_no_exception(at)
    assert any("erasure" in s.value for s in at.success)
    report = next(d.value for d in at.dataframe if "what changed" in d.value).set_index("store")["what changed"]
    assert "documents redacted: 1" in report["raw"] and "versions rebuilt: 1" in report["packages"]

    at = search(at, EMAIL)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["raw documents"] == "0" and metrics["package versions"] == "1"  # the sold copy, flagged


def test_another_supplier_finds_nothing_of_the_owners(workbench):
    plant_person()
    at = search(privacy_page(new_user("supplier")), EMAIL)
    assert_no_exception(at)
    assert any("appears nowhere" in i.value for i in at.info)
    assert not at.dataframe and not [b for b in at.button if b.label == "Erase everywhere"]
