"""Recipes: an ordered list of rules over signal columns, saved as YAML and identified by a stable hash.

YAML shape (each rule is a one-key mapping; the rules run in the order written):

    name: news
    description: Articles in any language, no boilerplate, one copy per story.
    quality_weights: {completeness: 0.2, clarity: 0.35, relevance: 0.15, validity: 0.3}
    topic: {keywords: [], examples: []}
    rules:
      - min_length: 300                                     # characters of text
      - languages: {allowed: any, min_confidence: 0.5}      # or a list of ISO 639-1 codes
      - values: {column: content_type, exclude: [boilerplate, code]}
      - threshold: {column: quality, min: 0.45}             # min and/or max
      - pii: redact                                         # drop | redact | keep
      - duplicates: keep_best                               # keep_best | keep_all
"""

from __future__ import annotations

import hashlib
import json
import reprlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from core.refine.signals.base import DEFAULT_QUALITY_WEIGHTS, SignalParams
from core.store.lake import atomic_path

RECIPES_DIR = Path(__file__).resolve().parent / "recipes"
RULE_KINDS = ("min_length", "languages", "values", "threshold", "pii", "duplicates")
PII_POLICIES = ("drop", "redact", "keep")
DUPLICATE_POLICIES = ("keep_best", "keep_all")
MAX_RECIPE_CHARS = 64 * 1024  # the shipped recipes are under 1 KB
MAX_MESSAGE_CHARS = 500
_BRIEF = reprlib.Repr()
_BRIEF.maxlevel, _BRIEF.maxdict, _BRIEF.maxlist, _BRIEF.maxstring, _BRIEF.maxother = 3, 6, 6, 60, 60


class RecipeError(ValueError):
    """A recipe that cannot be used; the message names the rule and what is wrong with it."""


@dataclass(frozen=True)
class Rule:
    kind: str
    column: str | None = None
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None  # None: any value
    exclude: tuple[str, ...] = ()
    min_confidence: float = 0.0
    policy: str | None = None

    @property
    def label(self) -> str:
        """How the rule shows in a funnel."""
        if self.kind == "min_length":
            return f"min_length>={_number(self.min)}"
        if self.kind == "threshold":
            bounds = [f"{self.column}>={_number(self.min)}"] if self.min is not None else []
            bounds += [f"{self.column}<={_number(self.max)}"] if self.max is not None else []
            return " and ".join(bounds)
        if self.kind == "languages":
            allowed = "any" if self.allowed is None else ",".join(self.allowed)
            return f"language in {allowed} (confidence>={_number(self.min_confidence)})"
        if self.kind == "values":
            if self.allowed is not None:
                return f"{self.column} in {','.join(self.allowed)}"
            return f"{self.column} not in {','.join(self.exclude)}"
        return f"{self.kind}:{self.policy}"

    def to_dict(self) -> dict:
        if self.kind == "min_length":
            return {"min_length": int(self.min)}
        if self.kind == "threshold":
            body = {"column": self.column}
            body.update({k: float(v) for k, v in (("min", self.min), ("max", self.max)) if v is not None})
            return {"threshold": body}
        if self.kind == "languages":
            allowed = "any" if self.allowed is None else list(self.allowed)
            return {"languages": {"allowed": allowed, "min_confidence": float(self.min_confidence)}}
        if self.kind == "values":
            body = {"column": self.column}
            body.update(
                {"allow": list(self.allowed)} if self.allowed is not None else {"exclude": list(self.exclude)}
            )
            return {"values": body}
        return {self.kind: self.policy}


def _number(value: float | None) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class Recipe:
    name: str
    rules: tuple[Rule, ...]
    description: str = ""
    quality_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_QUALITY_WEIGHTS))
    topic_keywords: tuple[str, ...] = ()
    topic_examples: tuple[str, ...] = ()

    @property
    def pii_policy(self) -> str:
        return next((r.policy for r in self.rules if r.kind == "pii"), "keep")

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "quality_weights": {k: float(v) for k, v in sorted(self.quality_weights.items())},
            "topic": {"keywords": list(self.topic_keywords), "examples": list(self.topic_examples)},
            "rules": [rule.to_dict() for rule in self.rules],
        }

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=110)

    @property
    def hash(self) -> str:
        """sha256 of the canonical JSON of the parsed recipe, first 12 hex digits: independent of key
        order, whitespace, comments and number spelling (0.5 vs 0.50) in the YAML."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]

    def signal_params(self, base: SignalParams | None = None) -> SignalParams:
        """Signal parameters carrying this recipe's topic and quality weights."""
        return replace(
            base or SignalParams(),
            topic_keywords=self.topic_keywords,
            topic_examples=self.topic_examples,
            quality_weights=dict(self.quality_weights),
        )


def recipe_hash(recipe: Recipe) -> str:
    return recipe.hash


def _brief(value: Any) -> str:
    """A bounded repr for messages: formatting a huge value (for example one built from YAML aliases)
    must not cost seconds and gigabytes just to say it is wrong."""
    return _BRIEF.repr(value)


def _fail(where: str, message: str) -> RecipeError:
    return RecipeError(_capped(f"{where}: {message}"))


def _capped(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE_CHARS else message[:MAX_MESSAGE_CHARS - 1] + "…"


def _float(value: Any, where: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(where, f"'{name}' must be a number, got {_brief(value)}")
    return float(value)


def _strings(value: Any, where: str, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(where, f"'{name}' must be a list of strings, got {_brief(value)}")
    return tuple(value)


def _mapping(value: Any, where: str, keys: set[str]) -> dict:
    if not isinstance(value, dict):
        raise _fail(where, f"expected a mapping with {sorted(keys)}, got {_brief(value)}")
    unknown = set(value) - keys
    if unknown:
        raise _fail(where, f"unknown key(s) {sorted(unknown)}; expected {sorted(keys)}")
    return value


def parse_rule(raw: Any, position: int) -> Rule:
    where = f"rule {position}"
    if not isinstance(raw, dict) or len(raw) != 1:
        raise _fail(where, f"each rule is a one-key mapping such as {{min_length: 200}}, got {_brief(raw)}")
    ((kind, body),) = raw.items()
    if kind not in RULE_KINDS:
        raise _fail(where, f"unknown rule {_brief(kind)}; expected one of {', '.join(RULE_KINDS)}")
    where = f"rule {position} ({kind})"
    if kind == "min_length":
        length = _float(body, where, "min_length")
        if length < 0 or length != int(length):
            raise _fail(where, f"min_length must be a whole number of characters >= 0, got {_brief(body)}")
        return Rule("min_length", column="text_length", min=length)
    if kind == "threshold":
        body = _mapping(body, where, {"column", "min", "max"})
        if not isinstance(body.get("column"), str) or not body["column"]:
            raise _fail(where, "needs 'column', the signal column to compare")
        low = _float(body["min"], where, "min") if "min" in body else None
        high = _float(body["max"], where, "max") if "max" in body else None
        if low is None and high is None:
            raise _fail(where, "needs 'min', 'max' or both")
        if low is not None and high is not None and low > high:
            raise _fail(where, f"min {low:g} is above max {high:g}")
        return Rule("threshold", column=body["column"], min=low, max=high)
    if kind == "languages":
        body = _mapping(body, where, {"allowed", "min_confidence"})
        allowed = body.get("allowed", "any")
        allowed = None if allowed == "any" else tuple(sorted(set(_strings(allowed, where, "allowed"))))
        confidence = _float(body.get("min_confidence", 0.0), where, "min_confidence")
        if not 0 <= confidence <= 1:
            raise _fail(where, f"min_confidence must be within 0..1, got {confidence:g}")
        return Rule("languages", column="language", allowed=allowed, min_confidence=confidence)
    if kind == "values":
        body = _mapping(body, where, {"column", "allow", "exclude"})
        if not isinstance(body.get("column"), str) or ("allow" in body) == ("exclude" in body):
            raise _fail(where, "needs 'column' and exactly one of 'allow' or 'exclude'")
        if "allow" in body:
            return Rule(
                "values",
                column=body["column"],
                allowed=tuple(sorted(set(_strings(body["allow"], where, "allow")))),
            )
        return Rule(
            "values",
            column=body["column"],
            exclude=tuple(sorted(set(_strings(body["exclude"], where, "exclude")))),
        )
    policies = PII_POLICIES if kind == "pii" else DUPLICATE_POLICIES
    if body not in policies:
        raise _fail(where, f"policy must be one of {', '.join(policies)}, got {_brief(body)}")
    return Rule(kind, policy=body)


def parse_recipe(data: Any) -> Recipe:
    """A Recipe from its YAML/JSON mapping, with every problem named."""
    data = _mapping(data, "recipe", {"name", "description", "quality_weights", "topic", "rules"})
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _fail("recipe", "needs a 'name'")
    rules_raw = data.get("rules")
    if not isinstance(rules_raw, list):
        raise _fail("recipe", "'rules' must be a list (it may be empty)")
    rules = tuple(parse_rule(raw, i) for i, raw in enumerate(rules_raw, start=1))
    for kind in ("pii", "duplicates"):
        if sum(r.kind == kind for r in rules) > 1:
            raise _fail("recipe", f"at most one '{kind}' rule")
    weights = dict(DEFAULT_QUALITY_WEIGHTS)
    if data.get("quality_weights") is not None:
        given = _mapping(data["quality_weights"], "quality_weights", set(DEFAULT_QUALITY_WEIGHTS))
        weights = {k: _float(given.get(k, 0.0), "quality_weights", k) for k in DEFAULT_QUALITY_WEIGHTS}
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise _fail("quality_weights", f"must be >= 0 with a positive sum, got {weights}")
    topic = _mapping(data.get("topic") or {}, "topic", {"keywords", "examples"})
    description = data.get("description") or ""
    if not isinstance(description, str):
        raise _fail("recipe", "'description' must be text")
    return Recipe(
        name=name.strip(),
        rules=rules,
        description=description.strip(),
        quality_weights=weights,
        topic_keywords=_strings(topic.get("keywords") or [], "topic", "keywords"),
        topic_examples=_strings(topic.get("examples") or [], "topic", "examples"),
    )


class _RecipeLoader(yaml.SafeLoader):
    """SafeLoader without aliases: a recipe never needs them, and nested aliases ("billion laughs")
    turn a few hundred bytes into gigabytes of expanded values."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise RecipeError(_capped(f"recipe uses a YAML alias (*{event.anchor}) at line "
                                      f"{event.start_mark.line + 1}; write the values out instead"))
        return super().compose_node(parent, index)


def recipe_from_yaml(text: str) -> Recipe:
    if len(text) > MAX_RECIPE_CHARS:
        raise RecipeError(f"recipe is {len(text):,} characters; the limit is {MAX_RECIPE_CHARS:,}")
    loader = _RecipeLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise RecipeError(_capped(f"recipe is not valid YAML: {exc}")) from exc
    except RecursionError:
        raise RecipeError("recipe is nested too deeply to be a recipe; a recipe is a short list of rules") from None
    finally:
        loader.dispose()
    return parse_recipe(data)


def load_recipe(path: Path) -> Recipe:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RecipeError(f"cannot read recipe {path}: {exc.strerror or exc}") from exc
    try:
        return recipe_from_yaml(text)
    except RecipeError as exc:
        raise RecipeError(f"{path}: {exc}") from exc


def save_recipe(recipe: Recipe, path: Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(recipe.to_yaml(), encoding="utf-8")
    return path


def default_recipe_names() -> list[str]:
    return sorted(p.stem for p in RECIPES_DIR.glob("*.yaml"))


def default_recipe(application: str = "text") -> Recipe:
    """The shipped recipe of an application (news, marketplace, property, uploads) or the default text one."""
    path = RECIPES_DIR / f"{application}.yaml"
    if not path.exists():
        raise RecipeError(f"No default recipe {application!r}; shipped: {', '.join(default_recipe_names())}")
    return load_recipe(path)
