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

Each rule kind is one typed model in core/refine/rule_kinds/ (how it parses, judges, labels and is edited).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from core.refine.rule_kinds import parse_rule, rule_kinds
from core.refine.rule_kinds.base import RecipeError, RuleBodyError, RuleKind, capped, mapping, number, strings
from core.refine.signals.base import DEFAULT_QUALITY_WEIGHTS, SignalParams
from core.store.lake import atomic_path

__all__ = ["Recipe", "RecipeError", "Rule", "parse_recipe", "parse_rule", "recipe_from_yaml", "load_recipe",
           "save_recipe", "default_recipe", "default_recipe_names"]

RECIPES_DIR = Path(__file__).resolve().parent / "recipes"
MAX_RECIPE_CHARS = 64 * 1024  # the shipped recipes are under 1 KB
Rule = RuleKind  # one typed model per kind: core/refine/rule_kinds/


@dataclass(frozen=True)
class Recipe:
    name: str
    rules: tuple[RuleKind, ...]
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
        """Signal parameters carrying this recipe's topic and quality weights, and switching on the signals
        its rules need computed on demand (RuleKind.needs_signal_params)."""
        return replace(
            base or SignalParams(),
            topic_keywords=self.topic_keywords,
            topic_examples=self.topic_examples,
            quality_weights=dict(self.quality_weights),
            **{name: value for rule in self.rules for name, value in rule.needs_signal_params.items()},
        )


def _checked(where: str, parse, *args):
    """parse(*args), its RuleBodyError turned into a RecipeError naming `where`."""
    try:
        return parse(*args)
    except RuleBodyError as exc:
        raise RecipeError(capped(f"{where}: {exc}")) from None


def parse_recipe(data: Any) -> Recipe:
    """A Recipe from its YAML/JSON mapping, with every problem named."""
    data = _checked("recipe", mapping, data, {"name", "description", "quality_weights", "topic", "rules"})
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RecipeError("recipe: needs a 'name'")
    rules_raw = data.get("rules")
    if not isinstance(rules_raw, list):
        raise RecipeError("recipe: 'rules' must be a list (it may be empty)")
    rules = tuple(parse_rule(raw, i) for i, raw in enumerate(rules_raw, start=1))
    for kind, model in rule_kinds().items():
        if model.once_per_recipe and sum(r.kind == kind for r in rules) > 1:
            raise RecipeError(f"recipe: at most one '{kind}' rule")
    weights = dict(DEFAULT_QUALITY_WEIGHTS)
    if data.get("quality_weights") is not None:
        given = _checked("quality_weights", mapping, data["quality_weights"], set(DEFAULT_QUALITY_WEIGHTS))
        weights = {k: _checked("quality_weights", number, given.get(k, 0.0), k) for k in DEFAULT_QUALITY_WEIGHTS}
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise RecipeError(capped(f"quality_weights: must be >= 0 with a positive sum, got {weights}"))
    topic = _checked("topic", mapping, data.get("topic") or {}, {"keywords", "examples"})
    description = data.get("description") or ""
    if not isinstance(description, str):
        raise RecipeError("recipe: 'description' must be text")
    return Recipe(
        name=name.strip(),
        rules=rules,
        description=description.strip(),
        quality_weights=weights,
        topic_keywords=_checked("topic", strings, topic.get("keywords") or [], "keywords"),
        topic_examples=_checked("topic", strings, topic.get("examples") or [], "examples"),
    )


class _RecipeLoader(yaml.SafeLoader):
    """SafeLoader without aliases: a recipe never needs them, and nested aliases ("billion laughs")
    turn a few hundred bytes into gigabytes of expanded values."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise RecipeError(capped(f"recipe uses a YAML alias (*{event.anchor}) at line "
                                      f"{event.start_mark.line + 1}; write the values out instead"))
        return super().compose_node(parent, index)


def recipe_from_yaml(text: str) -> Recipe:
    if len(text) > MAX_RECIPE_CHARS:
        raise RecipeError(f"recipe is {len(text):,} characters; the limit is {MAX_RECIPE_CHARS:,}")
    loader = _RecipeLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise RecipeError(capped(f"recipe is not valid YAML: {exc}")) from exc
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
