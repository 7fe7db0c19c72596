"""The Listing bot in headless Chromium: draft a listing from a rough note, see the phone number named, redact
and save, edit the draft (version 2) and export it as JSON. Screenshots: test-artifacts/listing-bot-*.png."""

import json
import re

import pytest
from browser_helpers import (
    assert_no_streamlit_exception,
    browser_page,
    open_page,
    screenshot,
    serve_app,
    wait_for_text,
    wait_idle,
)

pytestmark = pytest.mark.browser

NOTE = ("selling my blue Gazelle city bike, 57cm frame, good condition, a few scratches on the fender. "
        "Asking 350 eur or best offer. Pick-up in Utrecht. Call +31 6 12345678")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    yield from serve_app(tmp_path_factory, "listing-bot-flow")


def test_draft_a_listing_from_a_note_edit_it_and_export_it(app_url):
    with browser_page() as page:
        page.goto(app_url)
        wait_idle(page)
        page.get_by_role("button", name="Try the demo").click()
        wait_idle(page)
        page.locator("[data-testid='stSidebarNavLink']", has_text="News").first.wait_for()
        open_page(page, "Listing bot")
        page.get_by_text("Nothing is posted to any real site").first.wait_for()

        page.get_by_role("textbox", name="Rough note").fill(NOTE)
        page.get_by_role("button", name="Draft listing").click()
        wait_for_text(page, "Personal data found", timeout_ms=60_000)
        page.get_by_text("phone number '+31 6 12345678' in the description").first.wait_for()
        assert page.get_by_role("textbox", name="Title").first.input_value() == "Gazelle city bike, 57 cm frame, blue"
        screenshot(page, "listing-bot-1-review")
        page.get_by_role("button", name="Redact and save").click()
        wait_for_text(page, r"Saved draft \d+", timeout_ms=60_000)
        assert_no_streamlit_exception(page, "Listing bot after saving")

        page.get_by_role("tab", name="My drafts").click()
        wait_idle(page)
        panel = page.get_by_role("tabpanel", name="My drafts")
        title = panel.get_by_role("textbox", name="Title")
        title.fill("Gazelle city bike, 57 cm frame")
        panel.get_by_role("button", name="Save changes").click()
        wait_for_text(page, r"Saved version 2 of draft \d+", timeout_ms=60_000)
        assert "[PHONE]" in panel.get_by_role("textbox", name="Description").input_value()
        screenshot(page, "listing-bot-2-edited")

        with page.expect_download() as download_info:
            panel.get_by_role("button", name="Download JSON").click()
        exported = json.loads(download_info.value.path().read_text(encoding="utf-8"))
        assert exported[0]["title"] == "Gazelle city bike, 57 cm frame" and exported[0]["version"] == 2
        assert "12345678" not in json.dumps(exported) and re.search(r"\[PHONE\]", exported[0]["description"])
        assert_no_streamlit_exception(page, "Listing bot after export")
