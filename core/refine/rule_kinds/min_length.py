"""min_length: drop texts shorter than N characters (`- min_length: 300`)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from core.refine.rule_kinds.base import Control, RuleBodyError, RuleKind, brief, fmt, number

MAX_SLIDER_CHARS = 5000


class MinLength(RuleKind):
    kind: Literal["min_length"] = "min_length"
    example: ClassVar[Any] = 100
    min: int = Field(ge=0, strict=True)  # strict: a bool is not a length

    @classmethod
    def fields_from_body(cls, body: Any) -> dict:
        length = number(body, "min_length")
        if length < 0 or length != int(length):
            raise RuleBodyError(f"min_length must be a whole number of characters >= 0, got {brief(body)}")
        return {"min": int(length)}

    def body(self) -> int:
        return self.min

    @property
    def column(self) -> str:
        return "text_length"

    def reasons(self) -> tuple[str, ...]:
        return (f"min_length<{fmt(self.min)}",)

    def drop_masks(self, signals: pd.DataFrame, kept: np.ndarray) -> list[tuple[np.ndarray, str]]:
        values = self.numbers(self.signal_column(signals))
        with np.errstate(invalid="ignore"):
            return [(values < self.min, self.reasons()[0])]

    def controls(self, signals: pd.DataFrame) -> list[Control]:
        return [Control("min", "slider", "Minimum text length (characters)", self.min, 0,
                        max(MAX_SLIDER_CHARS, self.min), 50)]

    def body_from_controls(self, values: dict[str, Any]) -> int:
        return int(values["min"])

    def histogram(self, signals: pd.DataFrame):
        # The rule that moves results most: show where the texts lie.
        return (self.column, self.min, None) if self.column in signals else None
