"""Topic clusters: separable themes, readable labels, determinism, tiny and empty inputs, other scripts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.refine.signals.topics import EMPTY_LABEL, EMPTY_TOPIC, topic_clusters

THEME_WORDS = {
    "energy": "solar grid energy power wind turbine electricity battery renewable panels",
    "football": "football match goal league striker coach season stadium referee penalty",
    "housing": "apartment rent mortgage housing landlord tenants property buyers lease deposit",
    "health": "hospital patients doctors vaccine clinic treatment nurses disease virus surgery",
}
THEMES = {theme: words.split() for theme, words in THEME_WORDS.items()}
FILLER_WORDS = "the city said on monday that officials would review plans after a report showed new figures"
FILLER = FILLER_WORDS.split()


def themed_corpus(per_theme: int, seed: int = 0) -> tuple[pd.Series, list[str]]:
    """Short news-like texts, each mostly filler plus words of one theme; returns texts and true themes."""
    rng = np.random.default_rng(seed)
    names = list(THEMES)
    texts, truth = [], []
    for i in range(per_theme * len(names)):
        theme = names[i % len(names)]
        words = list(rng.choice(THEMES[theme], 10)) + list(rng.choice(FILLER, 20))
        rng.shuffle(words)
        texts.append(" ".join(words).capitalize() + ".")
        truth.append(theme)
    return pd.Series(texts, index=[f"doc-{i}" for i in range(len(texts))]), truth


def test_separable_themes_become_one_topic_each_with_readable_labels():
    texts, truth = themed_corpus(per_theme=40)
    topics, labels = topic_clusters(texts, n_topics=4)
    table = pd.crosstab(pd.Series(truth, index=texts.index), topics)
    assert (table.max(axis=1) == 40).all(), table  # every theme lands whole in one topic
    assert table.shape == (4, 4)
    for topic, label in labels.items():
        terms = label.split(" / ")
        assert len(terms) == 3
        members_theme = pd.Series(truth, index=texts.index)[topics == topic].iloc[0]
        assert set(terms) <= set(THEMES[members_theme])  # labels name the theme, never the filler


def test_same_seed_gives_the_same_topics_and_labels():
    texts, _ = themed_corpus(per_theme=30)
    first = topic_clusters(texts, seed=7)
    second = topic_clusters(texts, seed=7)
    assert first[0].equals(second[0])
    assert first[1] == second[1]


def test_default_topic_count_follows_sqrt_half_n_clipped():
    texts, _ = themed_corpus(per_theme=50)  # 200 texts -> sqrt(100) = 10 topics
    topics, labels = topic_clusters(texts)
    assert topics.nunique() == 10
    assert set(labels) == set(range(10))
    few, _ = themed_corpus(per_theme=2)  # 8 texts -> sqrt(4) = 2
    assert topic_clusters(few)[0].nunique() == 2


def test_topic_zero_is_the_largest():
    texts, _ = themed_corpus(per_theme=20)
    energy_heavy = pd.concat([texts, themed_corpus(per_theme=20, seed=1)[0].iloc[::4]], ignore_index=True)
    topics, _ = topic_clusters(energy_heavy, n_topics=4)
    sizes = topics.value_counts()
    assert sizes.idxmax() == 0
    assert list(sizes.sort_index()) == sorted(sizes, reverse=True)


def test_empty_input():
    topics, labels = topic_clusters(pd.Series([], dtype=object))
    assert topics.empty and labels == {}


def test_one_and_two_documents():
    topics, labels = topic_clusters(pd.Series(["Solar panels feed the power grid"], index=["only"]))
    assert topics.to_dict() == {"only": 0}
    assert labels == {0: "solar / panels / feed"}
    topics, labels = topic_clusters(pd.Series(["solar power grid", "football match goal"]))
    assert sorted(topics) == [0, 1]
    assert sorted(labels.values()) == ["football / match / goal", "solar / power / grid"]


def test_empty_texts_get_the_empty_topic():
    texts = pd.Series(["solar power grid", "", None, "   ", "😀 123 !!!", "the and of", "wind power grid"])
    topics, labels = topic_clusters(texts, n_topics=2)
    assert topics.tolist()[1:6] == [EMPTY_TOPIC] * 5  # blank, missing, no words, only stop words
    assert labels[EMPTY_TOPIC] == EMPTY_LABEL
    assert topics[0] >= 0 and topics[6] >= 0
    assert all("power" in labels[topics[i]] for i in (0, 6))


def test_numpy_integer_topic_count_is_accepted():
    texts = pd.Series(["solar power", "football match", "rent deposit"])
    topics, _ = topic_clusters(texts, n_topics=np.int64(3))
    assert topics.nunique() == 3


def test_more_topics_than_distinct_texts_is_clipped():
    topics, labels = topic_clusters(pd.Series(["solar power"] * 5 + ["football match"] * 5), n_topics=8)
    assert topics.nunique() == 2
    assert len(labels) == 2


@pytest.mark.parametrize("bad", [0, -3, 2.5, "4", True])
def test_invalid_topic_count_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="n_topics"):
        topic_clusters(pd.Series(["a text"]), n_topics=bad)


def test_stop_words_of_other_languages_stay_out_of_labels():
    german = ["Die Regierung und der Bundestag beschließen das neue Gesetz für die Energie"] * 3
    french = ["Le match de football et la victoire de la équipe dans le stade"] * 3
    _, labels = topic_clusters(pd.Series(german + french), n_topics=2)
    terms = {term for label in labels.values() for term in label.split(" / ")}
    assert not terms & {"die", "der", "und", "das", "le", "la", "de", "et"}


def test_chinese_texts_cluster_by_character_pairs():
    texts = pd.Series(["太阳能发电站并网发电", "太阳能电池板发电", "足球比赛进球", "足球联赛比赛"])
    topics, labels = topic_clusters(texts, n_topics=2)
    assert topics[0] == topics[1] != topics[2] == topics[3]
    assert "发电" in labels[topics[0]] and "比赛" in labels[topics[2]]


def test_mixed_scripts_and_a_huge_repeated_text():
    huge = "Solar panels feed the regional power grid every sunny day.\n" * 90_000  # about 5 MB
    texts = pd.Series([huge, "Футбольный матч и гол в финале", "solar grid power", "Футбольный матч финал",
                       "今天北京足球比赛"])
    topics, labels = topic_clusters(texts, n_topics=3)
    assert topics[0] == topics[2] and topics[1] == topics[3]
    assert len({topics[0], topics[1], topics[4]}) == 3
    assert "матч" in labels[topics[1]]
    assert all(len(term) == 2 and term in texts[4] for term in labels[topics[4]].split(" / "))
    assert "pane" not in " ".join(labels.values())  # the sample is cut at a space, not inside "panels"


def test_index_and_name_are_kept():
    texts = pd.Series(["solar power grid", "football match goal"], index=[101, 205])
    topics, _ = topic_clusters(texts)
    assert list(topics.index) == [101, 205]
    assert topics.name == "topic" and topics.dtype == "int64"
