"""The learned quality model: trained on good/bad feedback (or on a run's decisions), used as a recipe signal."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest
from principals import as_supplier, new_user
from refine_fixtures import article_text, ingest_texts
from sqlmodel import select

from core.auth import PermissionDenied
from core.store.models import Dataset, Item, RefinementRecord
from core.store.sql import session_scope

SPAM = ["BUY cheap pills now, best price, click here", "WIN a free phone!!! click the link, limited offer",
        "cheap watches cheap bags cheap shoes order now", "Hot singles in your area, click now, free signup",
        "Make money fast from home, no experience, click here today"]


CITIES = ["Leeds", "Porto", "Graz", "Lyon", "Malmo", "Turin", "Ghent", "Cork", "Brno", "Bergen", "Kassel", "Split"]
THINGS = ["tram lines", "bike lanes", "schools", "bridges", "libraries", "parks", "clinics", "bus depots",
          "housing blocks", "sports halls", "water pipes", "street lights"]
TEMPLATES = [
    "The council of {city} approved {n} new {thing} after a long public consultation on {day}.",
    "Engineers in {city} said the first {thing} should open within {n} years if funding holds.",
    "Local businesses welcomed the plan for {thing} but asked for support during the {n} months of work.",
    "Critics argued that the budget of {n} million did not cover the upkeep of older {thing}.",
    "The regional government of {city} will pay half of the cost of the {thing}, a statement said on {day}.",
    "Residents can follow the progress on the {thing} through a website updated every {day}.",
    "A survey of {n} households found that most people in {city} use the {thing} every week.",
    "The opposition in {city} asked for an independent review of the {thing} before {day}.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


def _article(i: int) -> str:
    """A distinct, readable article (no two are near duplicates of each other)."""
    rng = np.random.default_rng(i)
    sentences = [TEMPLATES[k].format(city=rng.choice(CITIES), thing=rng.choice(THINGS), day=rng.choice(DAYS),
                                     n=int(rng.integers(2, 900))) for k in rng.permutation(len(TEMPLATES))]
    return f"Report {i} from {rng.choice(CITIES)}. " + " ".join(sentences)


def _spam(i: int) -> str:
    return f"{SPAM[i % len(SPAM)]} offer {i} " * (3 + i % 4)


def _items(dataset: str) -> pd.DataFrame:
    with session_scope() as session:
        dataset_id = session.exec(select(Dataset.id).where(Dataset.name == dataset)).one()
        rows = session.exec(select(Item.id, Item.raw_id, Item.text).where(Item.dataset_id == dataset_id)).all()
    return pd.DataFrame(rows, columns=["item_id", "raw_id", "text"])


@pytest.fixture(scope="module")
def labelled(workbench):
    """40 articles labelled good and 40 spam texts labelled bad in the Raw Explorer."""
    from core import explore
    from ml.quality_model import train_quality_model

    name = f"qm-{uuid.uuid4().hex[:8]}"
    ingest_texts(name, [_article(i) for i in range(40)] + [_spam(i) for i in range(40)])
    items = _items(name)
    good = items[items["text"].str.startswith("Report ")]["raw_id"].tolist()
    bad = items[~items["text"].str.startswith("Report ")]["raw_id"].tolist()
    owner = as_supplier()
    explore.label_records(owner, "uploads", good, "good")
    explore.label_records(owner, "uploads", bad, "bad")
    result = train_quality_model(owner, name)
    return {"name": name, "items": items, "result": result, "good": set(good), "bad": set(bad)}


def test_trains_from_feedback_labels_and_registers_per_dataset(labelled):
    from ml import registry

    result, name = labelled["result"], labelled["name"]
    assert result["model"] == f"quality-{name}" and result["aliases"] == ["champion"]
    assert result["labels"]["label_source"] == "feedback"
    assert result["labels"]["feedback_good"] == 40 and result["labels"]["feedback_bad"] == 40
    assert result["metrics"]["accuracy"] >= 0.9
    version = registry.get_version(as_supplier(), result["model"])
    assert version["lineage"]["dataset"] == name and version["lineage"]["label_source"] == "feedback"
    assert "confusion_matrix" in registry.version_figures(as_supplier(), result["model"])


def test_learned_quality_signal_is_graded_and_separates_the_labels(labelled):
    from core.refine.service import dataset_signals

    items, signals = dataset_signals(as_supplier(), labelled["name"])
    scores = pd.to_numeric(signals["learned_quality"])
    assert scores.between(0, 1).all()
    assert scores.nunique() > 20  # graded, not 0/1
    assert not scores.round(3).isin([0.0, 1.0]).all()
    raw_of = dict(zip(labelled["items"]["item_id"].astype(str), labelled["items"]["raw_id"], strict=True))
    is_good = signals["id"].map(raw_of).isin(labelled["good"])
    assert scores[is_good].mean() > 0.7 > 0.3 > scores[~is_good].mean()


def test_a_recipe_rule_on_learned_quality_drops_items_with_a_reason(labelled):
    from core.refine.recipe import default_recipe
    from core.refine.service import refine_dataset

    recipe = default_recipe("uploads").to_dict()
    recipe["rules"].insert(1, {"threshold": {"column": "learned_quality", "min": 0.5}})
    summary = refine_dataset(as_supplier(), labelled["name"], recipe)
    with session_scope() as session:
        records = session.exec(select(Item.raw_id, RefinementRecord.drop_reason)
                               .join(Item, Item.id == RefinementRecord.item_id)
                               .where(RefinementRecord.run_id == summary["run_id"])).all()
    dropped = {raw_id for raw_id, reason in records if reason == "min_learned_quality<0.5"}
    assert len(dropped) >= 30 and dropped <= labelled["bad"]  # the spam goes, no article is dropped by it
    assert summary["counts"]["dropped_by_rule"]["min_learned_quality<0.5"] == len(dropped)
    assert summary["counts"]["kept"] >= 35  # the articles stay


def test_without_a_model_the_signals_and_default_recipe_are_unchanged(workbench):
    from core.refine.service import dataset_signals, recipe_for

    name = f"qm-none-{uuid.uuid4().hex[:6]}"
    ingest_texts(name, [article_text(i) for i in range(5)])
    _, signals = dataset_signals(as_supplier(), name)
    assert "learned_quality" not in signals.columns
    assert all(rule.column != "learned_quality" for rule in recipe_for("uploads").rules)


def test_falls_back_to_weak_labels_from_the_latest_run(workbench):
    from core import explore
    from core.refine.recipe import default_recipe
    from core.refine.service import dataset_signals, refine_dataset
    from ml.quality_model import train_quality_model, weak_labels

    name = f"qm-weak-{uuid.uuid4().hex[:6]}"
    junk = [f"404 page {i} not found" for i in range(8)] + [_spam(i) for i in range(8)]
    ingest_texts(name, [_article(i) for i in range(30)] + junk + [_article(3) + " Again."])
    owner = as_supplier()
    summary = refine_dataset(owner, name, default_recipe("text"))
    with session_scope() as session:
        records = session.exec(select(RefinementRecord.item_id, RefinementRecord.kept, RefinementRecord.drop_reason)
                               .where(RefinementRecord.run_id == summary["run_id"])).all()
    labels, run_id = weak_labels(owner, name)
    assert run_id == summary["run_id"]
    duplicates = {item for item, kept, reason in records if reason == "duplicate"}
    assert duplicates and not duplicates & set(labels)  # a duplicate drop says nothing about quality
    assert {labels[item] for item, kept, _ in records if kept} == {"good"}
    assert list(labels.values()).count("bad") >= 8

    items = _items(name)
    explore.label_records(owner, "uploads", items["raw_id"].head(2).tolist(), "good")  # a little feedback
    result = train_quality_model(owner, name)
    info = result["labels"]
    assert info["label_source"] == "feedback+weak" and info["run_id"] == summary["run_id"]
    assert info["feedback_good"] == 2 and info["weak_bad"] >= 8
    _, signals = dataset_signals(owner, name)
    scores = pd.to_numeric(signals["learned_quality"])
    assert scores.nunique() > 10 and np.isfinite(scores).all()


def test_weak_label_rules():
    from ml.quality_model import weak_label

    assert weak_label(True, "") == "good"
    assert weak_label(False, "min_quality<0.6") == "bad"
    assert weak_label(False, "min_length<200") == "bad"
    assert weak_label(False, "content_type=boilerplate") == "bad"
    for reason in ("duplicate", "pii_found", "language_not_allowed", "signal_error", "min_learned_quality<0.5"):
        assert weak_label(False, reason) is None


def test_too_few_labels_and_other_suppliers_are_refused(workbench, labelled):
    from ml.quality_model import QualityModelError, train_quality_model

    name = f"qm-few-{uuid.uuid4().hex[:6]}"
    ingest_texts(name, [article_text(i) for i in range(5)])
    with pytest.raises(QualityModelError, match="needs at least"):
        train_quality_model(as_supplier(), name)
    for outsider in (new_user("supplier"), new_user("buyer"), None):
        with pytest.raises(PermissionDenied):
            train_quality_model(outsider, labelled["name"])
