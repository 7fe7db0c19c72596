"""The social sources in headless Chromium: collect the demo Mastodon and Bluesky posts, then read one in the
Raw Explorer. Screenshots: test-artifacts/social-*.png."""

import pytest
from browser_helpers import (
    assert_no_streamlit_exception,
    browser_page,
    choose,
    open_page,
    screenshot,
    select_first_row,
    serve_app,
    start_demo_and_scrape,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    yield from serve_app(tmp_path_factory, "social-flow")


def test_collect_demo_social_posts_and_open_one(app_url):
    with browser_page() as page:
        start_demo_and_scrape(page, app_url, button="Collect the demo social posts")
        assert_no_streamlit_exception(page, "Sources after collecting social posts")
        page.get_by_text("Raw social documents").first.wait_for()
        screenshot(page, "social-1-collected")

        open_page(page, "Raw Explorer")
        choose(page, "Application", "social")
        select_first_row(page)
        assert_no_streamlit_exception(page, "Raw Explorer on a social post")
        screenshot(page, "social-2-raw-post")
