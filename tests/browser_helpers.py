"""A real `streamlit run` of the app on a free port, and Debian's Chromium driven by playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"


def require_chromium() -> None:
    if not Path(CHROMIUM).exists() or shutil.which("node") is None and not _playwright_driver():
        message = f"Chromium not found at {CHROMIUM} (apt-get install -y chromium): browser tests SKIPPED"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)


def _playwright_driver() -> bool:
    try:
        import playwright  # noqa: F401
        return True
    except ImportError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_app(data_dir: Path, extra_env: dict | None = None):
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(data_dir), **(extra_env or {})}
    log = open(data_dir.parent / "streamlit.log", "w")  # noqa: SIM115 - closed in finally below
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/_stcore/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited early: {(data_dir.parent / 'streamlit.log').read_text()}")
            time.sleep(0.3)
        else:
            raise RuntimeError("streamlit did not become healthy within 60 s")
        yield base
    finally:
        # Keep the server's log next to the screenshots: it holds the traceback a redacted UI error hides.
        ARTIFACTS.mkdir(exist_ok=True)
        log.flush()
        (ARTIFACTS / f"server-{data_dir.parent.name}.log").write_text((data_dir.parent / "streamlit.log").read_text())
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@contextmanager
def browser_page(viewport=(1400, 900)):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            browser.close()


def wait_idle(page, settle_ms: int = 400) -> None:
    """Wait until Streamlit has finished running the script (the status widget disappears)."""
    page.wait_for_timeout(settle_ms)
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=60_000)
    page.wait_for_timeout(settle_ms)


def assert_no_streamlit_exception(page, where: str) -> None:
    exceptions = page.locator("[data-testid='stException']")
    if exceptions.count():
        raise AssertionError(f"Streamlit exception on {where}: {exceptions.first.inner_text()[:2000]}")


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def serve_app(tmp_path_factory, name: str, extra_env: dict | None = None):
    """Module-fixture body: a fresh DATA_DIR and a running app (Chromium required)."""
    require_chromium()
    data_dir = tmp_path_factory.mktemp(name) / "data"
    data_dir.mkdir()
    with running_app(data_dir, extra_env) as base:
        yield base


# -- steps shared by the flow tests ------------------------------------------------------------------
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


def selectbox_value(page, label: str) -> str:
    """The text a Streamlit selectbox shows as chosen (its visible text and its input's value)."""
    box = page.locator("[data-testid='stSelectbox']").filter(has=page.get_by_text(label, exact=True)).first
    return box.evaluate("el => el.innerText + ' ' + [...el.querySelectorAll('input')].map(i => i.value).join(' ')")


def wait_for_text(page, pattern: str, timeout_ms: int = 240_000) -> None:
    """Wait for text matching `pattern`; on a timeout, keep a screenshot of what the page showed instead."""
    import re

    try:
        page.get_by_text(re.compile(pattern)).first.wait_for(timeout=timeout_ms)
    except Exception:
        screenshot(page, "failed-wait")
        raise
    wait_idle(page)


def sign_in_again(page, demo_button: str) -> None:
    """Sign out, then sign in with one of the sign-in page's demo buttons."""
    page.get_by_role("button", name="Sign out").click()
    wait_idle(page)
    page.get_by_role("button", name=demo_button).click()
    wait_idle(page)


def select_first_row(page, testid_container: str = "[data-testid='stDataFrame']") -> None:
    """Tick the first row of a selectable st.dataframe (a canvas grid: click where the checkbox is drawn)."""
    from playwright.sync_api import Error as PlaywrightError

    wait_idle(page)  # the grid of a rerun still in flight is replaced under us ("not attached to the DOM")
    for attempt in range(3):
        try:
            grid = page.locator(testid_container).first
            grid.scroll_into_view_if_needed()
            box = grid.bounding_box()
            break
        except PlaywrightError:
            if attempt == 2:
                raise
            wait_idle(page)
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    wait_idle(page)


def start_demo_and_scrape(page, app_url: str, button: str = "Scrape the demo sources") -> None:
    """Open the app, press "Try the demo" (the demo admin) and scrape the demo sources (or, by `button` on
    the Sources page, another demo such as the social posts)."""
    page.goto(app_url)
    wait_idle(page)
    page.get_by_role("button", name="Try the demo").click()
    wait_idle(page)
    open_page(page, "Sources & Scraping")
    page.get_by_role("button", name=button).click()
    wait_for_text(page, r"Scrape job \d+ finished")


def refine_demo_news(page) -> None:
    """Compute demo-news's signals and run the default recipe on the Refine page."""
    open_page(page, "Refine")
    choose(page, "Dataset", "demo-news")
    page.get_by_role("button", name="Compute signals").click()
    page.get_by_text("Would keep").first.wait_for(timeout=240_000)  # shown once the signals job is done
    wait_idle(page)
    page.get_by_role("button", name="Run refinement").click()
    wait_for_text(page, r"Refine job \d+ finished")



# -- phones ------------------------------------------------------------------------------------------
PHONE_WIDTH = 390
_OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll('[data-testid="stMain"] *')) {
    const box = el.getBoundingClientRect();
    // Elements inside a horizontally scrolling box (a data grid, a code block, a row of tabs) scroll on their own.
    const scrolls = '[data-testid="stDataFrame"], pre, .stPlotlyChart, [role="tablist"], ' +
                    '[data-testid="stMarkdownContainer"] table';
    if (box.width > 0 && box.right > width + 1 && !el.closest(scrolls)) {
      wide.push((el.getAttribute('data-testid') || el.tagName.toLowerCase()) + ' ends at ' + Math.round(box.right));
    }
  }
  return {page: document.documentElement.scrollWidth, width: width, wide: wide.slice(0, 5)};
}"""


def horizontal_overflow(page) -> list[str]:
    """What sticks out to the right of the viewport (empty when the page fits its width)."""
    found = page.evaluate(_OVERFLOW_JS)
    problems = list(found["wide"])
    if found["page"] > found["width"] + 1:
        problems.insert(0, f"the page scrolls sideways ({found['page']} px in a {found['width']} px viewport)")
    return problems


def _sidebar_open(page) -> bool:
    return page.locator("[data-testid='stSidebarNavLink']").first.is_visible()


def _open_full_navigation(page) -> None:
    """Open the collapsed phone sidebar and expand its "View N more" list."""
    if not _sidebar_open(page):
        page.locator("[data-testid='stExpandSidebarButton']").first.click()
        page.wait_for_timeout(400)
    more = page.locator("[data-testid='stSidebarNavViewButton']", has_text="more")
    if more.count():
        # Below the fold of the sliding phone sidebar, where a pointer click is refused: click it as a script.
        more.first.evaluate("el => el.click()")
        page.wait_for_timeout(300)


def nav_titles_on_phone(page) -> list[str]:
    """Every page title in the navigation."""
    _open_full_navigation(page)
    links = page.locator("[data-testid='stSidebarNavLink']")
    return [links.nth(i).inner_text().strip().splitlines()[-1] for i in range(links.count())]


def open_page_on_phone(page, title: str) -> None:
    """Open a page from the phone-width sidebar, then close the sidebar so the page itself shows."""
    _open_full_navigation(page)
    page.locator("[data-testid='stSidebarNavLink']", has_text=title).first.evaluate("el => el.click()")
    wait_idle(page)
    if _sidebar_open(page):
        # A tap beside the sliding sidebar closes it (its collapse arrow only appears on hover).
        page.mouse.click(PHONE_WIDTH - 4, 12)
        page.wait_for_timeout(400)
    assert_no_streamlit_exception(page, f"{title} at phone width")
