"""The whole demo flow in headless Chromium: scrape, refine, package, list, buy as a second user,
download, review. Screenshots land in test-artifacts/ for a person to look at."""

import re

import pytest
from browser_helpers import (
    PHONE_WIDTH,
    assert_no_streamlit_exception,
    browser_page,
    choose,
    horizontal_overflow,
    nav_titles_on_phone,
    open_page,
    open_page_on_phone,
    refine_demo_news,
    screenshot,
    select_first_row,
    selectbox_value,
    serve_app,
    sign_in_again,
    start_demo_and_scrape,
    wait_for_text,
    wait_idle,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    yield from serve_app(tmp_path_factory, "demo-flow", {"SCRAPER_PER_HOST_DELAY_S": "0"})












def test_scrape_refine_package_list_buy_download_review(app_url):
    with browser_page() as page:
        start_demo_and_scrape(page, app_url)
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

        refine_demo_news(page)
        # The outcome in words and the next steps as links.
        wait_for_text(page, r"Refine job \d+ finished: run \d+ kept [\d,]+ of [\d,]+ items")
        page.get_by_role("link", name=re.compile(r"Open run \d+ on the Quality page")).wait_for()
        screenshot(page, "flow-3-refine")
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

        open_page(page, "Refine")  # back on Refine: the dataset chosen before is still chosen
        page.get_by_text("Would keep").first.wait_for()
        assert "demo-news" in selectbox_value(page, "Dataset")

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
        # A buyer's only page is the Marketplace: it opens at once, with no other page in the navigation,
        # and nothing of the admin's session (the listing they had open) shows.
        page.get_by_role("heading", name="Marketplace").first.wait_for()
        wait_for_text(page, "Select a dataset to see its details")
        assert not page.locator("[data-testid='stSidebarNavLink']", has_text="Raw Explorer").count()
        select_first_row(page)
        page.get_by_role("button", name=re.compile("^(Get it for free|Buy for)")).click()
        wait_for_text(page, "internal ledger")  # the confirmation says no real payment is taken
        page.get_by_role("button", name="Confirm purchase").click()
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
        rating = page.locator("[data-testid='stMetric']", has_text="Rating")
        assert "(1)" in rating.inner_text()  # the review counts at once, without another rerun
        assert_no_streamlit_exception(page, "Marketplace after review")
        screenshot(page, "flow-7-bought-and-reviewed")

        # The admin revokes that sale (a ledger sale: recorded, no Stripe call); the buyer's downloads stop.
        sign_in_again(page, "Try the demo")
        open_page(page, "Refine")  # a new session: no job panel of the earlier one
        page.get_by_role("heading", name="Refine").first.wait_for()
        assert not page.get_by_text(re.compile(r"Refine job \d+")).count()
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

        # Phones: every page fits a 390 px wide screen, with the demo's data in it.
        page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
        wait_idle(page)
        overflowing = {}
        for title in nav_titles_on_phone(page):
            open_page_on_phone(page, title)
            if problems := horizontal_overflow(page):
                overflowing[title] = problems
            screenshot(page, "phone-" + title.lower().replace(" ", "-").replace("&", "and"))
        assert not overflowing, overflowing
