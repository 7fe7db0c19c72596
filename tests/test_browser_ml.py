"""ML Lab in headless Chromium: demo data refined, a model trained on it, its predictions run and then seen
where the news application's users look (the News page and the Raw Explorer's record view).
Screenshots land in test-artifacts/ for a person to look at."""

import re

import pytest
from browser_helpers import (
    assert_no_streamlit_exception,
    browser_page,
    choose,
    open_page,
    refine_demo_news,
    screenshot,
    select_first_row,
    serve_app,
    start_demo_and_scrape,
    wait_for_text,
    wait_idle,
)

pytestmark = pytest.mark.browser

TARGET = "language"  # six languages, nine kept articles each in the demo news
MODEL = "demo-news-language"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    yield from serve_app(tmp_path_factory, "ml-flow", {"SCRAPER_PER_HOST_DELAY_S": "0"})


def choose_exactly(page, label: str, option: str) -> None:
    """A selectbox option whose name is exactly `option` (`language`, not `fields.language`)."""
    page.get_by_role("combobox", name=label).first.click()
    page.get_by_role("option", name=option, exact=True).first.click()
    wait_idle(page)


def test_train_on_demo_news_predict_and_see_predictions_on_the_news_page(app_url):
    with browser_page() as page:
        start_demo_and_scrape(page, app_url)
        refine_demo_news(page)
        assert_no_streamlit_exception(page, "Refine after run")

        # ML Lab: train a language classifier on the refined demo news, with a small time budget.
        open_page(page, "ML Lab")
        choose(page, "Dataset", "demo-news")
        page.get_by_text(re.compile(r"\d+ rows, \d+ columns")).first.wait_for()
        choose_exactly(page, "Target column (what to predict)", TARGET)
        budget = page.get_by_label("Time budget (seconds)", exact=True)
        budget.fill("1")
        budget.press("Enter")
        wait_idle(page)
        assert page.get_by_label("Model name").input_value() == MODEL
        screenshot(page, "ml-1-train-form")
        page.get_by_role("button", name="Train", exact=True).click()
        wait_for_text(page, r"Train job \d+ finished", timeout_ms=120_000)
        assert_no_streamlit_exception(page, "ML Lab after training")
        trained = page.get_by_text(re.compile(rf"{MODEL}\s+version 1")).first
        trained.wait_for()
        trained.scroll_into_view_if_needed()
        screenshot(page, "ml-2-trained")

        # Score demo-news with it.
        page.get_by_role("tab", name="Predict").click()
        wait_idle(page)
        choose(page, "Dataset to score", "demo-news")
        page.get_by_role("button", name="Run predictions").click()
        wait_for_text(page, r"Predict job \d+ finished", timeout_ms=120_000)
        assert_no_streamlit_exception(page, "ML Lab after predictions")
        page.get_by_text(re.compile(rf"items of demo-news scored with {MODEL} v1")).first.wait_for()
        screenshot(page, "ml-3-predicted")

        # The News page: analyse the articles, then every article carries the model's prediction.
        open_page(page, "News")
        choose(page, "Dataset", "demo-news")
        page.get_by_role("button", name="Analyse", exact=True).click()
        wait_for_text(page, r"News analyze job \d+ finished|Analysed \d+ articles", timeout_ms=120_000)
        assert_no_streamlit_exception(page, "News after analysis")
        prediction = page.get_by_text(re.compile(rf"^Model prediction: {MODEL} v1: [a-z]{{2}} \(\d+%\)$")).first
        prediction.wait_for(timeout=60_000)
        language, percent = re.search(r"v1: ([a-z]{2}) \((\d+)%\)", prediction.inner_text()).groups()
        # As sure as on its held-out rows: the scored items reach the model with the fields it was trained on.
        assert int(percent) >= 75, prediction.inner_text()
        caption = page.get_by_text(re.compile(r"^\S+ · [a-z]{2} · topic ")).first.inner_text()
        assert f" · {language} · " in caption, (caption, language)  # the model agrees with the detector here
        page.locator("[data-testid='stDataFrame']").first.scroll_into_view_if_needed()
        screenshot(page, "ml-4-news-table-predictions")
        prediction.scroll_into_view_if_needed()
        screenshot(page, "ml-5-news-article-prediction")

        # The Raw Explorer's record view shows it too.
        open_page(page, "Raw Explorer")
        choose(page, "Application", "news")
        select_first_row(page)
        page.get_by_role("tab", name=re.compile(r"^Model predictions \(1\)")).wait_for()
        assert page.get_by_text(re.compile(rf"^Model prediction: {MODEL} v1: ")).count()
        page.get_by_role("tab", name=re.compile(r"^Model predictions")).click()
        page.wait_for_timeout(800)
        assert_no_streamlit_exception(page, "Raw Explorer record predictions")
        screenshot(page, "ml-6-raw-record-predictions")
