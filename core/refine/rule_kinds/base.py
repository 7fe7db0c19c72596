"""What every rule kind is: a frozen pydantic model that parses its YAML body, judges signals and describes
its controls.

A rule is written in a recipe as a one-key mapping, `{kind: body}` (`{min_length: 300}`,
`{threshold: {column: quality, min: 0.6}}`). Its model also accepts the flat form `{"kind": ..., fields}`
that `model_dump()` gives. A rule's label (the funnel step) is built from the drop reasons it can give, so the
funnel and the per-item reasons use one vocabulary: every reason an item gets is one term of its rule's label.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

from core.refine.signals.media import MEDIA_COLUMNS

MAX_MESSAGE_CHARS = 500
LABEL_SEPARATOR = " | "
_BRIEF = reprlib.Repr()
_BRIEF.maxlevel, _BRIEF.maxdict, _BRIEF.maxlist, _BRIEF.maxstring, _BRIEF.maxother = 3, 6, 6, 60, 60


class RecipeError(ValueError):
    """A recipe that cannot be used; the message names the rule and what is wrong with it."""


class RuleBodyError(ValueError):
    """A rule body that cannot be parsed; parse_rule adds which rule it is."""


def brief(value: Any) -> str:
    """A bounded repr for messages: formatting a huge value (for example one built from YAML aliases)
    must not cost seconds and gigabytes just to say it is wrong."""
    return _BRIEF.repr(value)


def capped(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE_CHARS else message[:MAX_MESSAGE_CHARS - 1] + "…"


def number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RuleBodyError(f"'{name}' must be a number, got {brief(value)}")
    return float(value)


def strings(value: Any, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise RuleBodyError(f"'{name}' must be a list of strings, got {brief(value)}")
    return tuple(value)


def mapping(value: Any, keys: set[str]) -> dict:
    if not isinstance(value, dict):
        raise RuleBodyError(f"expected a mapping with {sorted(keys)}, got {brief(value)}")
    unknown = set(value) - keys
    if unknown:
        raise RuleBodyError(f"unknown key(s) {sorted(unknown)}; expected {sorted(keys)}")
    return value


def fmt(value: float | None) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class Control:
    """One widget a page draws for a rule; its value goes back to the rule under `name`.

    widget: "slider" (low..high by step), "multiselect" or "selectbox" (over options)."""

    name: str
    widget: str
    label: str
    value: Any
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01
    options: tuple = ()


class RuleKind(BaseModel):
    """Base of every rule kind; subclasses set `kind` (a Literal) and implement the hooks below."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    # Rules that judge every item (pii, duplicates) rather than only their modality's items.
    judges_all_items: ClassVar[bool] = False
    # Rules a recipe may hold at most once (a recipe has one pii policy).
    once_per_recipe: ClassVar[bool] = False
    # A YAML body that drops something (documentation, and the tests every kind must pass).
    example: ClassVar[Any] = None
    # The body a rule added on the Refine page starts from, when the example would surprise there.
    starter: ClassVar[Any] = None
    # SignalParams fields a recipe holding this rule sets, for signals computed only on demand (a costly
    # cross-batch step such as semantic neighbours).
    needs_signal_params: ClassVar[dict[str, Any]] = {}

    @model_validator(mode="before")
    @classmethod
    def _from_recipe_body(cls, data: Any) -> Any:
        """{'kind': k, 'body': yaml_body} (how parse_rule hands over a recipe's rule) -> the model's fields."""
        if isinstance(data, dict) and set(data) == {"kind", "body"}:
            return {"kind": data["kind"], **cls.fields_from_body(data["body"])}
        return data

    # --- hooks -------------------------------------------------------------------------------------------
    @classmethod
    def fields_from_body(cls, body: Any) -> dict:
        """The model's fields from the rule's YAML body; raises RuleBodyError saying what is wrong."""
        raise NotImplementedError

    def body(self) -> Any:
        """The rule's YAML body (the inverse of fields_from_body)."""
        raise NotImplementedError

    def reasons(self) -> tuple[str, ...]:
        """Every drop reason this rule can give, in precedence order (empty: it drops nothing)."""
        raise NotImplementedError

    def drop_masks(self, signals: pd.DataFrame, kept: np.ndarray) -> list[tuple[np.ndarray, str]]:
        """(mask of items the rule drops, reason) pairs, in the order the reasons take precedence."""
        raise NotImplementedError

    def controls(self, signals: pd.DataFrame) -> list[Control]:
        """The widgets that edit this rule, seeded with its current values and the signals' range."""
        raise NotImplementedError

    def body_from_controls(self, values: dict[str, Any]) -> Any:
        """The YAML body for the values the controls returned (keyed by Control.name)."""
        raise NotImplementedError

    # --- shared behaviour ----------------------------------------------------------------------------------
    @property
    def column(self) -> str | None:
        """The signal column that decides which items the rule judges (see scope)."""
        return None

    def histogram(self, signals: pd.DataFrame) -> tuple[str, float | None, float | None] | None:
        """(column, low, high) worth drawing under the controls, or None."""
        return None

    @property
    def label(self) -> str:
        """How the rule shows in a funnel: the reasons it drops items with, or what it does when it drops none."""
        reasons = self.reasons()
        if reasons:
            return LABEL_SEPARATOR.join(reasons)
        body = self.body()
        return f"{self.kind}:{body}" if isinstance(body, str) else f"{self.kind} (drops nothing)"

    def to_dict(self) -> dict:
        return {self.kind: self.body()}

    def scope(self, media_rows: np.ndarray) -> np.ndarray | None:
        """The rows the rule may drop (None: all): media columns judge media items, the rest the others."""
        if self.judges_all_items:
            return None
        return media_rows if self.column in MEDIA_COLUMNS else ~media_rows

    # Helpers for drop_masks: a missing or non-numeric column is a clear error, not a silent keep.
    def signal_column(self, signals: pd.DataFrame, name: str | None = None) -> pd.Series:
        name = name or self.column
        if name not in signals:
            raise RecipeError(
                f"Rule '{self.label}' needs the signal column {name!r}, which these signals lack; "
                f"available: {', '.join(map(str, signals.columns))}"
            )
        return signals[name]

    def numbers(self, series: pd.Series) -> np.ndarray:
        values = pd.to_numeric(series, errors="coerce")
        if values.isna().all() and series.notna().any():
            raise RecipeError(f"Rule '{self.label}' compares numbers but column {series.name!r} is not numeric")
        return values.to_numpy(dtype=float)
