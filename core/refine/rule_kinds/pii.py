"""pii: what to do with items holding personal data (`- pii: redact`; drop | redact | keep).

Judges every item: a photo's EXIF GPS position is personal data too. Redaction happens on export."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from core.refine.rule_kinds.base import Control, RuleBodyError, RuleKind, brief

PII_POLICIES = ("drop", "redact", "keep")


class Pii(RuleKind):
    kind: Literal["pii"] = "pii"
    example: ClassVar[Any] = "drop"
    policy: Literal["drop", "redact", "keep"]
    judges_all_items: ClassVar[bool] = True
    once_per_recipe: ClassVar[bool] = True

    @classmethod
    def fields_from_body(cls, body: Any) -> dict:
        if body not in PII_POLICIES:
            raise RuleBodyError(f"policy must be one of {', '.join(PII_POLICIES)}, got {brief(body)}")
        return {"policy": body}

    def body(self) -> str:
        return self.policy

    def reasons(self) -> tuple[str, ...]:
        return ("pii_found",) if self.policy == "drop" else ()

    def drop_masks(self, signals: pd.DataFrame, kept: np.ndarray) -> list[tuple[np.ndarray, str]]:
        if self.policy != "drop":
            return []
        found = self.numbers(self.signal_column(signals, "pii_count")) > 0
        if "image_personal_exif" in signals:
            exif = signals["image_personal_exif"].to_numpy(dtype=object)
            found |= np.array([isinstance(v, str) and bool(v) for v in exif], dtype=bool)
        return [(found, "pii_found")]

    def controls(self, signals: pd.DataFrame) -> list[Control]:
        return [Control("policy", "selectbox", "Personal data", self.policy, options=PII_POLICIES)]

    def body_from_controls(self, values: dict[str, Any]) -> str:
        return values["policy"]
