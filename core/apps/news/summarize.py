"""Local extractive summaries: pick the sentences that best carry what the article is about.

Baseline (`textrank_summary`): the textbook method: TF-IDF cosine similarity between sentences, PageRank
over that graph with a position prior as the personalisation vector (earlier sentences get more restart
mass), top-N sentences in reading order.

Ours (`summarize`, "salience"): two views of salience averaged, each scaled to its maximum:
- graph centrality with the original TextRank similarity (shared content words divided by
  log|Si| + log|Sj|, Mihalcea & Tarau 2004), which, unlike cosine over TF-IDF, does not reward short
  sentences for being short; no position prior inside the graph (on news it pulled in short lead sentences);
- centroid salience (Radev et al.): cosine between each sentence's TF-IDF vector and the article's
  centroid, which finds the sentences that state the article's main content words;
- then a light additive lead prior (POSITION_WEIGHT / (position + 1)) that only breaks near-ties.
Tried and dropped (bench on both halves of summaries-dev): MMR redundancy control (lambda 0.1 to 0.3:
flat or worse, news sentences rarely repeat each other), length rewards and penalties (|S|^a for
a in -0.5..1: worse except a tiny penalty, which helped one half and hurt the other).
Words are unstemmed lower-case content words (stop words per language removed). Nothing is learned from
reference summaries; the benchmark (bench/bench_news_summaries.py) prints both methods on split halves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.apps.news.sentences import Sentence, sentence_spans
from core.apps.news.textstats import content_words, sublinear_tfidf

METHOD_LOCAL = "local-salience-v2"
# News puts its point first: a small additive bonus for early sentences breaks near-ties between equally
# central sentences in favour of the lead. Weighted 0.1 against two scores scaled to 1 it never outvotes
# centrality (0.3 and a PageRank-personalised prior pulled in short lead sentences and scored worse).
POSITION_WEIGHT = 0.1
METHOD_TEXTRANK = "textrank-position"
DEFAULT_RATIO = 0.25
DEFAULT_MAX = 5


@dataclass
class Summary:
    sentences: list[str]
    indices: list[int]  # positions in the article's sentence list (reading order)
    spans: list[tuple[int, int]]  # character offsets in the original text
    method: str
    title: str | None = None
    meta: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(self.sentences)

    def as_dict(self) -> dict:
        return {"sentences": self.sentences, "indices": self.indices, "spans": [list(s) for s in self.spans],
                "method": self.method, "title": self.title, **({"meta": self.meta} if self.meta else {})}


def default_sentence_count(available: int) -> int:
    return max(1, min(DEFAULT_MAX, round(available * DEFAULT_RATIO)))


def article_parts(text: str) -> tuple[str | None, list[Sentence]]:
    """The headline (a short first paragraph without end punctuation) and the body sentences."""
    spans = sentence_spans(text)
    if len(spans) > 1 and spans[0].paragraph == 0 and spans[1].paragraph > 0:
        first = spans[0].text
        if len(first.split()) <= 20 and not first.rstrip().endswith((".", "!", "?", "。")):
            return first, spans[1:]
    return None, spans


def summarize(text: str, n_sentences: int | None = None, language: str | None = "en") -> Summary:
    """The local summary of `text`: `n_sentences` sentences (default: a quarter, 1..5) in reading order."""
    title, body = article_parts(text)
    if not body:
        return Summary([], [], [], METHOD_LOCAL, title)
    n = _count(n_sentences, len(body))
    tokens = [content_words(s.text, language) for s in body]
    scores = salience_scores(tokens)
    chosen = sorted(np.argsort(-scores, kind="stable")[:n].tolist())
    return _summary(body, chosen, METHOD_LOCAL, title, offset=1 if title else 0)


def salience_scores(tokens: list[list[str]]) -> np.ndarray:
    """Per sentence: overlap-TextRank centrality plus centroid similarity, each scaled to max 1, plus a
    light lead prior `POSITION_WEIGHT / (position + 1)`."""
    prior = POSITION_WEIGHT / (np.arange(len(tokens)) + 1.0)
    return _scaled(overlap_textrank(tokens)) + _scaled(centroid_similarity(tokens)) + prior


def textrank_summary(text: str, n_sentences: int | None = None, language: str | None = "en",
                     damping: float = 0.85) -> Summary:
    """The baseline: PageRank over TF-IDF sentence similarity, personalised by a 1/(position+1) prior."""
    title, body = article_parts(text)
    if not body:
        return Summary([], [], [], METHOD_TEXTRANK, title)
    n = _count(n_sentences, len(body))
    vectors = _tfidf([content_words(s.text, language) for s in body])
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, 0.0)
    prior = 1.0 / (np.arange(len(body)) + 1.0)
    scores = _pagerank(similarity, prior / prior.sum(), damping)
    chosen = sorted(np.argsort(-scores, kind="stable")[:n].tolist())
    return _summary(body, chosen, METHOD_TEXTRANK, title, offset=1 if title else 0)


def overlap_textrank(tokens: list[list[str]], damping: float = 0.85) -> np.ndarray:
    """PageRank over shared-word counts normalised by log sentence lengths (sentences of < 2 words: no edges)."""
    presence, _ = _presence(tokens)
    sizes = presence.sum(axis=1)
    shared = presence @ presence.T
    logs = np.log(np.maximum(sizes, 1.0))
    denominator = logs[:, None] + logs[None, :]
    similarity = np.divide(shared, denominator, out=np.zeros_like(shared), where=denominator > 0)
    usable = sizes >= 2
    similarity *= usable[:, None] & usable[None, :]
    np.fill_diagonal(similarity, 0.0)
    n = len(tokens)
    return _pagerank(similarity, np.full(n, 1.0 / n), damping)


def centroid_similarity(tokens: list[list[str]]) -> np.ndarray:
    vectors = _tfidf(tokens)
    centroid = vectors.sum(axis=0)
    norm = np.linalg.norm(centroid)
    return vectors @ (centroid / norm) if norm else np.zeros(len(tokens))


# -- shared helpers -------------------------------------------------------------------------------
def _count(requested: int | None, available: int) -> int:
    if requested is None:
        return default_sentence_count(available)
    return max(0, min(int(requested), available))


def _summary(body: list[Sentence], chosen: list[int], method: str, title: str | None, offset: int) -> Summary:
    return Summary(sentences=[body[i].text for i in chosen], indices=[i + offset for i in chosen],
                   spans=[(body[i].start, body[i].end) for i in chosen], method=method, title=title)


def _scaled(scores: np.ndarray) -> np.ndarray:
    top = scores.max() if len(scores) else 0.0
    return scores / top if top > 0 else scores


def _presence(tokens: list[list[str]]) -> tuple[np.ndarray, dict[str, int]]:
    vocabulary: dict[str, int] = {}
    for sentence in tokens:
        for word in sentence:
            vocabulary.setdefault(word, len(vocabulary))
    presence = np.zeros((len(tokens), max(1, len(vocabulary))))
    for row, sentence in enumerate(tokens):
        presence[row, [vocabulary[w] for w in set(sentence)]] = 1.0
    return presence, vocabulary


def _tfidf(tokens: list[list[str]]) -> np.ndarray:
    _, vocabulary = _presence(tokens)
    return sublinear_tfidf(tokens, vocabulary)


def _pagerank(similarity: np.ndarray, prior: np.ndarray, damping: float, iterations: int = 100) -> np.ndarray:
    n = len(similarity)
    out = similarity.sum(axis=1, keepdims=True)
    transition = np.divide(similarity, out, out=np.zeros_like(similarity), where=out > 0)
    dangling = (out.ravel() == 0)
    scores = np.full(n, 1.0 / n)
    for _ in range(iterations):
        updated = (1 - damping) * prior + damping * (scores @ transition + scores[dangling].sum() * prior)
        if np.abs(updated - scores).sum() < 1e-9:
            return updated
        scores = updated
    return scores
