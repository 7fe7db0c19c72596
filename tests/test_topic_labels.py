"""Topic labels name what a topic is about: distinctive content words, never function words of its languages."""

from __future__ import annotations

import pandas as pd

from core.refine.signals.topics import label_stop_words, topic_clusters
from core.sources.demo_web.news import NewsSite
from core.sources.extract_article import extract_article


def demo_news() -> pd.DataFrame:
    site = NewsSite(seed=3, scale=0.4)  # 24 articles in six languages
    rows = []
    for article in site.articles():
        page = site.handle(article.path, {})
        rows.append({"text": extract_article(page.body, article.path)["text"], "language": article.language})
    return pd.DataFrame(rows)


def test_demo_news_labels_hold_no_stop_words_of_their_languages():
    news = demo_news()
    topics, labels = topic_clusters(news["text"], seed=0)
    assert len(labels) >= 2
    for topic, label in labels.items():
        languages = set(news.loc[topics == topic, "language"])
        stops = frozenset().union(*(label_stop_words(language) for language in languages))
        words = {word for part in label.split(" / ") for word in part.split()}
        assert words and not words & stops, (label, languages, words & stops)


def test_a_word_that_is_a_stop_word_only_elsewhere_stays_in_an_english_label():
    war = [f"The war in the north forced {n} families to flee as the army and the rebels fought for the "
           "town, and the war is not over." for n in range(8)]
    cooking = [f"Bake the bread for {n} minutes until the crust is golden, then let the loaf cool on a rack."
               for n in range(8)]
    topics, labels = topic_clusters(pd.Series(war + cooking), n_topics=2)
    assert "war" in labels[topics[0]].split(" / ")  # "war" is on the German stop list, not the English one


def test_words_that_stand_together_become_one_bigram():
    texts = [f"The prime minister met unions on day {n} of the strike over pensions and pay." for n in range(6)]
    texts += [f"The league final ended {n} to one after a late goal by the striker." for n in range(6)]
    topics, labels = topic_clusters(pd.Series(texts), n_topics=2)
    assert "prime minister" in labels[topics[0]].split(" / "), labels
