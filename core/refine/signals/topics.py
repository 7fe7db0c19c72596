"""Topic clusters across a whole dataset: TF-IDF + MiniBatchKMeans, labelled by each cluster's distinctive terms.

This is a cross-batch step (clusters only mean something over the whole set). It is built for 100,000
documents in seconds: each document contributes its opening `SAMPLE_CHARS` (title and lead say what it is
about), tokens come from a SeparatorTable and Arrow's split and dictionary encoding, and the term-document matrix
is built with numpy and scipy instead of a per-token Python loop. Mini-batch k-means is fitted on at most
`FIT_SAMPLE` documents and then assigns every document to the nearest centre (small sets use full k-means).

Labels are class-based TF-IDF terms (as BERTopic names topics): a term ranks high when many of the topic's
documents use it and few documents of other topics do. Terms on the full stop-word list of any language
the topic's documents are written in never appear in a label (the language is read off which short
function-word lists the documents hit, so an English "war" is not dropped as the German "war"), and two
label terms that mostly occur side by side in the topic's texts ("prime minister") are shown as one bigram.
"""

from __future__ import annotations

import functools
import math
import numbers
import re
import string

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from stop_words import LANGUAGE_MAPPING, get_stop_words

from core.refine.signals.separators import SeparatorTable
from core.refine.signals.stopwords import ALL_STOP_WORDS
from core.refine.signals.stopwords import STOP_WORDS as SHORT_STOP_WORDS

EMPTY_TOPIC = -1
EMPTY_LABEL = "(empty)"
SAMPLE_CHARS = 600
FIT_SAMPLE = 20_000
SMALL_SET = 1_000
MAX_TERMS = 20_000
LABEL_TERMS = 3
# Label candidates per topic, and how many of a topic's texts are read to find bigrams among them.
LABEL_CANDIDATES, BIGRAM_SAMPLE = 6, 200
# Two label terms become one bigram when "a b" occurs in this share of the sampled texts holding both.
BIGRAM_SHARE = 0.6
# A language's full stop list applies to a topic whose documents hit its short list at least this share
# as often as they hit the most-hit language's (mixed-language topics get every list they need).
LANGUAGE_EVIDENCE_SHARE = 0.3
# The languages read off a text: those with a short function-word list (core/refine/signals/stopwords.py).
EVIDENCE_LANGUAGES = tuple(SHORT_STOP_WORDS)
MIN_TOPICS, MAX_TOPICS = 2, 20

# scikit-learn's English list plus the function words of 25 web languages the quality signals use; terms
# in more than half of a large set are dropped as well (max_df), which catches what these lists miss.
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | ALL_STOP_WORDS

_PUNCTUATION = string.punctuation + string.digits + "«»“”„‘’‚‹›—–…·•¿¡、。，！？：；（）《》「」『』【】・"
# Unicode spaces become ASCII ones too, since the split below only knows ASCII whitespace.
_UNICODE_SPACES = "\u00a0\u2002\u2003\u2009\u3000"
_SPLIT_TABLE = SeparatorTable(spaces=_PUNCTUATION + _UNICODE_SPACES)
# Chinese and Japanese do not separate words with spaces: index them by overlapping character pairs.
_UNSPACED_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_DOCUMENT_MARKER = "\x01"  # survives lower() and translate(); removed from the texts themselves


@functools.lru_cache(maxsize=64)
def label_stop_words(language: str) -> frozenset[str]:
    """Every stop word known for `language`: the short list, the `stop-words` package's long list and, for
    English, scikit-learn's; apostrophe forms also split ("dell'" -> "dell") as the tokenizer splits them."""
    words = set(SHORT_STOP_WORDS.get(language, ()))
    if language in LANGUAGE_MAPPING:
        words.update(word.lower() for word in get_stop_words(language))
    if language == "en":
        words.update(ENGLISH_STOP_WORDS)
    words.update(part for word in list(words) for part in re.split(r"['’]", word) if part)
    return frozenset(words)


def topic_clusters(texts: pd.Series, n_topics: int | None = None,
                   seed: int = 0) -> tuple[pd.Series, dict[int, str]]:
    """Topic number per text (-1 for texts without usable words) and a readable label per topic.

    n_topics defaults to sqrt(n/2) clipped to 2..20 (and never above the number of distinct texts).
    The same texts and seed always give the same topics; topic 0 is the largest.
    """
    if n_topics is not None and (isinstance(n_topics, bool) or not isinstance(n_topics, numbers.Integral)
                                 or n_topics < 1):
        raise ValueError(f"n_topics must be a positive integer or None, got {n_topics!r}")
    topics = np.full(len(texts), EMPTY_TOPIC, dtype=np.int64)
    counts, terms, language_hits = term_counts(texts)
    weights = _tfidf(counts)
    has_terms = np.flatnonzero(weights.getnnz(axis=1) > 0)
    labels: dict[int, str] = {}
    if len(has_terms):
        weights = weights[has_terms]
        k = _topic_count(weights, n_topics)
        assignment = _cluster(weights, k, seed)
        assignment = _largest_first(assignment, k)
        labels = _labels(counts[has_terms], assignment, terms, language_hits[has_terms],
                         texts.iloc[has_terms].tolist())
        topics[has_terms] = assignment
    if (topics == EMPTY_TOPIC).any():
        labels[EMPTY_TOPIC] = EMPTY_LABEL
    return pd.Series(topics, index=texts.index, name="topic"), labels


def term_counts(texts: pd.Series) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Document x term counts over the texts' openings, stop words and non-words removed, the terms, and
    document x EVIDENCE_LANGUAGES counts of each language's short-list function words (language evidence).

    All openings are lower-cased and joined into one string with a marker token between documents, so
    punctuation stripping and splitting run once over the corpus; the markers' positions give each token's
    document.
    """
    n_docs = len(texts)
    # Lower-cased one opening at a time: str.lower is several times faster on an ASCII string than on one
    # that holds a single accented letter, and most openings are ASCII even when the corpus is not.
    samples = [_opening(text).replace(_DOCUMENT_MARKER, " ").lower() if isinstance(text, str) else ""
               for text in texts]
    samples = [_pair_unspaced_runs(sample) if not sample.isascii() else sample for sample in samples]
    corpus = f" {_DOCUMENT_MARKER} ".join(samples)
    # Arrow splits and dictionary-encodes the joined text in C++ without making a Python str per token
    # (about half the time of str.split + pandas.factorize on 100,000 documents).
    tokens = pc.ascii_split_whitespace(pa.array([_SPLIT_TABLE.apply(corpus)], type=pa.large_string()))
    encoded = pc.dictionary_encode(tokens.flatten())
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    vocabulary = encoded.dictionary.to_numpy(zero_copy_only=False).astype(object)
    is_marker = vocabulary == _DOCUMENT_MARKER
    marker_codes = np.flatnonzero(is_marker)
    # each marker ends a document: a running count of markers is every token's document number
    documents = np.cumsum(codes == marker_codes[0], dtype=np.int32) if len(marker_codes) else \
        np.zeros(len(codes), dtype=np.int32)
    keep = _usable_terms(vocabulary) & ~is_marker
    column_of_code = np.where(keep, np.cumsum(keep) - 1, -1).astype(np.int32)
    columns = column_of_code[codes]
    kept = columns >= 0
    ones = np.ones(int(kept.sum()), dtype=np.float32)
    counts = sp.csr_matrix((ones, (documents[kept], columns[kept])), shape=(n_docs, int(keep.sum())))
    counts.sum_duplicates()
    return counts, vocabulary[keep], _language_hits(codes, documents, vocabulary, n_docs)


def _language_hits(codes: np.ndarray, documents: np.ndarray, vocabulary: np.ndarray, n_docs: int) -> np.ndarray:
    """Per document, how many of its tokens are on each evidence language's short stop list."""
    hits = np.zeros((n_docs, len(EVIDENCE_LANGUAGES)), dtype=np.float32)
    terms = pd.Series(vocabulary, dtype=object)
    for column, language in enumerate(EVIDENCE_LANGUAGES):
        on_list = terms.isin(SHORT_STOP_WORDS[language]).to_numpy()
        if on_list.any():
            hits[:, column] = np.bincount(documents[on_list[codes]], minlength=n_docs)[:n_docs]
    return hits


def _opening(text: str) -> str:
    """The first SAMPLE_CHARS characters, cut at a space so no half word becomes a term."""
    if len(text) <= SAMPLE_CHARS:
        return text
    cut = text.rfind(" ", SAMPLE_CHARS // 2, SAMPLE_CHARS)
    return text[:cut] if cut > 0 else text[:SAMPLE_CHARS]


def _pair_unspaced_runs(sample: str) -> str:
    """Runs of Chinese or Japanese characters replaced by their overlapping character pairs."""
    if not _UNSPACED_RUN.search(sample):
        return sample
    return _UNSPACED_RUN.sub(lambda run: " " + _character_pairs(run.group()) + " ", sample)


def _character_pairs(run: str) -> str:
    return " ".join(run[i:i + 2] for i in range(len(run) - 1))


def _usable_terms(vocabulary: np.ndarray) -> np.ndarray:
    if not len(vocabulary):
        return np.zeros(0, dtype=bool)
    terms = pd.Series(vocabulary, dtype=object)
    return (terms.str.len().to_numpy() >= 2) & terms.str.contains(_HAS_LETTER).to_numpy(dtype=bool) & \
        ~terms.isin(STOP_WORDS).to_numpy()


def _tfidf(counts: sp.csr_matrix) -> sp.csr_matrix:
    """Sublinear tf x smoothed idf, rows L2-normalised, after dropping too rare and too common terms."""
    n_docs = counts.shape[0]
    document_frequency = np.bincount(counts.indices, minlength=counts.shape[1])
    min_df = 2 if n_docs >= 50 else 1  # a word seen once says nothing about a group, in a big set
    max_df = 0.5 * n_docs if n_docs >= 20 else n_docs  # nor does a word in half of all documents
    eligible = np.flatnonzero((document_frequency >= min_df) & (document_frequency <= max_df))
    if len(eligible) > MAX_TERMS:
        eligible = eligible[np.argsort(-document_frequency[eligible], kind="stable")[:MAX_TERMS]]
        eligible.sort()
    selector = np.zeros(counts.shape[1], dtype=np.float32)
    selector[eligible] = 1.0
    idf = (np.log((1 + n_docs) / (1 + document_frequency)) + 1).astype(np.float32) * selector
    weights = counts.copy()
    weights.data = (1 + np.log(weights.data)) * idf[weights.indices]
    weights.eliminate_zeros()
    norms = np.sqrt(np.asarray(weights.multiply(weights).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    return sp.csr_matrix(sp.diags(1 / norms) @ weights, dtype=np.float32)


def _topic_count(weights: sp.csr_matrix, requested: int | None) -> int:
    n_docs = weights.shape[0]
    k = int(requested) if requested else min(MAX_TOPICS, max(MIN_TOPICS, round(math.sqrt(n_docs / 2))))
    return max(1, min(k, _distinct_rows(weights)))


def _distinct_rows(weights: sp.csr_matrix, limit: int = MAX_TOPICS * 50) -> int:
    """How many different documents there are (counted up to `limit`): k-means cannot use more centres."""
    seen = set()
    for row in range(weights.shape[0]):
        start, end = weights.indptr[row], weights.indptr[row + 1]
        seen.add((weights.indices[start:end].tobytes(), weights.data[start:end].round(5).tobytes()))
        if len(seen) >= limit:
            break
    return len(seen)


def _cluster(weights: sp.csr_matrix, k: int, seed: int) -> np.ndarray:
    if k == 1:
        return np.zeros(weights.shape[0], dtype=np.int64)
    if weights.shape[0] <= SMALL_SET:
        # on a few hundred texts full k-means with several starts is instant and avoids the poor local
        # optima mini-batches fall into on tiny, nearly orthogonal inputs
        return KMeans(n_clusters=k, random_state=seed, n_init=10).fit_predict(weights).astype(np.int64)
    fit_rows = weights
    if weights.shape[0] > FIT_SAMPLE:
        chosen = np.random.default_rng(seed).choice(weights.shape[0], FIT_SAMPLE, replace=False)
        fit_rows = weights[np.sort(chosen)]
    model = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=2048, max_iter=50)
    model.fit(fit_rows)
    return model.predict(weights).astype(np.int64)


def _largest_first(assignment: np.ndarray, k: int) -> np.ndarray:
    """Topics renumbered by size, largest 0 (ties keep their order)."""
    sizes = np.bincount(assignment, minlength=k)
    used = [topic for topic in np.argsort(-sizes, kind="stable") if sizes[topic] > 0]
    renumber = np.full(k, EMPTY_TOPIC, dtype=np.int64)
    renumber[used] = np.arange(len(used))
    return renumber[assignment]


def class_tfidf(counts: sp.csr_matrix, assignment: np.ndarray) -> np.ndarray:
    """Topic x term class-based TF-IDF over document presence: a term's share of the topic's documents
    times log(1 + average documents per topic / documents using the term anywhere).

    Presence rather than raw counts, so one text repeating a word cannot name its topic.
    """
    n_topics = int(assignment.max()) + 1
    present = counts.copy()
    present.data = np.ones_like(present.data)
    membership = sp.csr_matrix((np.ones(len(assignment), dtype=np.float32), (assignment, np.arange(len(assignment)))),
                               shape=(n_topics, len(assignment)))
    topic_frequency = np.asarray((membership @ present).todense())
    sizes = np.bincount(assignment, minlength=n_topics).astype(np.float32)
    document_frequency = topic_frequency.sum(axis=0)
    idf = np.log1p(len(assignment) / n_topics / np.maximum(document_frequency, 1))
    return topic_frequency / np.maximum(sizes, 1)[:, None] * idf[None, :]


def _labels(counts: sp.csr_matrix, assignment: np.ndarray, terms: np.ndarray, language_hits: np.ndarray,
            texts: list) -> dict[int, str]:
    """A label per topic: its LABEL_TERMS most distinctive terms that are no stop word of its languages."""
    scores = class_tfidf(counts, assignment)
    labels: dict[int, str] = {}
    seen: dict[str, int] = {}
    for topic, row in enumerate(scores):
        members = np.flatnonzero(assignment == topic)
        stops = _topic_stop_words(language_hits[members].sum(axis=0))
        ranked = [str(terms[i]) for i in np.argsort(-row, kind="stable") if row[i] > 0]
        candidates = [term for term in ranked if term not in stops][:LABEL_CANDIDATES]
        label = " / ".join(_with_bigrams(candidates, [texts[i] for i in members[:BIGRAM_SAMPLE]])) or "(no terms)"
        seen[label] = seen.get(label, 0) + 1
        labels[topic] = label if seen[label] == 1 else f"{label} ({seen[label]})"
    return labels


def _topic_stop_words(hits: np.ndarray) -> frozenset[str]:
    if not hits.any():
        return frozenset()
    languages = [EVIDENCE_LANGUAGES[i] for i in np.flatnonzero(hits >= LANGUAGE_EVIDENCE_SHARE * hits.max())]
    return frozenset().union(*(label_stop_words(language) for language in languages))


def _with_bigrams(candidates: list[str], sample: list) -> list[str]:
    """The first LABEL_TERMS label parts from the ranked candidates, joining a candidate with a later one
    into "a b" when the sampled texts holding both mostly hold them side by side in that order."""
    openings = [_opening(text).lower() for text in sample if isinstance(text, str)]
    parts, used = [], set()
    for position, first in enumerate(candidates):
        if first in used:
            continue
        part = first
        for second in candidates[position + 1:]:
            if second not in used and _mostly_adjacent(first, second, openings):
                part = f"{first} {second}"
                used.add(second)
                break
        used.add(first)
        parts.append(part)
        if len(parts) == LABEL_TERMS:
            break
    return parts


def _mostly_adjacent(first: str, second: str, openings: list[str]) -> bool:
    both = [text for text in openings if first in text and second in text]
    if len(both) < 2:
        return False
    bigram = re.compile(rf"(?<!\w){re.escape(first)} +{re.escape(second)}(?!\w)")
    return sum(1 for text in both if bigram.search(text)) >= BIGRAM_SHARE * len(both)
