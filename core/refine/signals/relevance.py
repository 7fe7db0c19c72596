"""Relevance: TF-IDF cosine similarity of each text to the dataset's topic (keywords and/or example texts).

Documents are hashed into a fixed feature space (scikit-learn's HashingVectorizer), so a batch needs no
fitted vocabulary and gives the same numbers whichever batch or process an item lands in. The IDF is
learnt from the topic's own example texts: words that every example uses say little about the topic.
Without a topic, relevance is neutral (1.0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

from core.refine.signals.stopwords import ALL_STOP_WORDS

# A text about the topic shares a fraction of its vocabulary with it, never all of it: a cosine of
# 0.2 between a 3 KB article and a topic profile is already a clear match.
FULL_RELEVANCE_SIMILARITY = 0.2
# Naming this many of the topic's keywords is full relevance too (fewer when fewer are given).
FULL_RELEVANCE_KEYWORDS = 3
ANALYSED_CHARS = 20_000
RELEVANCE_COLUMNS = ("topic_similarity", "topic_keyword_hits", "relevance")

_TOKEN_PATTERN = r"(?u)\b[^\W\d_]{2,}\b"
_VECTORIZER = HashingVectorizer(
    n_features=2**18,
    alternate_sign=False,
    norm=None,
    lowercase=True,
    token_pattern=_TOKEN_PATTERN,
    # Only stop words the tokenizer can produce (some Devanagari words split at their vowel signs).
    stop_words=sorted(w for w in ALL_STOP_WORDS if re.fullmatch(_TOKEN_PATTERN, w)),
)


@dataclass(frozen=True)
class TopicProfile:
    vector: sparse.csr_matrix  # 1 x n_features, L2-normalized
    idf: np.ndarray  # per feature; features unseen in the topic get the highest IDF
    keyword_features: tuple[np.ndarray, ...]  # feature columns of each keyword's words


def _sublinear(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    matrix = matrix.astype(float)
    matrix.data = 1.0 + np.log(matrix.data)
    return matrix


def topic_profile(keywords: Sequence[str], examples: Sequence[str]) -> TopicProfile | None:
    """The topic as a TF-IDF vector, or None when neither keywords nor examples are given."""
    keywords = [k for k in keywords if isinstance(k, str) and k.strip()]
    examples = [e for e in examples if isinstance(e, str) and e.strip()]
    if not keywords and not examples:
        return None
    documents = examples + ([" ".join(keywords)] if keywords else [])
    counts = _sublinear(_VECTORIZER.transform(documents))
    document_frequency = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = np.log((1 + len(documents)) / (1 + document_frequency)) + 1.0
    weighted = normalize(counts.multiply(idf).tocsr())
    vector = normalize(sparse.csr_matrix(weighted.mean(axis=0)))
    keyword_features = tuple(_VECTORIZER.transform([k]).indices for k in keywords)
    return TopicProfile(vector=vector, idf=idf, keyword_features=keyword_features)


def relevance_signals(texts: Sequence[str], profile: TopicProfile | None, index=None) -> pd.DataFrame:
    """topic_similarity (cosine, NaN without a topic), topic_keyword_hits and relevance (0..1)."""
    n = len(texts)
    if profile is None:
        return pd.DataFrame(
            {
                "topic_similarity": np.full(n, np.nan),
                "topic_keyword_hits": np.zeros(n, dtype=int),
                "relevance": np.ones(n),
            },
            index=index,
        )
    samples = [t[:ANALYSED_CHARS] if isinstance(t, str) else "" for t in texts]
    counts = _sublinear(_VECTORIZER.transform(samples))
    documents = normalize(counts.multiply(profile.idf).tocsr())
    similarity = np.asarray((documents @ profile.vector.T).todense()).ravel()
    present = counts > 0
    hits = np.zeros(n, dtype=int)
    for features in profile.keyword_features:
        if features.size:
            # A keyword counts when all of its words occur (a phrase's words, not necessarily adjacent).
            hits += np.asarray(present[:, features].sum(axis=1)).ravel() == features.size
    relevance = np.clip(similarity / FULL_RELEVANCE_SIMILARITY, 0.0, 1.0)
    if profile.keyword_features:
        needed = min(FULL_RELEVANCE_KEYWORDS, len(profile.keyword_features))
        relevance = np.maximum(relevance, np.clip(hits / needed, 0.0, 1.0))
    return pd.DataFrame(
        {"topic_similarity": similarity, "topic_keyword_hits": hits, "relevance": relevance}, index=index
    )
