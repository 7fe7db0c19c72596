"""semantic_duplicates: one item per cluster of texts with the same meaning (`- semantic_duplicates: 0.65`, or
`{threshold: 0.65}`; the threshold is a cosine, 0.65 tuned in bench/bench_semantic_duplicates.py).

Catches what `duplicates` (MinHash) cannot: a reworded or translated copy of an article. Opt-in and costly:
a recipe holding it makes the signal step embed every text once (~75 texts per CPU-second, cached afterwards),
which needs the optional extra requirements-semantic.txt. The rule itself only re-clusters the stored
neighbours (core/refine/semantic_signals.py), so moving its threshold is as quick as any other rule. Keeps
the best member of each cluster by quality, like `duplicates`; judges text items only."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from core.refine.rule_kinds.base import Control, RuleBodyError, RuleKind, fmt, mapping, number
from core.refine.rule_kinds.duplicates import cluster_losers
from core.refine.semantic_signals import neighbours_from_signals
from core.refine.signals.semantic import DEFAULT_THRESHOLD

REASON = "semantic_duplicate"
# The slider's range: below 0.5 unrelated stories on one subject merge, above 0.95 only near-copies do.
SLIDER_LOW, SLIDER_HIGH = 0.5, 0.95
_CLUSTER_COLUMN = "semantic_cluster"


class SemanticDuplicates(RuleKind):
    kind: Literal["semantic_duplicates"] = "semantic_duplicates"
    example: ClassVar[Any] = DEFAULT_THRESHOLD
    once_per_recipe: ClassVar[bool] = True
    needs_signal_params: ClassVar[dict[str, Any]] = {"semantic_duplicates": True}
    threshold: float = Field(gt=0.0, le=1.0, strict=True)

    @classmethod
    def fields_from_body(cls, body: Any) -> dict:
        if isinstance(body, dict):
            body = mapping(body, {"threshold"}).get("threshold")
            if body is None:
                raise RuleBodyError("needs 'threshold', the cosine similarity at which texts are duplicates")
        threshold = number(body, "threshold")
        if not 0.0 < threshold <= 1.0:
            raise RuleBodyError(f"'threshold' is a cosine similarity within (0, 1], got {fmt(threshold)}")
        return {"threshold": threshold}

    def body(self) -> float:
        return float(self.threshold)

    def reasons(self) -> tuple[str, ...]:
        return (REASON,)

    def drop_masks(self, signals: pd.DataFrame, kept: np.ndarray) -> list[tuple[np.ndarray, str]]:
        clusters = neighbours_from_signals(signals).clusters(self.threshold)
        with_clusters = signals.assign(**{_CLUSTER_COLUMN: clusters.cluster_id})
        return [(cluster_losers(self, with_clusters, kept, _CLUSTER_COLUMN), REASON)]

    def controls(self, signals: pd.DataFrame) -> list[Control]:
        return [Control("threshold", "slider", "Semantic duplicates: minimum similarity (cosine)",
                        float(self.threshold), min(SLIDER_LOW, self.threshold), max(SLIDER_HIGH, self.threshold),
                        0.01)]

    def body_from_controls(self, values: dict[str, Any]) -> float:
        return float(values["threshold"])
