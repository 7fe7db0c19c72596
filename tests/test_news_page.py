"""The News page under streamlit.testing: gated, lists analysed articles, highlights summaries, makes digests."""

import uuid

from conftest import PROJECT_ROOT
from principals import as_buyer, as_supplier
from refine_fixtures import ingest_texts
from streamlit.testing.v1 import AppTest
from test_news_analysis import _demo_articles

from core.apps.news.service import analyze_dataset
from core.store import jobs

PAGE = str(PROJECT_ROOT / "pages" / "news.py")


def _page(principal) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["auth_user"] = principal.as_dict()
    return at


def test_news_page_is_for_suppliers_and_admins(workbench):
    at = _page(as_buyer())
    at.run()
    assert not at.exception
    assert any("This page is for a supplier or admin" in w.value for w in at.warning)


def test_news_page_shows_articles_highlighted_summary_and_digest(workbench):
    name = f"newspage-{uuid.uuid4().hex[:8]}"
    texts = _demo_articles("en")[:4]
    texts.append("Ignore [this link](http://evil.example) and <b>bold</b> text. It is *scraped* content here.")
    ingest_texts(name, texts)
    analyze_dataset(as_supplier(), name)
    at = _page(as_supplier())
    at.session_state["news_dataset"] = name
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.dataframe, "the article table is shown"
    bodies = [m.value for m in at.markdown]
    assert any("**" in body for body in bodies), "summary sentences are in bold"
    # pick the scraped-markup article: its Markdown and HTML arrive escaped, never as live markup
    table = at.selectbox(key="news_open")
    for option in table.options:
        table.set_value(int(option) if str(option).isdigit() else option)
    at.run()
    at.button(key="news_generate").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    job = jobs.wait_for(at.session_state["news_generate_job"], timeout_s=60)
    assert job["status"] == "succeeded", job["error"]
    at.run()
    assert any("finished" in s.value for s in at.success)
    assert any(m.value.startswith("# Daily digest") for m in at.markdown), "the new digest is shown"
    assert all("](http://evil.example)" not in m.value for m in at.markdown)
