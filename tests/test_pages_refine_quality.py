import streamlit as st
from apptest_helpers import assert_no_exception, button, page_app
from principals import as_supplier
from refine_fixtures import article_text, ingest_texts, refined_dataset

from core.refine.service import dataset_signals
from core.store import jobs


def test_refine_page_moves_a_slider_and_runs(workbench):
    name = "refine-page-ds"
    ingest_texts(name, [article_text(i) for i in range(15)] + ["short", "buy now " * 30])
    dataset_signals(as_supplier(), name)
    st.cache_data.clear()
    at = page_app("refine.py", role="supplier")
    at.selectbox(key="ref_dataset").select(name).run()
    assert_no_exception(at)
    before = at.metric[1].value
    quality_slider = [s for s in at.slider if s.label == "Minimum quality"][0]
    quality_slider.set_value(0.99).run()
    assert_no_exception(at)
    assert at.metric[1].value != before  # the preview follows the threshold at once
    button(at, "Run refinement").click().run()
    job = jobs.wait_for(at.session_state[f"ref_run_job_{name}"], timeout_s=120)
    assert job["status"] == "succeeded", job["error"]
    assert job["result"]["kept"] < job["result"]["input"]
    at.run()
    assert_no_exception(at)


def test_refine_page_offers_to_compute_signals_first(workbench):
    ingest_texts("refine-fresh-ds", [article_text(i) for i in range(3)])
    at = page_app("refine.py", role="supplier")
    at.selectbox(key="ref_dataset").select("refine-fresh-ds").run()
    assert "not been computed" in at.info[0].value
    button(at, "Compute signals").click().run()
    assert jobs.wait_for(at.session_state["ref_signals_job_refine-fresh-ds"], 120)["status"] == "succeeded"


def test_quality_page_shows_a_run_its_clusters_drops_and_comparison(workbench):
    name, run_id = refined_dataset(n=20)
    st.cache_data.clear()
    at = page_app("quality.py")
    at.selectbox(key="quality_run_select").select(run_id).run()
    assert_no_exception(at)
    assert at.metric[0].value == "24"
    assert at.selectbox(key="q_cluster") is not None  # the planted duplicate forms a cluster
    at.selectbox(key="q_reason").select_index(0).run()
    assert_no_exception(at)
    assert len(at.dataframe) >= 1
    # One finished run of this dataset: the compare section says what would make a second version.
    assert any("one finished run" in c.value for c in at.caption)


def test_untouched_refine_page_keeps_the_default_recipe(workbench):
    """Every rule kind is drawn with its own bounds, so opening the page changes nothing."""
    from core.refine.service import recipe_for

    name = "refine-listing-ds"
    ingest_texts(name, ['{"title": "Chair", "price": 12, "currency": "EUR", "location": "Lyon"}'] * 1
                 + [article_text(i) for i in range(3)], app="marketplace")
    dataset_signals(as_supplier(), name)
    st.cache_data.clear()
    at = page_app("refine.py", role="supplier")
    at.selectbox(key="ref_dataset").select(name).run()
    assert_no_exception(at)
    expected = recipe_for("marketplace").hash
    assert any(expected in c.value for c in at.caption), [c.value for c in at.caption]
    assert [s.label for s in at.slider if s.label.startswith("Maximum")]  # max-only rules get a max slider
