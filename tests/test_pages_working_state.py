"""Working state (dataset, recipe draft, run, open listing) follows the user across pages and goes at sign-out."""

import streamlit as st
from apptest_helpers import assert_no_exception, page_app
from principals import as_supplier
from refine_fixtures import article_text, ingest_texts, refined_dataset

from core.refine.service import dataset_signals


def _quality_slider(at):
    return next(s for s in at.slider if s.label == "Minimum quality")


def test_refine_remembers_the_dataset_and_thresholds_after_another_page(workbench):
    for name in ("state-first-ds", "state-second-ds"):
        ingest_texts(name, [article_text(i) for i in range(6)] + ["short"])
        dataset_signals(as_supplier(), name)
    st.cache_data.clear()
    at = page_app("refine.py", role="supplier")
    at.selectbox(key="ref_dataset").select("state-second-ds").run()
    _quality_slider(at).set_value(0.9).run()
    assert_no_exception(at)

    at.switch_page("pages/overview.py").run()
    assert_no_exception(at)
    at.switch_page("pages/refine.py").run()
    assert_no_exception(at)
    assert at.selectbox(key="ref_dataset").value == "state-second-ds"
    assert _quality_slider(at).value == 0.9
    # The draft is the recipe the run would use, so its id follows the moved threshold too.
    assert any("Recipe id" in c.value for c in at.caption)

    at.switch_page("pages/packages.py").run()  # the dataset chosen on Refine is preselected for packaging
    assert at.selectbox(key="pkg_dataset").value == "state-second-ds"

    at.switch_page("pages/refine.py").run()
    next(b for b in at.button if b.label == "Reset to the default recipe").click().run()
    assert _quality_slider(at).value != 0.9


def test_the_run_opened_on_quality_is_preselected_on_packages(workbench):
    name, first_run = refined_dataset(n=12)
    st.cache_data.clear()
    at = page_app("quality.py", role="supplier")
    at.selectbox(key="quality_run_select").select(first_run).run()
    assert_no_exception(at)
    at.switch_page("pages/packages.py").run()
    assert_no_exception(at)
    assert at.selectbox(key="pkg_dataset").value == name
    assert at.selectbox(key="pkg_run").value == first_run
    label = at.selectbox(key="pkg_run").format_func(first_run)
    assert label.startswith(f"run {first_run} · 20") and "kept" in label and "default rules" in label
