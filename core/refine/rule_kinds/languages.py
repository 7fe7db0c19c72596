"""languages: keep items in the allowed languages, detected confidently enough
(`- languages: {allowed: [en, de], min_confidence: 0.5}`; `allowed: any` judges confidence only)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from core.refine.rule_kinds.base import Control, RuleBodyError, RuleKind, fmt, mapping, number, strings


class Languages(RuleKind):
    kind: Literal["languages"] = "languages"
    example: ClassVar[Any] = {"allowed": ["de", "en"], "min_confidence": 0.5}
    allowed: tuple[str, ...] | None = None  # None: any language
    min_confidence: float = Field(default=0.0, ge=0.0, le=1.0, strict=True)

    @classmethod
    def fields_from_body(cls, body: Any) -> dict:
        body = mapping(body, {"allowed", "min_confidence"})
        allowed = body.get("allowed", "any")
        allowed = None if allowed == "any" else tuple(sorted(set(strings(allowed, "allowed"))))
        confidence = number(body.get("min_confidence", 0.0), "min_confidence")
        if not 0 <= confidence <= 1:
            raise RuleBodyError(f"min_confidence must be within 0..1, got {confidence:g}")
        return {"allowed": allowed, "min_confidence": confidence}

    def body(self) -> dict:
        allowed = "any" if self.allowed is None else list(self.allowed)
        return {"allowed": allowed, "min_confidence": float(self.min_confidence)}

    @property
    def column(self) -> str:
        return "language"

    def reasons(self) -> tuple[str, ...]:
        allowed = ("language_not_allowed",) if self.allowed is not None else ()
        return allowed + ((f"language_confidence<{fmt(self.min_confidence)}",) if self.min_confidence > 0 else ())

    def drop_masks(self, signals: pd.DataFrame, kept: np.ndarray) -> list[tuple[np.ndarray, str]]:
        masks = []
        if self.allowed is not None:
            language = self.signal_column(signals).astype(object).to_numpy()
            masks.append((~np.isin(language, list(self.allowed)), "language_not_allowed"))
        if self.min_confidence > 0:
            confidence = self.numbers(self.signal_column(signals, "language_confidence"))
            masks.append((np.nan_to_num(confidence, nan=0.0) < self.min_confidence,
                          f"language_confidence<{fmt(self.min_confidence)}"))
        return masks

    def controls(self, signals: pd.DataFrame) -> list[Control]:
        seen = sorted(signals["language"].dropna().astype(str).unique().tolist()) if "language" in signals else []
        options = tuple(sorted(set(seen) | set(self.allowed or ())))
        return [
            Control("allowed", "multiselect", "Allowed languages (empty: any)", list(self.allowed or ()),
                    options=options),
            Control("min_confidence", "slider", "Minimum language confidence", float(self.min_confidence),
                    0.0, 1.0, 0.05),
        ]

    def body_from_controls(self, values: dict[str, Any]) -> dict:
        return {"allowed": list(values["allowed"]) or "any", "min_confidence": float(values["min_confidence"])}
