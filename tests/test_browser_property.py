"""Property analysis in headless Chromium: scrape the demo property site, train a valuation model as a job,
value the listings, open one (estimate, interval, comparables) and compute its investment scenario.
Screenshots land in test-artifacts/property-*.png for a person to look at."""

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
SLOW_MS = 180_000  # a busy 2-core machine can take well over the default 30 s to start the stores or rerun


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    yield from serve_app(tmp_path_factory, "property-flow", {"SCRAPER_PER_HOST_DELAY_S": "0"})


def test_value_the_demo_listings_and_compute_a_scenario(app_url):
    with browser_page() as page:
        page.set_default_timeout(SLOW_MS)
        # The first visit starts the stores (migrations, embedded MongoDB, MLflow); on a busy machine that and the
        # reruns can outlast Playwright's 30 s default, hence SLOW_MS for every step.
        page.goto(app_url)
        page.get_by_role("button", name="Try the demo").click()
        wait_idle(page)
        page.locator("[data-testid='stSidebarNavLink']", has_text="Sources & Scraping").first.wait_for()
        open_page(page, "Sources & Scraping")
        page.get_by_role("button", name="Scrape the demo sources").click()
        wait_for_text(page, r"Scrape job \d+ finished")
        open_page(page, "Property")
        page.get_by_role("tab", name="Valuation models").click()
        wait_idle(page)
        budget = page.get_by_label("Time budget (seconds)")
        budget.fill("5")
        page.get_by_role("button", name="Train valuation model").click()
        wait_for_text(page, r"Property train job \d+ finished", timeout_ms=600_000)
        assert_no_streamlit_exception(page, "Property after training")

        page.get_by_role("tab", name="Valued listings").click()
        wait_idle(page)
        page.get_by_role("button", name="Value listings").click()
        wait_for_text(page, r"Property value job \d+ finished", timeout_ms=600_000)
        assert_no_streamlit_exception(page, "Property after valuing")
        caption = page.get_by_text(re.compile(r"^\d+ of \d+ listings$")).first.inner_text()
        assert int(caption.split()[0]) >= 40, caption
        page.get_by_text("Comparables").first.scroll_into_view_if_needed()
        page.get_by_text(re.compile(r"^80% interval$")).first.wait_for()
        screenshot(page, "property-1-listing")

        page.get_by_role("tab", name="Investment scenario").click()
        wait_idle(page)
        page.get_by_text("Monthly payment").first.wait_for()
        irr = page.locator("[data-testid='stMetric']", has_text="IRR").first.inner_text()
        assert re.search(r"-?\d+\.\d+%|-", irr), irr
        page.locator(".js-plotly-plot").nth(1).scroll_into_view_if_needed()
        assert page.locator(".js-plotly-plot").count() >= 2  # the IRR heatmap and the cash flows
        assert_no_streamlit_exception(page, "Property scenario")
        screenshot(page, "property-2-scenario")
