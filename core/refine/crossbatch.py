"""The steps that need every item at once: duplicate clusters (exact, near and listing relists) and topics."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.refine.signals import duplicates, media, topics
from core.refine.signals.base import SignalParams
from core.refine.signals.families import MINHASH_COLUMN, signature_matrix
from core.refine.signals.minhash import empty_signature_rows


def _links_to_representative(ids: pd.Index, clusters: np.ndarray) -> np.ndarray:
    """Index pairs (member, representative) for every item whose cluster id is not its own id."""
    positions = np.flatnonzero(clusters != ids.to_numpy())
    representatives = ids.get_indexer(clusters[positions])
    return np.column_stack([positions, representatives]).astype(np.int64)


def _exact_links(hashes: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Index pairs linking each eligible item to the first eligible item with the same exact hash."""
    positions = np.flatnonzero(eligible)
    codes, _ = pd.factorize(hashes[positions])
    _, first = np.unique(codes, return_index=True)
    representatives = positions[first[codes]]
    linked = representatives != positions
    return np.column_stack([positions[linked], representatives[linked]]).astype(np.int64)


def duplicate_clusters(items: pd.DataFrame, signals: pd.DataFrame, params: SignalParams) -> pd.DataFrame:
    """duplicate_cluster (exact copies, near duplicates and relists merged; smallest member id names a
    cluster, an item alone keeps its own id) and relist_cluster. Same index as `signals`."""
    ids = pd.Index(signals["id"].astype(object).to_numpy())
    links = [np.empty((0, 2), dtype=np.int64)]
    # Texts without any token (empty, emoji, punctuation) all hash and sign alike; they are not copies.
    has_tokens = np.ones(len(ids), dtype=bool)
    if MINHASH_COLUMN in signals:
        signatures = signature_matrix(signals[MINHASH_COLUMN], params.minhash_num_perm)
        has_tokens = ~empty_signature_rows(signatures)
        threshold = params.near_duplicate_threshold or duplicates.DEFAULT_THRESHOLD
        near = duplicates.near_duplicate_clusters(ids.tolist(), signatures, threshold=threshold)
        links.append(_links_to_representative(ids, np.asarray(near, dtype=object)))
    if "exact_hash" in signals:
        text_present = np.array([isinstance(t, str) and bool(t.strip()) for t in items["text"]])
        links.append(_exact_links(signals["exact_hash"].to_numpy(dtype=object), has_tokens & text_present))
    relists = duplicates.listing_relist_clusters(items.assign(id=ids.to_numpy()))
    links.append(_links_to_representative(ids, relists.to_numpy(dtype=object)))
    links.append(media.duplicate_links(signals, params.image_near_duplicate_bits))
    clusters = duplicates.clusters_from_pairs(ids.tolist(), np.concatenate(links))
    return pd.DataFrame(
        {"duplicate_cluster": clusters, "relist_cluster": relists.to_numpy(dtype=object)}, index=signals.index
    )


def topic_columns(texts: pd.Series, params: SignalParams) -> pd.DataFrame:
    """topic (int, -1 for texts without usable words) and its readable topic_label."""
    assignment, labels = topics.topic_clusters(texts, n_topics=params.n_topics, seed=params.topic_seed)
    return pd.DataFrame(
        {
            "topic": assignment.to_numpy(dtype=np.int64),
            "topic_label": [labels.get(int(t), "") for t in assignment],
        },
        index=texts.index,
    )
