"""ML Lab predictions flow back to the application pages: the News article table and view, the Raw Explorer's
record view. Only the dataset's owner (and admins) see them."""

from __future__ import annotations

import json
import uuid

import pandas as pd
import pytest
from apptest_helpers import assert_no_exception, page_app
from conftest import PROJECT_ROOT
from ml_fixtures import FAST_BUDGET_S
from principals import as_admin, as_supplier, new_user
from streamlit.testing.v1 import AppTest

from core import explore, tenancy
from core.apps.news import service as news

WORDS = {"sport": "The team won the football match after a late goal, and the coach praised the players.",
         "business": "The company reported higher profits as shares rose and the bank raised its forecast."}


def _labelled_news_dataset(n: int = 24) -> str:
    """A supplier's uploaded articles with a `section` field, a finished run keeping them all, and analysed."""
    from core.refine import runs
    from core.sources.ingest import ingest_upload

    name = f"pred-{uuid.uuid4().hex[:8]}"
    rows = [{"id": i, "title": f"Article {i}", "section": section, "text": f"Article {i}. {WORDS[section]} " * 3}
            for i in range(n) for section in [("sport", "business")[i % 2]]]
    ingest_upload(as_supplier(), "articles.jsonl", "\n".join(json.dumps(r) for r in rows).encode(), app="uploads",
                  dataset=name, license="CC-BY-4.0", origin="enterprise", attested=True)
    dataset = tenancy.dataset_for(as_supplier(), name)
    items = runs.load_items(dataset["id"])
    signals = pd.DataFrame({"id": items["id"], "quality": 0.9, "language": "en", "duplicate_cluster": items["id"],
                            "pii_count": 0, "topic_label": "news"})
    decisions = pd.DataFrame({"id": items["id"], "kept": True, "drop_reason": ""})
    run_id = runs.start_run(dataset["id"], {"rules": []}, "pred00000000", None, None)
    runs.finish_run(run_id, name, items, signals, decisions, [], {"total_s": 0.1}, items["text"])
    news.analyze_dataset(as_supplier(), name, use_openai=False)
    return name


@pytest.fixture(scope="module")
def scored(workbench):
    """The dataset, and the model that scored it (a section classifier trained on the dataset itself)."""
    from ml.jobs import train_and_register
    from ml.predict import score_dataset

    name = _labelled_news_dataset()
    model = f"{name}-section"
    trained = train_and_register(as_supplier(), f"dataset:{name}", "section", model, time_budget_s=FAST_BUDGET_S)
    result = score_dataset(as_supplier(), name, model)
    assert result["rows"] == 24 and result["version"] == trained["version"] == 1
    return name, model


def _news_page(principal, dataset: str) -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "news.py"), default_timeout=120)
    at.session_state["auth_user"] = principal.as_dict()
    at.session_state["news_dataset"] = dataset
    at.run()
    return at


def test_news_page_shows_the_model_prediction_in_the_table_and_the_article(scored):
    dataset, model = scored
    at = _news_page(as_supplier(), dataset)
    assert_no_exception(at)
    table = next(frame.value for frame in at.dataframe if "title" in frame.value.columns)
    assert "model_prediction" in table.columns
    predicted = table["model_prediction"].tolist()
    assert all(p.startswith(f"{model} v1: ") and p.endswith("%)") for p in predicted), predicted[:3]
    # The classifier learnt the sections: each article shows its own section.
    for title, prediction in zip(table["title"], predicted, strict=True):
        number = int(str(title).split()[-1])
        assert f": {('sport', 'business')[number % 2]} (" in prediction, (title, prediction)
    # The article view names model, version, prediction and probability.
    lines = [m.value for m in at.markdown if m.value.startswith("**Model prediction:**")]
    assert len(lines) == 1 and model.replace("-", "\\-") in lines[0] and "v1" in lines[0] and "%" in lines[0]


def test_news_page_without_predictions_has_no_prediction_column(workbench):
    dataset = _labelled_news_dataset(n=4)
    at = _news_page(as_supplier(), dataset)
    assert_no_exception(at)
    table = next(frame.value for frame in at.dataframe if "title" in frame.value.columns)
    assert "model_prediction" not in table.columns
    assert not [m.value for m in at.markdown if m.value.startswith("**Model prediction:**")]


def test_raw_explorer_record_view_shows_its_predictions(scored):
    import streamlit as st

    dataset, model = scored
    st.cache_data.clear()
    at = page_app("raw_explorer.py", role="supplier", timeout=120)
    at.selectbox(key="rawx_app").select("uploads").run()
    source = next(s for s in at.selectbox(key="rawx_source").options if dataset in s)
    at.selectbox(key="rawx_source").select(source).run()
    assert_no_exception(at)
    at.session_state[at.session_state["rawx_table_key"]] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert_no_exception(at)
    lines = [m.value for m in at.markdown if m.value.startswith("**Model prediction:**")]
    assert len(lines) == 1 and "v1" in lines[0] and ("sport" in lines[0] or "business" in lines[0]), lines
    assert any(list(frame.value.columns)[:3] == ["model", "version", "prediction"] for frame in at.dataframe)


def test_predictions_are_the_owners_only(scored):
    dataset, model = scored
    owner, other = as_supplier(), new_user("supplier")
    articles = news.analysed_articles(owner, dataset)
    item_ids = [a["item_id"] for a in articles]
    raw_id = articles[0]["raw_id"]
    assert len(news.item_predictions(owner, item_ids)) == len(item_ids)
    assert len(news.item_predictions(as_admin(), item_ids)) == len(item_ids)
    assert explore.record_predictions(owner, "uploads", raw_id)[0]["model_name"] == model
    assert explore.record_detail(owner, "uploads", raw_id)["predictions"][0]["model_version"] == 1
    # Another supplier who knows the ids sees nothing, through any door.
    assert news.item_predictions(other, item_ids) == {}
    assert all("model_prediction" not in a for a in news.with_predictions(other, articles))
    assert explore.record_predictions(other, "uploads", raw_id) == []
    assert explore.record_detail(other, "uploads", raw_id) is None
    with pytest.raises(tenancy.NotFoundOrDenied):
        news.article_detail(other, articles[0]["id"])
    # ...and their News page does not list the owner's dataset at all.
    at = _news_page(other, dataset)
    assert_no_exception(at)
    assert not any("title" in frame.value.columns for frame in at.dataframe)


def test_scored_items_reach_the_model_under_their_training_names():
    """A field named like a run's signal column (`language`) is `fields.language` in the training table; the
    items being scored have no signal columns, so the same field arrives as plain `language`."""
    from ml.predict import _aligned

    frame = pd.DataFrame({"text": ["a", "b"], "language": ["en", "de"]})
    aligned = _aligned(frame, ["text", "fields.language"])
    assert aligned["fields.language"].tolist() == ["en", "de"] and "fields.language" not in frame.columns
    assert _aligned(frame, ["text"]) is frame
