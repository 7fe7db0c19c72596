"""The Refine page draws each rule from its controls description (core/refine/rule_kinds), not per kind."""

import uuid

import streamlit as st
from apptest_helpers import assert_no_exception, page_app
from principals import as_supplier
from refine_fixtures import article_text, ingest_texts

from core.refine.service import dataset_signals, recipe_for


def _refine_page_on_new_dataset(prefix: str, texts: list[str]):
    """The Refine page, as a supplier, on a new news dataset of `texts` whose signals are computed; and the
    signals."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    ingest_texts(name, texts, app="news")
    _, signals = dataset_signals(as_supplier(), name)
    st.cache_data.clear()
    at = page_app("refine.py", role="supplier")
    at.selectbox(key="ref_dataset").select(name).run()
    return at, signals


def test_refine_page_draws_every_described_control_and_nothing_else(workbench):
    at, signals = _refine_page_on_new_dataset("refine-controls", [article_text(i) for i in range(6)] + ["short"])
    assert_no_exception(at)
    described = [(c.widget, c.label) for rule in recipe_for("news").rules for c in rule.controls(signals)]
    assert {w for w, _ in described} == {"slider", "multiselect", "selectbox"}  # the news recipe uses them all
    prefix = "ref_rule_"
    drawn = [("slider", w.label) for w in at.slider if str(w.key).startswith(prefix)]
    drawn += [("multiselect", w.label) for w in at.multiselect if str(w.key).startswith(prefix)]
    drawn += [("selectbox", w.label) for w in at.selectbox if str(w.key).startswith(prefix)]
    assert sorted(drawn) == sorted(described)
    # A control's value reaches its rule: moving the described minimum-quality slider changes the preview.
    before = at.metric[1].value
    [s for s in at.slider if s.label == "Minimum quality"][0].set_value(0.99).run()
    assert_no_exception(at)
    assert at.metric[1].value != before


def test_a_rule_added_on_the_page_is_drawn_and_applied(workbench):
    at, _ = _refine_page_on_new_dataset("refine-add", [article_text(i) for i in range(6)] + ["short"])
    rules_before = len([s for s in at.slider if str(s.key).startswith("ref_rule_")])
    offered = at.selectbox(key="ref_add_kind").options
    assert "pii" not in offered and "duplicates" not in offered  # once per recipe, and the news recipe has them
    at.selectbox(key="ref_add_kind").select("min_length").run()
    at.button(key="ref_add_rule").click().run()
    assert_no_exception(at)
    sliders = [s for s in at.slider if str(s.key).startswith("ref_rule_")]
    assert len(sliders) == rules_before + 1
    # The added rule works like the others: a high minimum length drops every item of this small dataset.
    sliders[-1].set_value(sliders[-1].max).run()
    assert_no_exception(at)
    assert at.metric[1].value == "0 (0%)"


def test_the_samples_say_kept_or_the_reason_and_show_the_text(workbench):
    at, _ = _refine_page_on_new_dataset("refine-samples", [article_text(i) for i in range(4)] + ["short"])
    assert_no_exception(at)
    samples = [frame.value for frame in at.dataframe if "reason" in frame.value.columns]
    kept, dropped = samples
    assert set(kept["reason"]) == {"kept"} and kept["text"].str.len().min() > 100
    assert "kept" not in set(dropped["reason"]) and dropped["reason"].str.len().min() > 0
