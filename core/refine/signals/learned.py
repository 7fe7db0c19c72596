"""learned_quality: a dataset's own quality model (ML Lab, ml/quality_model.py) as a signal family.

The family exists only for a dataset that has a quality model: `registry_with_learned_quality` adds it to
the default families, so a recipe can hold `threshold: {column: learned_quality, min: 0.5}`, and a dataset
without a model computes exactly the signals it always did. The score is the model's probability that an
item is good (0..1, graded).

The model is trained in ml/ and kept in the model registry; core does not import ml at start. A marker
file in the dataset's processed folder says "this dataset has a quality model", so refining a dataset
without one never pays for loading MLflow. The family's version is the model version (and its run id),
so promoting or rolling back the model recomputes this column and nothing else.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from core.refine.signals.base import SignalFamily, SignalParams, SignalRegistry
from core.refine.signals.families import default_registry, text_or_title
from core.refine.signals.quality import QUALITY_COLUMNS
from core.store import lake

LEARNED_QUALITY = "learned_quality"
MARKER_FILE = "quality-model.json"
TEXT_FEATURE = "text"
# The numeric signals a quality model may read beside the text: the quality family's sub-scores and measures.
NUMERIC_FEATURES = QUALITY_COLUMNS
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LearnedScorer:
    """What the family needs from a quality model: a version for the cache key and P(good) per feature row."""

    version: str
    probability_good: Callable[[pd.DataFrame], np.ndarray]


def feature_frame(items: pd.DataFrame, signals: pd.DataFrame) -> pd.DataFrame:
    """The model's input: the item text (or title) and the numeric quality signals, same index as `items`."""
    frame = pd.DataFrame(index=items.index)
    frame[TEXT_FEATURE] = text_or_title(items).to_numpy(dtype=object)
    for column in NUMERIC_FEATURES:
        values = signals[column] if column in signals else pd.Series(np.nan, index=signals.index)
        frame[column] = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return frame


def _learned_quality(scorer: LearnedScorer, items: pd.DataFrame, params: SignalParams,
                     upstream: pd.DataFrame) -> pd.DataFrame:
    if items.empty:
        return pd.DataFrame({LEARNED_QUALITY: pd.Series(dtype=float)}, index=items.index)
    scores = np.asarray(scorer.probability_good(feature_frame(items, upstream)), dtype=float)
    return pd.DataFrame({LEARNED_QUALITY: np.round(scores, 6)}, index=items.index)


def learned_quality_family(scorer: LearnedScorer) -> SignalFamily:
    return SignalFamily(LEARNED_QUALITY, scorer.version, partial(_learned_quality, scorer), (LEARNED_QUALITY,),
                        depends_on=("quality",))


def registry_with_learned_quality(scorer: LearnedScorer) -> SignalRegistry:
    return SignalRegistry([*default_registry().ordered(), learned_quality_family(scorer)])


# -- which datasets have a model ----------------------------------------------------------------
def marker_path(dataset_name: str) -> Path:
    return lake.zone_path("processed", dataset_name, MARKER_FILE)


def mark_model(dataset_name: str, model_name: str) -> None:
    """Called by ml/quality_model.py after registering: this dataset's refinements use `model_name`."""
    lake.write_json({"model": model_name}, marker_path(dataset_name))


def scorer_for(principal, dataset_name: str) -> LearnedScorer | None:
    """The champion quality model of a dataset as a scorer; None when it has none (or it cannot be loaded)."""
    path = marker_path(dataset_name)
    if not path.exists():
        return None
    try:
        model_name = json.loads(path.read_text(encoding="utf-8"))["model"]
        from ml.quality_model import load_scorer  # noqa: PLC0415 - ML is loaded only for datasets with a model

        return load_scorer(principal, model_name)
    except Exception as exc:  # noqa: BLE001 - no usable model means "no learned_quality column", not a failed run
        log.warning("Quality model of %s not used: %s: %s", dataset_name, type(exc).__name__, exc)
        return None
