"""The semantic_duplicates rule kind end to end: neighbours computed once per dataset (cross-batch, cached),
re-clustered at any threshold without re-embedding, its body, its missing-package error and its Refine slider."""

from __future__ import annotations

import time
import uuid

import pytest
import streamlit as st
from apptest_helpers import assert_no_exception, page_app
from principals import as_supplier
from refine_fixtures import ingest_texts

from core.refine.recipe import RecipeError, default_recipe, default_recipe_names, parse_recipe, recipe_from_yaml
from core.refine.rule_kinds import parse_rule
from core.refine.rules import evaluate
from core.refine.semantic_signals import NEIGHBOUR_IDS, NEIGHBOUR_SIMILARITIES
from core.refine.service import dataset_signals, preview
from core.refine.signals import semantic

ARTICLE = ("The central bank raised interest rates by half a point on Tuesday, saying inflation was still "
           "far too high for comfort.")
PARAPHRASE = ("On Tuesday the central bank lifted borrowing costs by half a percentage point, arguing "
              "that inflation remains much too high.")
FRENCH = ("La banque centrale a relevé mardi ses taux d'intérêt d'un demi-point, estimant que "
          "l'inflation restait beaucoup trop élevée.")
UNRELATED = [
    "The home side scored twice in the last ten minutes to win the cup final and end a thirty-year wait.",
    "The carmaker recalled two hundred thousand electric cars over a software fault that switches off the lights.",
    "Volunteers planted four thousand oak saplings along the river bank to slow the spring floods.",
]
SAME_STORY = {ARTICLE, PARAPHRASE, FRENCH}
SLIDER_LABEL = "Semantic duplicates: minimum similarity (cosine)"


def semantic_recipe(threshold: float = 0.65):
    return parse_recipe({"name": "by-meaning", "rules": [{"semantic_duplicates": threshold}]})


@pytest.fixture
def embed_calls(monkeypatch):
    """Every call of the encoder step, with the texts it was given (the real encoder still runs)."""
    calls = []
    real = semantic.embed_texts

    def counting(texts, **kwargs):
        calls.append(list(texts))
        return real(texts, **kwargs)

    monkeypatch.setattr(semantic, "embed_texts", counting)
    return calls


def story_dataset() -> str:
    name = f"semantic-{uuid.uuid4().hex[:8]}"
    ingest_texts(name, [ARTICLE, UNRELATED[0], PARAPHRASE, UNRELATED[1], FRENCH, UNRELATED[2]])
    return name


def reasons_by_text(items, decisions) -> dict[str, str]:
    return dict(zip(items["text"], decisions.set_index("id").loc[items["id"], "drop_reason"], strict=True))


def test_rule_keeps_one_per_story_and_moves_its_threshold_without_re_embedding(workbench, embed_calls):
    name = story_dataset()
    items, signals = dataset_signals(as_supplier(), name, semantic_recipe())
    assert len(embed_calls) == 1 and sorted(embed_calls[0]) == sorted(items["text"])
    reasons = reasons_by_text(items, preview(signals, semantic_recipe())["decisions"])
    assert sorted(reasons[text] for text in SAME_STORY) == ["", "semantic_duplicate", "semantic_duplicate"]
    assert all(reasons[text] == "" for text in UNRELATED)

    strict = preview(signals, semantic_recipe(0.99))
    assert strict["decisions"]["kept"].all()
    assert strict["funnel"][-1] == {"rule": "semantic_duplicate", "dropped": 0, "remaining": 6}
    assert len(embed_calls) == 1  # the threshold re-clusters the stored neighbours

    # A second computation of the same dataset reads the embeddings back: same neighbours, no encoder call.
    _, again = dataset_signals(as_supplier(), name, semantic_recipe())
    assert len(embed_calls) == 1
    assert again[NEIGHBOUR_IDS].map(list).tolist() == signals[NEIGHBOUR_IDS].map(list).tolist()
    assert again[NEIGHBOUR_SIMILARITIES].map(list).tolist() == signals[NEIGHBOUR_SIMILARITIES].map(list).tolist()


def test_neighbours_are_computed_only_for_recipes_holding_the_rule(workbench, embed_calls):
    _, signals = dataset_signals(as_supplier(), story_dataset(), parse_recipe({"name": "plain", "rules": []}))
    assert embed_calls == [] and NEIGHBOUR_IDS not in signals
    with pytest.raises(RecipeError, match="needs the semantic neighbours"):
        evaluate(signals, semantic_recipe())
    for shipped in default_recipe_names():  # opt-in: ~35x slower than the rest of refine
        recipe = default_recipe(shipped)
        assert "semantic_duplicates" not in {rule.kind for rule in recipe.rules}
        assert recipe.signal_params().semantic_duplicates is False
    assert semantic_recipe().signal_params().semantic_duplicates is True


def test_missing_packages_are_a_recipe_error_with_the_install_message(workbench, monkeypatch):
    def missing():
        raise semantic.SemanticDependencyMissing(semantic.MISSING_PACKAGE_MESSAGE)

    monkeypatch.setattr(semantic, "_encoder", missing)
    monkeypatch.setattr(semantic, "_index_class", missing)
    with pytest.raises(RecipeError) as raised:
        dataset_signals(as_supplier(), story_dataset(), semantic_recipe(), use_cache=False)
    assert str(raised.value) == semantic.MISSING_PACKAGE_MESSAGE


def test_body_round_trips_in_both_forms_and_bad_bodies_are_named():
    rule = parse_rule({"semantic_duplicates": 0.72}, 1)
    assert rule.threshold == 0.72 and rule.label == "semantic_duplicate"
    assert rule.to_dict() == {"semantic_duplicates": 0.72}
    assert parse_rule({"semantic_duplicates": {"threshold": 0.72}}, 1) == rule
    assert parse_rule(rule.model_dump(), 1) == rule
    recipe = parse_recipe({"name": "rt", "rules": [rule.to_dict()]})
    assert recipe_from_yaml(recipe.to_yaml()) == recipe
    [control] = rule.controls(None)
    assert (control.widget, control.low, control.high, control.step, control.value) == ("slider", 0.5, 0.95, 0.01,
                                                                                       0.72)
    assert parse_rule({"semantic_duplicates": rule.body_from_controls({"threshold": 0.72})}, 1) == rule
    assert parse_rule({"semantic_duplicates": 0.99}, 1).controls(None)[0].high == 0.99  # the slider can show it
    for body, problem in ((1.5, "within"), ("high", "must be a number"), ({}, "needs 'threshold'"),
                          ({"cosine": 0.7}, "unknown key")):
        with pytest.raises(RecipeError, match=rf"rule 1 \(semantic_duplicates\): .*{problem}"):
            parse_rule({"semantic_duplicates": body}, 1)
    with pytest.raises(RecipeError, match="at most one 'semantic_duplicates' rule"):
        parse_recipe({"name": "two", "rules": [{"semantic_duplicates": 0.7}, {"semantic_duplicates": 0.8}]})


def _refine_page_with_semantic_draft(name: str):
    """The Refine page on dataset `name`, its working recipe draft holding the semantic rule."""
    st.cache_data.clear()
    at = page_app("refine.py", role="supplier")
    base = semantic_recipe().to_dict()
    at.session_state["working_state"] = {"dataset": name, "recipe_draft": {
        "dataset": name, "base": base, "base_hash": semantic_recipe().hash, "recipe": base}}
    at.selectbox(key="ref_dataset").select(name).run()
    return at


def test_refine_page_draws_the_threshold_slider_and_it_changes_the_preview(workbench):
    name = story_dataset()
    dataset_signals(as_supplier(), name, semantic_recipe())
    at = _refine_page_with_semantic_draft(name)
    assert_no_exception(at)
    [slider] = [s for s in at.slider if s.label == SLIDER_LABEL]
    assert slider.value == 0.65
    assert at.metric[1].value.startswith("4 ")
    slider.set_value(0.95).run()
    assert_no_exception(at)
    assert not at.metric[1].value.startswith("4 ")


def test_refine_page_offers_to_compute_the_neighbours_a_loaded_recipe_needs(workbench):
    from core.refine.service import cached_signals
    from core.store import jobs

    name = story_dataset()
    dataset_signals(as_supplier(), name, parse_recipe({"name": "plain", "rules": []}))
    at = _refine_page_with_semantic_draft(name)
    assert_no_exception(at)
    assert any("needs the semantic neighbours" in str(e.value) for e in at.error)
    [compute] = [b for b in at.button if b.key == "ref_compute_for_recipe"]
    compute.click().run()
    job_id = at.session_state[f"ref_signals_job_{name}"]
    deadline = time.monotonic() + 120
    while (job := jobs.get_job(as_supplier(), job_id))["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert job["status"] == "succeeded", job
    assert NEIGHBOUR_IDS in cached_signals(as_supplier(), name)
    at.run()
    assert_no_exception(at)
    assert not [e for e in at.error if "needs the semantic neighbours" in str(e.value)]
    assert at.metric[1].value.startswith("4 ")  # the preview now runs: one of the three versions kept
