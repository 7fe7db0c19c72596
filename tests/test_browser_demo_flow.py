"""The whole demo flow in headless Chromium: scrape, refine, package, list, buy as a second user,
download, review. Screenshots land in test-artifacts/ for a person to look at."""

import re

import pytest
from browser_helpers import assert_no_streamlit_exception, browser_page, screenshot, serve_app, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    yield from serve_app(tmp_path_factory, "demo-flow", {"SCRAPER_PER_HOST_DELAY_S": "0"})


def open_page(page, title: str) -> None:
    page.locator("[data-testid='stSidebarNavLink']", has_text=title).first.click()
    wait_idle(page)
    assert_no_streamlit_exception(page, title)


def choose(page, label: str, option: str) -> None:
    """Pick an option in a Streamlit selectbox identified by its label."""
    box = page.get_by_role("combobox", name=label).first
    try:
        box.click(timeout=60_000)
    except Exception:
        screenshot(page, f"failed-choose-{label}")
        raise
    page.get_by_role("option", name=option, exact=False).first.click()
    wait_idle(page)


def wait_for_text(page, pattern: str, timeout_ms: int = 240_000) -> None:
    page.get_by_text(re.compile(pattern)).first.wait_for(timeout=timeout_ms)
    wait_idle(page)


def sign_in_again(page, demo_button: str) -> None:
    """Sign out, then sign in with one of the sign-in page's demo buttons."""
    page.get_by_role("button", name="Sign out").click()
    wait_idle(page)
    page.get_by_role("button", name=demo_button).click()
    wait_idle(page)


def select_first_row(page, testid_container: str = "[data-testid='stDataFrame']") -> None:
    """Tick the first row of a selectable st.dataframe (a canvas grid: click where the checkbox is drawn)."""
    grid = page.locator(testid_container).first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    wait_idle(page)


def test_scrape_refine_package_list_buy_download_review(app_url):
    with browser_page() as page:
        page.goto(app_url)
        wait_idle(page)
        page.get_by_role("button", name="Try the demo").click()
        wait_idle(page)

        open_page(page, "Sources & Scraping")
        page.get_by_role("button", name="Scrape the demo sources").click()
        wait_for_text(page, r"Scrape job \d+ finished")
        assert_no_streamlit_exception(page, "Sources after scrape")
        news = page.locator("[data-testid='stMetric']", has_text="Raw news documents")
        assert int(news.locator("[data-testid='stMetricValue']").inner_text().replace(",", "")) > 50
        screenshot(page, "flow-1-scraped")

        open_page(page, "Raw Explorer")
        select_first_row(page)
        page.get_by_role("tab", name="Source text").wait_for()
        page.get_by_role("tab", name="Source text").scroll_into_view_if_needed()
        page.wait_for_timeout(1500)  # let the JSON viewer draw before the screenshot
        assert_no_streamlit_exception(page, "Raw Explorer record")
        screenshot(page, "flow-2-raw-record")

        open_page(page, "Refine")
        choose(page, "Dataset", "demo-news")
        page.get_by_role("button", name="Compute signals").click()
        page.get_by_text("Would keep").first.wait_for(timeout=240_000)  # shown once the signals job is done
        wait_idle(page)
        screenshot(page, "flow-3-refine")
        page.get_by_role("button", name="Run refinement").click()
        wait_for_text(page, r"Refine job \d+ finished")
        assert_no_streamlit_exception(page, "Refine after run")

        open_page(page, "Quality")
        page.get_by_text("Input items").first.wait_for()
        screenshot(page, "flow-4-quality")
        page.get_by_role("tab", name="Duplicates").click()
        page.get_by_role("combobox", name="Open a cluster").wait_for()
        wait_idle(page)
        page.get_by_role("combobox", name="Open a cluster").scroll_into_view_if_needed()
        assert_no_streamlit_exception(page, "Quality duplicate cluster")
        screenshot(page, "flow-4b-duplicate-cluster")

        open_page(page, "Packages")
        choose(page, "Dataset", "demo-news")
        page.get_by_label("Title").fill("Demo news articles")
        page.keyboard.press("Tab")
        wait_idle(page)
        page.get_by_role("button", name="Build package").click()
        wait_for_text(page, r"Package job \d+ finished")
        assert_no_streamlit_exception(page, "Packages after build")
        screenshot(page, "flow-5-packages")

        open_page(page, "Marketplace")
        page.get_by_text("List a package for sale").click()
        page.get_by_role("button", name="List it").click()
        wait_for_text(page, "Listed '")
        screenshot(page, "flow-6-listed")

        sign_in_again(page, "Demo buyer")
        # A buyer's only page is the Marketplace: it opens at once, with no other page in the navigation.
        page.get_by_role("heading", name="Marketplace").first.wait_for()
        assert not page.locator("[data-testid='stSidebarNavLink']", has_text="Raw Explorer").count()
        select_first_row(page)
        page.get_by_role("button", name=re.compile("^(Get it for free|Buy for)")).click()
        wait_for_text(page, "You own this dataset")
        page.get_by_role("button", name="Prepare download").click()
        wait_for_text(page, "Every file matches the sha256")
        with page.expect_download() as download_info:
            page.get_by_role("button", name=re.compile(r"^Download .*\.zip")).click()
        download = download_info.value
        assert download.suggested_filename.endswith(".zip")
        page.get_by_label("What was it like to use?").fill("Clean, multilingual and well documented.")
        page.get_by_role("button", name="Post review").click()
        wait_for_text(page, "your review is posted")
        assert_no_streamlit_exception(page, "Marketplace after review")
        screenshot(page, "flow-7-bought-and-reviewed")

        # The admin revokes that sale (a ledger sale: recorded, no Stripe call); the buyer's downloads stop.
        sign_in_again(page, "Try the demo")
        open_page(page, "Marketplace")
        page.get_by_text("Sales", exact=True).first.click()
        wait_idle(page)
        page.get_by_label("Reason (kept in the audit trail)").fill("Demo: buyer asked for a refund")
        page.get_by_role("button", name="Revoke sale").click()
        wait_idle(page)
        page.get_by_role("button", name=re.compile(r"^Confirm: revoke sale #\d+")).click()
        wait_for_text(page, r"Sale #\d+ is now refunded; its downloads have stopped")
        assert_no_streamlit_exception(page, "Marketplace after revoking")
        screenshot(page, "flow-8-admin-revoked-sale")
