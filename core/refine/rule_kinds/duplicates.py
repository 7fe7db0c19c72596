"""duplicates: one item per duplicate cluster (`- duplicates: keep_best`; keep_best | keep_all).

Judges every item (a resized copy of a photo is a duplicate too). Best = highest quality among the members
still kept (for images: most megapixels, so the original beats its resized copy), ties to the smallest id,
so exactly one member of every cluster with a kept member survives this rule."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from core.refine.rule_kinds.base import Control, RuleBodyError, RuleKind, brief

DUPLICATE_POLICIES = ("keep_best", "keep_all")


class Duplicates(RuleKind):
    kind: Literal["duplicates"] = "duplicates"
    example: ClassVar[Any] = "keep_best"
    policy: Literal["keep_best", "keep_all"]
    judges_all_items: ClassVar[bool] = True
    once_per_recipe: ClassVar[bool] = True

    @classmethod
    def fields_from_body(cls, body: Any) -> dict:
        if body not in DUPLICATE_POLICIES:
            raise RuleBodyError(f"policy must be one of {', '.join(DUPLICATE_POLICIES)}, got {brief(body)}")
        return {"policy": body}

    def body(self) -> str:
        return self.policy

    def reasons(self) -> tuple[str, ...]:
        return ("duplicate",) if self.policy == "keep_best" else ()

    def drop_masks(self, signals: pd.DataFrame, kept: np.ndarray) -> list[tuple[np.ndarray, str]]:
        if self.policy == "keep_all":
            return []
        return [(cluster_losers(self, signals, kept, "duplicate_cluster"), "duplicate")]

    def controls(self, signals: pd.DataFrame) -> list[Control]:
        return [Control("policy", "selectbox", "Duplicates", self.policy, options=DUPLICATE_POLICIES)]

    def body_from_controls(self, values: dict[str, Any]) -> str:
        return values["policy"]


def cluster_losers(rule: RuleKind, signals: pd.DataFrame, kept: np.ndarray, cluster_column: str) -> np.ndarray:
    """Items still kept that are not the best member of their cluster in `cluster_column` (shared by rule
    kinds that keep one item per cluster, such as a semantic-duplicate rule over its own cluster column)."""
    clusters = rule.signal_column(signals, cluster_column).astype(object).to_numpy()
    alive = np.flatnonzero(kept)
    codes, _ = pd.factorize(clusters[alive])
    sizes = np.bincount(codes) if codes.size else np.zeros(0, dtype=int)
    shared = sizes[codes] > 1 if codes.size else np.zeros(0, dtype=bool)
    members, member_codes = alive[shared], codes[shared]
    losers = np.zeros(len(signals), dtype=bool)
    if members.size == 0:
        return losers
    score = rule.numbers(rule.signal_column(signals, "quality"))
    if "image_megapixels" in signals:  # a cluster is all images or none: media and text never link
        megapixels = pd.to_numeric(signals["image_megapixels"], errors="coerce").to_numpy(dtype=float)
        score = np.where(np.isnan(megapixels), score, megapixels)
    quality = np.nan_to_num(score[members], nan=-np.inf)
    ids = signals["id"].astype(str).to_numpy()[members]
    id_rank = np.argsort(np.argsort(ids, kind="stable"), kind="stable")
    order = np.lexsort((id_rank, -quality, member_codes))
    first = np.concatenate(([True], member_codes[order][1:] != member_codes[order][:-1]))
    losers[members[order[~first]]] = True
    return losers
