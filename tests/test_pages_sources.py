import streamlit as st
from apptest_helpers import assert_no_exception, button, page_app
from principals import as_admin

from core.auth import demo_principal
from core.sources.registry import list_sources
from core.status import raw_counts_by_app
from core.store import jobs


def test_scrape_the_demo_sources_fills_the_raw_store(workbench, raw_store):
    before = raw_store.health()["documents"]
    at = page_app("sources.py", role="supplier")
    assert_no_exception(at)
    button(at, "Scrape the demo sources").click().run()
    job = jobs.wait_for(at.session_state["src_job"], timeout_s=240)
    assert job["status"] == "succeeded", job["error"]
    after = raw_store.health()["documents"]
    for app in ("news", "marketplace", "property"):
        assert after.get(app, 0) > before.get(app, 0), app
    st.cache_data.clear()
    at.run()
    assert_no_exception(at)
    assert {s["name"] for s in list_sources(as_admin())} >= {"demo-news-rss", "demo-marketplace", "demo-property"}
    # The page counts the supplier's own documents; other tests' owners may have news in the same store.
    assert int(at.metric[0].value.replace(",", "")) == raw_counts_by_app(demo_principal("supplier"))["news"]
    # The outcome in words, then where to go next.
    assert any("source(s) crawled" in s.value and "new records stored" in s.value for s in at.success)
    assert {"Open the data in Raw Explorer", "Refine it"} <= {link.label for link in at.get("page_link")}


def test_the_source_form_shows_only_the_fields_of_the_chosen_kind(workbench):
    at = page_app("sources.py", role="supplier")
    labels = {w.label for w in [*at.text_input, *at.text_area]}
    assert "Next-page selector" not in labels and "Items path" not in labels  # a news feed needs neither
    at.selectbox(key="src_kind").select("json_api").run()
    labels = {w.label for w in [*at.text_input, *at.text_area]}
    assert {"Items path", "Field map: one 'dotted.path: field' per line"} <= labels
    assert "Next-page selector" not in labels
    at.selectbox(key="src_kind").select("listing_index").run()
    assert {"Next-page selector", "Detail-link selector"} <= {w.label for w in at.text_input}


def test_saving_a_source_checks_urls_and_permissions(workbench):
    at = page_app("sources.py", role="supplier")
    at.text_input(key="src_name").input("shop-a")
    at.text_area(key="src_urls").input("ftp://example.test/").run()
    button(at, "Save source").click().run()
    assert any("http://" in e.value for e in at.error)
    at.text_area(key="src_urls").input("https://shop.example.test/listings")
    at.selectbox(key="src_app").select("marketplace").run()  # listing pages are read with a CSS recipe
    at.text_area(key="src_recipe").input("title: h1\nprice: span.price").run()
    button(at, "Save source").click().run()
    assert_no_exception(at)
    assert any("Saved source 'shop-a'" in s.value for s in at.success)
    saved = next(s for s in list_sources(as_admin()) if s["name"] == "shop-a")
    assert saved["config"]["recipe"] == {"title": "h1", "price": "span.price"}
    assert "allow_private_hosts" not in saved and not saved["robots_override"]
