"""threshold: keep items whose signal lies within bounds (`- threshold: {column: quality, min: 0.6}`).

Missing values (NaN, e.g. a price score of an article) are not judged."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from core.refine.rule_kinds.base import Control, RuleBodyError, RuleKind, fmt, mapping, number


class Threshold(RuleKind):
    kind: Literal["threshold"] = "threshold"
    example: ClassVar[Any] = {"column": "quality", "min": 0.3, "max": 0.8}
    starter: ClassVar[Any] = {"column": "quality", "min": 0.5}  # an upper bound would drop the best items
    column_name: str = Field(min_length=1)
    min: float | None = Field(default=None, strict=True)  # strict: a bool is not a bound
    max: float | None = Field(default=None, strict=True)

    @classmethod
    def fields_from_body(cls, body: Any) -> dict:
        body = mapping(body, {"column", "min", "max"})
        if not isinstance(body.get("column"), str) or not body["column"]:
            raise RuleBodyError("needs 'column', the signal column to compare")
        return {
            "column_name": body["column"],
            "min": number(body["min"], "min") if "min" in body else None,
            "max": number(body["max"], "max") if "max" in body else None,
        }

    @model_validator(mode="after")
    def _bounds(self) -> Threshold:
        if self.min is None and self.max is None:
            raise ValueError("needs 'min', 'max' or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self

    def body(self) -> dict:
        body: dict[str, Any] = {"column": self.column_name}
        body.update({k: float(v) for k, v in (("min", self.min), ("max", self.max)) if v is not None})
        return body

    @property
    def column(self) -> str:
        return self.column_name

    def reasons(self) -> tuple[str, ...]:
        low = (f"min_{self.column}<{fmt(self.min)}",) if self.min is not None else ()
        return low + ((f"max_{self.column}>{fmt(self.max)}",) if self.max is not None else ())

    def drop_masks(self, signals: pd.DataFrame, kept: np.ndarray) -> list[tuple[np.ndarray, str]]:
        values = self.numbers(self.signal_column(signals))
        masks = []
        with np.errstate(invalid="ignore"):
            if self.min is not None:
                masks.append((values < self.min, f"min_{self.column}<{fmt(self.min)}"))
            if self.max is not None:
                masks.append((values > self.max, f"max_{self.column}>{fmt(self.max)}"))
        return masks

    def controls(self, signals: pd.DataFrame) -> list[Control]:
        values = pd.to_numeric(signals[self.column], errors="coerce") if self.column in signals else pd.Series()
        # Scores live in 0..1; counts and flags (field_error_count, price_outlier) may go higher.
        top = max(1.0, float(values.max()) if values.notna().any() else 1.0,
                  *(b for b in (self.min, self.max) if b is not None))
        step = 0.01 if top <= 1.0 else 1.0
        return [Control(bound, "slider", f"{'Minimum' if bound == 'min' else 'Maximum'} {self.column}",
                        float(getattr(self, bound)), 0.0, top, step)
                for bound in ("min", "max") if getattr(self, bound) is not None]

    def body_from_controls(self, values: dict[str, Any]) -> dict:
        return {"column": self.column, **{bound: float(value) for bound, value in values.items()}}

    def histogram(self, signals: pd.DataFrame):
        return (self.column, self.min, self.max) if self.column in signals else None
