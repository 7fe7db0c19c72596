"""The running app in headless Chromium: every page opens without a Streamlit exception."""

import pytest
from browser_helpers import assert_no_streamlit_exception, browser_page, screenshot, serve_app, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    yield from serve_app(tmp_path_factory, "browser")


def test_demo_sign_in_and_every_page_renders(app_url):
    with browser_page() as page:
        page.goto(app_url)
        wait_idle(page)
        assert_no_streamlit_exception(page, "sign-in")
        screenshot(page, "sign-in")
        page.get_by_role("button", name="Try the demo").click()
        wait_idle(page)
        page.get_by_role("heading", name="Overview").wait_for()
        links = page.locator("[data-testid='stSidebarNavLink']")
        # A link's text starts with its icon's ligature name ("dashboard\n\nOverview"): keep the title.
        titles = [links.nth(i).inner_text().strip().splitlines()[-1] for i in range(links.count())] or ["Overview"]
        for title in titles:
            if links.count():
                page.locator("[data-testid='stSidebarNavLink']", has_text=title).first.click()
                wait_idle(page)
            assert_no_streamlit_exception(page, title)
            screenshot(page, "page-" + title.lower().replace(" ", "-").replace("&", "and"))
        page.get_by_role("button", name="Sign out").click()
        wait_idle(page)
        page.get_by_role("button", name="Try the demo").wait_for()
