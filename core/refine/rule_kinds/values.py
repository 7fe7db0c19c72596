"""values: keep only items whose column has one of some values, or drop those with some values
(`- values: {column: content_type, exclude: [boilerplate, code]}`, or `allow: [...]`)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from core.refine.rule_kinds.base import Control, RuleBodyError, RuleKind, mapping, strings


class Values(RuleKind):
    kind: Literal["values"] = "values"
    example: ClassVar[Any] = {"column": "content_type", "exclude": ["boilerplate", "code"]}
    column_name: str = Field(min_length=1)
    allowed: tuple[str, ...] | None = None  # set: keep only these
    exclude: tuple[str, ...] = ()  # with allowed None: drop these

    @classmethod
    def fields_from_body(cls, body: Any) -> dict:
        body = mapping(body, {"column", "allow", "exclude"})
        if not isinstance(body.get("column"), str) or ("allow" in body) == ("exclude" in body):
            raise RuleBodyError("needs 'column' and exactly one of 'allow' or 'exclude'")
        if "allow" in body:
            return {"column_name": body["column"], "allowed": tuple(sorted(set(strings(body["allow"], "allow"))))}
        return {"column_name": body["column"], "exclude": tuple(sorted(set(strings(body["exclude"], "exclude"))))}

    @model_validator(mode="after")
    def _one_list(self) -> Values:
        if self.allowed is not None and self.exclude:
            raise ValueError("needs 'column' and exactly one of 'allow' or 'exclude'")
        return self

    def body(self) -> dict:
        if self.allowed is not None:
            return {"column": self.column, "allow": list(self.allowed)}
        return {"column": self.column, "exclude": list(self.exclude)}

    @property
    def column(self) -> str:
        return self.column_name

    def reasons(self) -> tuple[str, ...]:
        if self.allowed is not None:
            return (f"{self.column}_not_allowed",)
        return tuple(f"{self.column}={value}" for value in self.exclude)

    def drop_masks(self, signals: pd.DataFrame, kept: np.ndarray) -> list[tuple[np.ndarray, str]]:
        values = self.signal_column(signals).astype(object).to_numpy()
        if self.allowed is not None:
            return [(~np.isin(values, list(self.allowed)), f"{self.column}_not_allowed")]
        return [(values == value, f"{self.column}={value}") for value in self.exclude]

    def controls(self, signals: pd.DataFrame) -> list[Control]:
        chosen = list(self.allowed) if self.allowed is not None else list(self.exclude)
        seen = set(signals[self.column].dropna().astype(str)) if self.column in signals else set()
        label = (f"Keep only items whose {self.column} is" if self.allowed is not None
                 else f"Drop items whose {self.column} is")
        return [Control("chosen", "multiselect", label, chosen, options=tuple(sorted(seen | set(chosen))))]

    def body_from_controls(self, values: dict[str, Any]) -> dict:
        return {"column": self.column, ("allow" if self.allowed is not None else "exclude"): list(values["chosen"])}
