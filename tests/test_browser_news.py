"""The News app in headless Chromium: scrape the demo sources, analyse demo-news, open an article with its
summary highlighted, write a digest. Screenshots land in test-artifacts/news-*.png for a person to look at."""

import re

import pytest
from browser_helpers import (
    assert_no_streamlit_exception,
    browser_page,
    open_page,
    screenshot,
    serve_app,
    start_demo_and_scrape,
    wait_for_text,
    wait_idle,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    yield from serve_app(tmp_path_factory, "news-flow", {"SCRAPER_PER_HOST_DELAY_S": "0"})






def test_analyse_demo_news_open_an_article_and_write_a_digest(app_url):
    with browser_page() as page:
        start_demo_and_scrape(page, app_url)

        open_page(page, "News")
        page.get_by_role("combobox", name="Dataset").first.click()
        page.get_by_role("option", name=re.compile("^demo-news")).first.click()
        wait_idle(page)
        page.get_by_role("button", name="Analyse", exact=True).click()
        wait_for_text(page, r"News analyze job \d+ finished")
        assert_no_streamlit_exception(page, "News after analysis")
        caption = page.get_by_text(re.compile(r"^\d+ of \d+ articles$")).first.inner_text()
        assert int(caption.split()[0]) > 10, caption
        # the article view: its summary sentences are bold inside the text
        page.get_by_role("combobox", name="Open article").scroll_into_view_if_needed()
        bold = page.locator("[data-testid='stMarkdownContainer'] strong")
        assert bold.count() >= 1
        bold.first.scroll_into_view_if_needed()
        assert_no_streamlit_exception(page, "News article view")
        screenshot(page, "news-1-article")

        page.get_by_role("tab", name="Digests & reports").click()
        wait_idle(page)
        page.get_by_role("button", name="Generate daily digest").click()
        wait_for_text(page, r"News generate job \d+ finished")
        assert_no_streamlit_exception(page, "News after digest")
        page.get_by_role("heading", name=re.compile("^Daily digest")).first.wait_for()
        page.get_by_role("button", name="Approve").click()
        wait_idle(page)
        page.get_by_text(re.compile(r"status approved")).first.wait_for()
        screenshot(page, "news-2-digest")
