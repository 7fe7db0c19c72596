"""Quality: four 0..1 sub-scores (completeness, clarity, relevance, validity) with the raw measures behind
each, and `quality`, their weighted mean with the recipe's weights.

The weighted mean is cheap and recomputed whenever a recipe changes its weights, so the cached
sub-scores never depend on a recipe.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from core.refine.signals.base import DEFAULT_QUALITY_WEIGHTS, SignalParams
from core.refine.signals.clarity import CLARITY_MEASURES, SPAM_MEASURES, clarity_measures, clarity_score
from core.refine.signals.completeness import COMPLETENESS_COLUMNS, completeness_signals
from core.refine.signals.relevance import RELEVANCE_COLUMNS, relevance_signals, topic_profile
from core.refine.signals.validity import BOILERPLATE_ANCHORS, VALIDITY_MEASURES, validity_signals

SUB_SCORES = tuple(DEFAULT_QUALITY_WEIGHTS)
QUALITY_COLUMNS = (
    *SUB_SCORES,
    *(c for c in COMPLETENESS_COLUMNS if c != "completeness"),
    *CLARITY_MEASURES,
    *SPAM_MEASURES,
    *(c for c in RELEVANCE_COLUMNS if c != "relevance"),
    *VALIDITY_MEASURES,
)
QUALITY_PARAMS = ("required_fields", "good_text_chars", "topic_keywords", "topic_examples")


def quality_signals(items: pd.DataFrame, params: SignalParams, upstream: pd.DataFrame) -> pd.DataFrame:
    """The sub-scores and raw measures of QUALITY_COLUMNS for one batch (same index as `items`).

    `upstream` may hold `listing_field_errors` (from the listing family); validity counts them.
    """
    texts = items["text"].tolist() if "text" in items else [""] * len(items)
    measures = clarity_measures(texts, flag_words=BOILERPLATE_ANCHORS).set_axis(items.index)
    completeness = completeness_signals(items, params.required_fields, params.good_text_chars)
    relevance = relevance_signals(
        texts, topic_profile(params.topic_keywords, params.topic_examples), index=items.index
    )
    listing_errors = upstream.get("listing_field_errors")
    validity = validity_signals(items, measures, listing_errors)
    out = pd.concat([completeness, measures, relevance, validity], axis=1)
    out["clarity"] = clarity_score(measures)
    return out[list(QUALITY_COLUMNS)]


def quality_score(signals: pd.DataFrame, weights: Mapping[str, float] | None = None) -> np.ndarray:
    """Weighted mean of the sub-scores; weights are normalized, so only their ratios matter."""
    weights = dict(DEFAULT_QUALITY_WEIGHTS if weights is None else weights)
    unknown = set(weights) - set(SUB_SCORES)
    if unknown:
        raise ValueError(f"Unknown quality weight(s) {sorted(unknown)}; expected {list(SUB_SCORES)}")
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError(f"Quality weights must be non-negative with a positive sum, got {weights}")
    total = sum(weights.values())
    score = np.zeros(len(signals))
    for name, weight in weights.items():
        if weight:
            score += weight / total * signals[name].to_numpy(dtype=float)
    return score
