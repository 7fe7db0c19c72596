"""Duplicate signals: exact content hashes and near-duplicate clusters from MinHash + LSH.

Signatures are computed per batch (``minhash_signatures``); ``near_duplicate_clusters`` is the one
cross-batch step and runs once over the signatures of every item.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xxhash
from rapidfuzz import fuzz, process
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from core.refine.signals.minhash import (
    estimated_jaccard,
    lsh_candidate_pairs,
    lsh_parameters,
    minhash_signatures,
    tokenize,
)

# Chosen on bench/bench_near_duplicates.py (--sweep): with 5-word shingles, different articles written from
# the same sentence templates reach an estimated Jaccard of ~0.38, while 99% of syndicated copies (header or
# footer added, a paragraph dropped or moved, a few words changed) stay above ~0.45.
DEFAULT_THRESHOLD = 0.45
DEFAULT_SHINGLE_SIZE = 5
DEFAULT_NUM_PERM = 128

__all__ = [
    "DEFAULT_NUM_PERM",
    "DEFAULT_SHINGLE_SIZE",
    "DEFAULT_THRESHOLD",
    "clusters_from_pairs",
    "exact_hash_of_tokens",
    "exact_hashes",
    "listing_relist_clusters",
    "minhash_signatures",
    "near_duplicate_clusters",
    "normalized_content",
]


def _as_text(value: object) -> str:
    """Missing values (None, NaN, pd.NA) become "", anything else its string form, so one odd cell never
    fails the batch."""
    if isinstance(value, str):
        return value
    if value is None or (not isinstance(value, (list, dict, tuple)) and pd.isna(value)):
        return ""
    return str(value)


def normalized_content(text: str) -> bytes:
    """What the exact hash covers: casefolded tokens without punctuation, joined by single spaces."""
    return b" ".join(tokenize(text))


def exact_hashes(texts: pd.Series) -> pd.Series:
    """xxh3-128 hex digest of each text's normalized content, so case, punctuation and whitespace variants
    of one text share a hash. Same index as ``texts``."""
    digests = [exact_hash_of_tokens(tokenize(_as_text(text))) for text in texts]
    return pd.Series(digests, index=texts.index, dtype=object, name="exact_hash")


def exact_hash_of_tokens(tokens: list[bytes]) -> str:
    """The exact hash of a text from its ``tokenize`` tokens (so one tokenization serves MinHash too)."""
    return xxhash.xxh3_128_hexdigest(b" ".join(tokens))


def clusters_from_pairs(ids: Sequence[str], pairs: np.ndarray) -> np.ndarray:
    """Cluster id per item from linked index pairs: connected components (the result union-find would give,
    computed in C by scipy), each named by its smallest member id; an unlinked item keeps its own id."""
    ids = np.asarray([str(item_id) for item_id in ids], dtype=object)
    if ids.size == 0:
        return ids
    if len(pairs) == 0:
        return ids.copy()
    graph = coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])),
                       shape=(ids.size, ids.size))
    _, component = connected_components(graph, directed=False)
    smallest = pd.Series(ids).groupby(component).transform("min")
    return smallest.to_numpy(dtype=object)


def near_duplicate_clusters(ids: Sequence[str], signatures: np.ndarray,
                            threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """Near-duplicate cluster id per item (smallest member id; an item without duplicates gets its own id).

    LSH banding (bands x rows chosen for ``threshold`` and the signature width) proposes candidate pairs;
    a pair is linked only if its estimated Jaccard similarity is >= ``threshold``. Rows of texts without any
    token are never linked. Deterministic: the same ids and signatures always give the same clusters.
    """
    signatures = np.asarray(signatures)
    if signatures.ndim != 2:
        raise ValueError(f"signatures must be 2-D (items x permutations), got shape {signatures.shape}")
    if len(ids) != signatures.shape[0]:
        raise ValueError(f"{len(ids)} ids but {signatures.shape[0]} signature rows")
    if len(set(map(str, ids))) != len(ids):
        raise ValueError("ids must be unique: a cluster is named by its smallest member id")
    bands, rows = lsh_parameters(threshold, signatures.shape[1])
    candidates = lsh_candidate_pairs(signatures, bands, rows)
    linked = candidates[estimated_jaccard(signatures, candidates) >= threshold]
    return clusters_from_pairs(ids, linked)


# Relisting sellers decorate the same title with these words; they say nothing about the item itself.
_RELIST_NOISE_WORDS = frozenset({
    "reduced", "price", "drop", "dropped", "new", "lower", "lowered", "relisted", "relist", "bump", "urgent",
    "must", "sell", "go", "quick", "sale", "obo", "ono", "negotiable", "again", "back", "available", "now",
    "today", "only",
})
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)?")
# Typed fields that, when both listings state them and they differ, make two listings different items
# (price is compared with a tolerance instead).
_CONFLICTING_FIELDS = ("category", "beds", "baths", "sku")


def _listing_title(title: object, fields: dict) -> str:
    words = [word.decode() for word in tokenize(_as_text(title) or _as_text(fields.get("title")))]
    return " ".join(word for word in words if word not in _RELIST_NOISE_WORDS)


def _listing_price(fields: dict) -> float | None:
    try:
        price = float(fields.get("price"))
    except (TypeError, ValueError):
        return None
    return price if math.isfinite(price) and price > 0 else None


def _field_key(value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return f"{value:g}"  # 2 and 2.0 beds are the same
    return normalized_content(_as_text(value)).decode()


def _fields_conflict(mine: tuple[str, ...], theirs: tuple[str, ...]) -> bool:
    return any(a and b and a != b for a, b in zip(mine, theirs, strict=True))


def _numbers_conflict(title_a: str, title_b: str) -> bool:
    """"2 bed flat" vs "3 bed flat": each title has a number the other lacks, so they are different items.
    One title merely adding a number ("now 250") is not a conflict."""
    numbers_a, numbers_b = set(_NUMBER_RE.findall(title_a)), set(_NUMBER_RE.findall(title_b))
    return bool(numbers_a - numbers_b) and bool(numbers_b - numbers_a)


def listing_relist_clusters(items: pd.DataFrame, title_similarity: float = 85.0,
                            price_tolerance: float = 0.15) -> pd.Series:
    """Relist cluster id per item (smallest member id; own id when not a relist). Same index as ``items``.

    Two listings are relists of one item when they share location and currency (normalized), their titles
    are fuzzy-equal (rapidfuzz token_sort_ratio >= ``title_similarity`` after dropping relist words such as
    "reduced"), their prices differ by at most ``price_tolerance`` of the higher one, and no typed field in
    ``_CONFLICTING_FIELDS`` that both state, nor a number in the titles, disagrees. Rows that are not
    listings, or lack a title, a positive price or a location, are never linked.
    """
    if not 0.0 <= price_tolerance < 1.0:
        raise ValueError(f"price_tolerance must be in [0, 1), got {price_tolerance}")
    ids = [_as_text(item_id) for item_id in items["id"]] if "id" in items else []
    if len(ids) != len(items):
        raise ValueError("items needs an 'id' column")
    is_listing = (items["data_type"].astype(object) == "listing").to_numpy() if "data_type" in items \
        else np.ones(len(items), dtype=bool)
    titles = items["title"] if "title" in items else pd.Series([None] * len(items), index=items.index)
    field_dicts = items["fields"] if "fields" in items else titles.map(lambda _: None)

    records = []
    for position, (listing, title, fields) in enumerate(zip(is_listing, titles, field_dicts, strict=True)):
        fields = fields if isinstance(fields, dict) else {}
        price, location, clean_title = _listing_price(fields), _field_key(fields.get("location")), ""
        if listing and price is not None and location:
            clean_title = _listing_title(title, fields)
        if clean_title:
            conflicts = tuple(_field_key(fields.get(name)) for name in _CONFLICTING_FIELDS)
            # Prices in different (or unknown vs known) currencies are not comparable: separate blocks.
            block = f"{location}|{_field_key(fields.get('currency'))}"
            records.append((block, price, position, clean_title, conflicts))

    pairs = []
    records.sort()
    blocks: dict[str, list[tuple]] = {}
    for record in records:
        blocks.setdefault(record[0], []).append(record)
    for block in blocks.values():
        prices = np.array([record[1] for record in block])
        # Sorted by price, so every partner of listing i within tolerance sits in block[i + 1:window_end].
        window_ends = np.searchsorted(prices, prices / (1.0 - price_tolerance), side="right")
        for index, (_, _, position, title, conflicts) in enumerate(block[:-1]):
            window = block[index + 1:window_ends[index]]
            if not window:
                continue
            scores = process.cdist([title], [other[3] for other in window], scorer=fuzz.token_sort_ratio,
                                   score_cutoff=title_similarity)[0]
            for other, score in zip(window, scores, strict=True):
                if score >= title_similarity and not _numbers_conflict(title, other[3]) \
                        and not _fields_conflict(conflicts, other[4]):
                    pairs.append((position, other[2]))
    linked = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return pd.Series(clusters_from_pairs(ids, linked), index=items.index, dtype=object, name="relist_cluster")
