"""Words, stop words and stems for every language the news app reads, shipped in packages (no downloads).

Stop words come from the `stop-words` package (33 languages) merged with the refinery's own short lists
(core/refine/signals/stopwords.py) and scikit-learn's English list; a word is a "content word" when it is
not a stop word, has a letter and is at least two characters long. Words are compared unstemmed: on the
summary benchmark a prefix cut and the Snowball stemmer both made sentence similarity worse (they merge
"states"/"statement"), and an unstemmed match is also what a reader sees as "the same word".

Two strengths of stop list: `stop_words` (grammatical function words only; for similarity, where words
such as "said" still tell sentences apart) and `label_stop_words` (adds news-wire filler such as "said",
"year", "people", never wanted in a topic label).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from stop_words import LANGUAGE_MAPPING, get_stop_words

from core.refine.signals.stopwords import STOP_WORDS as REFINERY_STOP_WORDS

WORD = re.compile(r"[^\W_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_HAS_LETTER = re.compile(r"[^\W\d_]")

# News-wire filler that says nothing about a topic in any article ("said", "year"): kept apart from
# grammatical stop words so sentiment and bias code can still see them.
_NEWS_FILLER = {
    "en": "said says say told according also would could one two new year years last first mr mrs ms "
          "week weeks month months day days time people many much just like get got make made",
    "de": "sagte sagt sagten laut jahr jahre jahren neue neuen prozent mehr heute gestern woche",
    "fr": "a dit selon année ans nouvelle nouveau plus aujourd hier semaine",
    "es": "dijo según año años nuevo nueva más hoy ayer semana",
    "it": "ha detto secondo anno anni nuovo nuova più oggi ieri settimana",
    "nl": "zei volgens jaar jaren nieuwe meer vandaag gisteren week",
}


@functools.lru_cache(maxsize=64)
def stop_words(language: str | None) -> frozenset[str]:
    """Function words of `language` (ISO 639-1), or of English when unknown; always lower-case."""
    language = (language or "en").lower()[:2]
    words: set[str] = set(REFINERY_STOP_WORDS.get(language, ()))
    if language in LANGUAGE_MAPPING:
        words.update(w.lower() for w in get_stop_words(language))
    if language == "en":
        # scikit-learn's list alone: the longer `stop-words` English list drops words that carry content
        # in news ("million", "state"), which measurably hurt summaries
        words = set(ENGLISH_STOP_WORDS)
    elif not words:
        words.update(ENGLISH_STOP_WORDS)
    # apostrophe forms ("don't") also appear split by the tokenizer
    words.update(part for w in list(words) for part in re.split(r"['’]", w) if part)
    return frozenset(words)


@functools.lru_cache(maxsize=64)
def label_stop_words(language: str | None) -> frozenset[str]:
    """Words never used in a topic label: function words (long lists) plus news-wire filler."""
    language = (language or "en").lower()[:2]
    extra = set(_NEWS_FILLER.get(language, "").split())
    if language in LANGUAGE_MAPPING:
        extra.update(w.lower() for w in get_stop_words(language))
    extra.update(part for w in list(extra) for part in re.split(r"['’]", w) if part)
    return stop_words(language) | extra


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


def content_words(text: str, language: str | None = "en", stops: frozenset[str] | None = None) -> list[str]:
    stops = stop_words(language) if stops is None else stops
    return [w for w in words(text) if len(w) >= 2 and w not in stops and _HAS_LETTER.search(w)]


def sublinear_tfidf(tokens: list[list[str]], index: dict[str, int]) -> np.ndarray:
    """Rows of L2-normalised TF-IDF (1 + log tf, smoothed idf) over the columns `index` gives each word.

    The caller chooses the column order (first seen for sentences, sorted for topic groups)."""
    matrix = np.zeros((len(tokens), max(1, len(index))))
    for row, words in enumerate(tokens):
        for word, count in Counter(words).items():
            matrix[row, index[word]] = 1.0 + math.log(count)
    df = (matrix > 0).sum(axis=0)
    matrix *= np.log((1 + len(tokens)) / (1 + df)) + 1.0
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms
