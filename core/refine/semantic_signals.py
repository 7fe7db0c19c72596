"""The semantic-duplicate signal over a whole dataset (issue #19): each item's nearest neighbours by meaning.

Computed only for recipes holding a `semantic_duplicates` rule (SignalParams.semantic_duplicates), after the
per-batch families, because an item's neighbours are found among all items. The signals table gets two list
columns per item: the ids of its nearest other items and their cosines, best first. A rule re-clusters them at
any threshold in milliseconds (`neighbours_from_signals(...).clusters(threshold)`), so the Refine page's slider
never re-embeds.

Embedding is the costly part (~75 texts per CPU-second, core/refine/signals/semantic.py), so embeddings are
cached beside the signal cache, keyed by a hash of the exact lead text the encoder reads: a second run embeds
only texts it has not seen, and a changed text gets a new key.
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import xxhash

from core.refine.rule_kinds.base import RecipeError
from core.refine.signals import semantic
from core.refine.signals.families import text_or_title
from core.refine.signals.media import is_media
from core.store.lake import atomic_path

log = logging.getLogger(__name__)

NEIGHBOUR_IDS = "semantic_neighbour_ids"
NEIGHBOUR_SIMILARITIES = "semantic_neighbour_similarities"
# The encoder is pinned (requirements-semantic.txt); its name in the file keeps a future model's vectors apart.
EMBEDDINGS_FILE = "semantic-embeddings-use-multilingual-v3.npz"


def _lead_keys(texts: list[str]) -> np.ndarray:
    return np.array([xxhash.xxh3_64_hexdigest(semantic.lead_text(text).encode("utf-8")) for text in texts],
                    dtype=object)


def _read_embeddings(path: Path | None) -> tuple[np.ndarray, np.ndarray]:
    empty = (np.zeros(0, dtype=object), np.zeros((0, semantic.EMBEDDING_DIM), dtype=np.float32))
    if path is None or not path.exists():
        return empty
    try:
        with np.load(path, allow_pickle=False) as stored:
            keys, vectors = stored["keys"].astype(object), stored["vectors"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        # A damaged cache only costs re-embedding; it must never fail a run.
        log.warning("Ignoring unreadable embedding cache %s: %s", path, exc)
        return empty
    if vectors.shape != (len(keys), semantic.EMBEDDING_DIM):
        return empty
    return keys, vectors


def _write_embeddings(path: Path, keys: np.ndarray, vectors: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, keys=keys.astype(str), vectors=vectors.astype(np.float32))


def cached_embeddings(texts: list[str], cache_dir: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """semantic.embed_texts(texts) through the embedding cache in `cache_dir` (None: no cache). The cache keeps
    the embeddings of this dataset's current texts only, so it never outgrows the dataset."""
    embedded = np.array([semantic.has_enough_text(text) for text in texts], dtype=bool)
    embeddings = np.zeros((len(texts), semantic.EMBEDDING_DIM), dtype=np.float32)
    keys = _lead_keys(texts)
    path = Path(cache_dir) / EMBEDDINGS_FILE if cache_dir is not None else None
    stored_keys, stored_vectors = _read_embeddings(path)
    found = pd.Index(stored_keys).get_indexer(keys) if len(stored_keys) else np.full(len(texts), -1)
    hit = embedded & (found >= 0)
    embeddings[hit] = stored_vectors[found[hit]]
    missing = np.flatnonzero(embedded & ~hit)
    if missing.size:
        # Identical leads (copies) are embedded once.
        unique_keys, first, inverse = np.unique(keys[missing].astype(str), return_index=True, return_inverse=True)
        fresh, _ = semantic.embed_texts([texts[missing[i]] for i in first])
        embeddings[missing] = fresh[inverse.reshape(-1)]
    if path is not None and (missing.size or len(stored_keys) != len(set(keys[embedded]))):
        current, positions = np.unique(keys[embedded].astype(str), return_index=True)
        _write_embeddings(path, current, embeddings[np.flatnonzero(embedded)[positions]])
    return embeddings, embedded


def semantic_neighbour_columns(items: pd.DataFrame, signals: pd.DataFrame,
                               cache_dir: Path | None) -> pd.DataFrame:
    """NEIGHBOUR_IDS and NEIGHBOUR_SIMILARITIES for every item (same index as `signals`). Media items get none:
    the rule judges texts. Missing optional packages are a RecipeError with the install instructions."""
    texts = ["" if media else text for text, media in zip(text_or_title(items), is_media(signals), strict=True)]
    try:
        embeddings, embedded = cached_embeddings(texts, cache_dir)
        found = semantic.neighbours_of_embeddings(embeddings, embedded)
    except semantic.SemanticDependencyMissing as exc:
        raise RecipeError(str(exc)) from None
    ids = signals["id"].astype(str).to_numpy(dtype=object)
    valid = found.indices >= 0
    return pd.DataFrame({
        NEIGHBOUR_IDS: [ids[row[ok]].tolist() for row, ok in zip(found.indices, valid, strict=True)],
        NEIGHBOUR_SIMILARITIES: [row[ok].astype(float).tolist() for row, ok in zip(found.similarities, valid,
                                                                                    strict=True)],
    }, index=signals.index)


def _lists(column: pd.Series) -> list:
    return [value if value is not None and not (isinstance(value, float) and value != value) else []
            for value in column]


def neighbours_from_signals(signals: pd.DataFrame) -> semantic.SemanticNeighbours:
    """The SemanticNeighbours stored in a signals table, as positions into that table (neighbours that are no
    longer in it are left out). A table without the columns is a RecipeError saying how to get them."""
    missing = [name for name in (NEIGHBOUR_IDS, NEIGHBOUR_SIMILARITIES) if name not in signals]
    if missing:
        raise RecipeError(
            "Rule 'semantic_duplicate' needs the semantic neighbours, which these signals lack; they are computed "
            "when a recipe holding a semantic_duplicates rule runs (Run refinement, or `python -m core refine` "
            "with that recipe)."
        )
    id_lists, similarity_lists = _lists(signals[NEIGHBOUR_IDS]), _lists(signals[NEIGHBOUR_SIMILARITIES])
    lengths = np.array([len(ids) for ids in id_lists], dtype=np.int64)
    if np.any(lengths != np.array([len(s) for s in similarity_lists], dtype=np.int64)):
        raise RecipeError("semantic neighbour ids and similarities disagree in length; recompute the signals")
    n, width = len(signals), int(lengths.max()) if len(lengths) else 0
    indices = np.full((n, width), -1, dtype=np.int64)
    similarities = np.full((n, width), np.nan, dtype=np.float32)
    if width:
        flat_ids = np.concatenate([np.asarray(ids, dtype=object) for ids in id_lists]).astype(str)
        flat_similarities = np.concatenate([np.asarray(s, dtype=np.float32) for s in similarity_lists])
        rows = np.repeat(np.arange(n), lengths)
        slots = np.arange(len(rows)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        positions = pd.Index(signals["id"].astype(str).to_numpy()).get_indexer(flat_ids)
        present = positions >= 0
        indices[rows[present], slots[present]] = positions[present]
        similarities[rows[present], slots[present]] = flat_similarities[present]
    return semantic.SemanticNeighbours(indices, similarities)
