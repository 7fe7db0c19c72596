"""The default signal families: thin adapters from the signal modules to the registry interface.

A family's version is the hash of the code it runs (its adapter, the signal modules the adapter uses
and every first-party module those import), so editing a signal module, or a parser in core/sources
it calls, recomputes exactly the signals it produces and leaves every other cached family alone.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from core.refine.signals import (
    content_type,
    duplicates,
    language,
    listing_checks,
    media,
    minhash,
    pii,
    quality,
)
from core.refine.signals.base import SignalFamily, SignalParams, SignalRegistry

LISTING_COLUMNS = (
    "listing_missing_fields",
    "listing_field_errors",
    "price_per_unit",
    "price_outlier_score",
    "price_outlier",
)
MINHASH_COLUMN = "minhash"
# Families that existed once and were folded into others; their cache files are deleted on the next run.
# exact_hash and minhash became "duplicates", which tokenizes each text once for both.
RETIRED_FAMILIES = ("exact_hash", "minhash")


def item_texts(items: pd.DataFrame) -> pd.Series:
    """The text of each item as str ("" when missing), same index."""
    if "text" not in items:
        return pd.Series([""] * len(items), index=items.index, dtype=object)
    return pd.Series(
        [t if isinstance(t, str) else "" for t in items["text"]], index=items.index, dtype=object
    )


def text_or_title(items: pd.DataFrame) -> pd.Series:
    """Text, or the title where an item (a listing, an image) has no text to judge."""
    texts = item_texts(items)
    if "title" not in items:
        return texts
    titles = [t if isinstance(t, str) else "" for t in items["title"]]
    return pd.Series(
        [text if text.strip() else title for text, title in zip(texts, titles, strict=True)],
        index=items.index,
        dtype=object,
    )


def _listing(items: pd.DataFrame, params: SignalParams, upstream: pd.DataFrame) -> pd.DataFrame:
    return listing_checks.listing_signals(items)[list(LISTING_COLUMNS)]


def _language(items: pd.DataFrame, params: SignalParams, upstream: pd.DataFrame) -> pd.DataFrame:
    return language.language_signals(text_or_title(items))


def _content_type(items: pd.DataFrame, params: SignalParams, upstream: pd.DataFrame) -> pd.DataFrame:
    return content_type.content_type_signals(items)


def _duplicates(items: pd.DataFrame, params: SignalParams, upstream: pd.DataFrame) -> pd.DataFrame:
    """Exact hash and MinHash signature from one tokenization of each text (tokenizing is most of the cost)."""
    token_lists = [minhash.tokenize(text) for text in item_texts(items)]
    signatures = minhash.signatures_of_tokens(
        token_lists,
        num_perm=params.minhash_num_perm,
        shingle_size=params.minhash_shingle_size,
        seed=params.minhash_seed,
    )
    # One bytes value per row: compact in Parquet and turned back into a matrix with one frombuffer.
    rows = np.ascontiguousarray(signatures, dtype=minhash.SIGNATURE_DTYPE)
    return pd.DataFrame(
        {
            "exact_hash": [duplicates.exact_hash_of_tokens(tokens) for tokens in token_lists],
            MINHASH_COLUMN: [row.tobytes() for row in rows],
        },
        index=items.index,
    )


def signature_matrix(values: pd.Series, num_perm: int) -> np.ndarray:
    """The (n, num_perm) signature matrix back from the minhash family's bytes column."""
    joined = b"".join(values.tolist())
    return np.frombuffer(joined, dtype=minhash.SIGNATURE_DTYPE).reshape(len(values), num_perm)


def _media(items: pd.DataFrame, params: SignalParams, upstream: pd.DataFrame) -> pd.DataFrame:
    return media.media_signals(items)


def _pii(items: pd.DataFrame, params: SignalParams, upstream: pd.DataFrame) -> pd.DataFrame:
    return pii.pii_signals(item_texts(items))


@lru_cache(maxsize=1)
def default_registry() -> SignalRegistry:
    """Every per-batch family, in dependency order (quality reads the listing family's field errors).

    Each declares its compute function, columns and the parameters it reads; its version is the hash of
    the code that function runs (SignalFamily.from_code), so no version is kept by hand."""
    family = SignalFamily.from_code
    return SignalRegistry(
        [
            family("listing", _listing, LISTING_COLUMNS),
            family("language", _language, ("language", "language_confidence", "script")),
            family("content_type", _content_type, ("content_type", "modality")),
            family(
                "duplicates",
                _duplicates,
                ("exact_hash", MINHASH_COLUMN),
                param_fields=("minhash_num_perm", "minhash_shingle_size", "minhash_seed"),
            ),
            family("media", _media, media.MEDIA_COLUMNS),
            family("pii", _pii, pii.PII_SIGNAL_COLUMNS),
            family(
                "quality",
                quality.quality_signals,
                quality.QUALITY_COLUMNS,
                depends_on=("listing",),
                param_fields=quality.QUALITY_PARAMS,
            ),
        ]
    )
