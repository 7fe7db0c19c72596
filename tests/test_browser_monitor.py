"""The Marketplace monitor in headless Chromium: scrape the demo sources, save a search, watch the demo shop,
run a pass, simulate market activity, run a pass, open an event and follow it to its raw record.
Screenshots land in test-artifacts/monitor-*.png for a person to look at."""

import re

import pytest
from browser_helpers import (
    assert_no_streamlit_exception,
    browser_page,
    choose,
    open_page,
    screenshot,
    serve_app,
    start_demo_and_scrape,
    wait_for_text,
    wait_idle,
)

pytestmark = pytest.mark.browser
FINISHED = re.compile(r"Monitor pass job (\d+) finished")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    yield from serve_app(tmp_path_factory, "monitor-flow", {"SCRAPER_PER_HOST_DELAY_S": "0"})


def _section(page, name: str) -> None:
    page.get_by_text(name, exact=True).first.click()
    wait_idle(page)
    assert_no_streamlit_exception(page, f"Marketplace monitor: {name}")


def _run_pass(page, after_job: int | None = None) -> int:
    """Press "Run a pass now" and wait for its job (a newer one than `after_job`) to finish."""
    page.get_by_role("button", name="Run a pass now").click()
    for _ in range(240):
        page.wait_for_timeout(500)
        found = [int(m.group(1)) for m in (FINISHED.search(t) for t in page.get_by_text(FINISHED).all_inner_texts())
                 if m]
        if found and (after_job is None or max(found) > after_job):
            wait_idle(page)
            return max(found)
    screenshot(page, "failed-monitor-pass")
    raise AssertionError("the monitor pass did not finish")


def test_save_a_search_run_a_pass_and_open_an_event(app_url):
    with browser_page() as page:
        start_demo_and_scrape(page, app_url)
        open_page(page, "Marketplace monitor")

        _section(page, "Searches")
        page.get_by_label("Search name").fill("Everything on the demo shop")
        page.get_by_role("button", name="Save search").click()
        wait_for_text(page, r"Search 'Everything on the demo shop' saved")

        _section(page, "Watched sources")
        page.get_by_text("Re-scrape on this schedule").click()  # passes by hand only, so the flow is deterministic
        page.get_by_role("button", name="Save watch").click()
        wait_for_text(page, r"Watching demo-marketplace")
        baseline_job = _run_pass(page)
        page.get_by_text("Demo shop: simulate market activity").click()
        page.get_by_role("button", name="Simulate market activity").click()
        wait_idle(page)
        _run_pass(page, after_job=baseline_job)
        screenshot(page, "monitor-1-watched-sources")

        _section(page, "Inbox")
        page.get_by_text(re.compile("^Unread$")).first.wait_for()
        choose(page, "Open event", "Price drop")
        assert_no_streamlit_exception(page, "Marketplace monitor: an event")
        page.get_by_text(re.compile(r"down [\d,.]+ \(\d+\.\d%\)")).first.wait_for()
        link = page.get_by_text("Open the record in Raw Explorer")
        link.wait_for()
        screenshot(page, "monitor-2-event")

        link.click()
        wait_idle(page)
        assert_no_streamlit_exception(page, "Raw Explorer from an event")
        page.get_by_role("heading", name=re.compile(r"item.\d+.html")).first.wait_for()
        screenshot(page, "monitor-3-raw-record")

        open_page(page, "Marketplace monitor")
        _section(page, "Statistics")
        page.locator(".js-plotly-plot").nth(2).wait_for()
        screenshot(page, "monitor-4-statistics")
