"""The rule kinds a recipe may use, one module each in this package.

Adding a rule kind is adding one module here that defines a RuleKind subclass with a Literal `kind`: it is
found at import, joins the discriminated union that parses rules, and the Refine and Quality pages draw it
from its controls. Nothing else names the kinds.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from typing import Annotated, Any, Union, get_args

from pydantic import Field, TypeAdapter, ValidationError

from core.refine.rule_kinds.base import RecipeError, RuleBodyError, RuleKind, brief, capped


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


@lru_cache(maxsize=1)
def rule_kinds() -> dict[str, type[RuleKind]]:
    """kind name -> model, in the order the modules are named (stable, so messages are too)."""
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        importlib.import_module(f"{__name__}.{module}")
    kinds: dict[str, type[RuleKind]] = {}
    for cls in _subclasses(RuleKind):
        annotation = cls.model_fields["kind"].annotation
        (name,) = get_args(annotation) or (None,)
        if isinstance(name, str):
            if name in kinds and kinds[name] is not cls:
                raise TypeError(f"Two rule kinds are named {name!r}: {kinds[name].__name__} and {cls.__name__}")
            kinds[name] = cls
    return dict(sorted(kinds.items()))


@lru_cache(maxsize=1)
def rule_adapter() -> TypeAdapter:
    """The discriminated union of every rule kind, on the field `kind`."""
    union = Union[tuple(rule_kinds().values())]  # noqa: UP007 - built at run time from the registered kinds
    return TypeAdapter(Annotated[union, Field(discriminator="kind")])


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, (RuleBodyError, ValueError)):
        return str(cause)
    where = ".".join(str(part) for part in error["loc"][1:])  # [0] is the kind itself
    return f"'{where}': {error['msg']}, got {brief(error.get('input'))}" if where else error["msg"]


def parse_rule(raw: Any, position: int) -> RuleKind:
    """A rule from its recipe form ({kind: body}) or its flat model_dump() form ({"kind": kind, ...})."""
    where = f"rule {position}"
    kinds = rule_kinds()
    if isinstance(raw, RuleKind):
        return raw
    if isinstance(raw, dict) and isinstance(raw.get("kind"), str) and raw["kind"] in kinds and len(raw) > 1:
        data, kind = raw, raw["kind"]
    elif isinstance(raw, dict) and len(raw) == 1:
        ((kind, body),) = raw.items()
        data = {"kind": kind, "body": body}
    else:
        raise RecipeError(capped(f"{where}: each rule is a one-key mapping such as {{min_length: 200}}, "
                                 f"got {brief(raw)}"))
    if kind not in kinds:
        raise RecipeError(capped(f"{where}: unknown rule {brief(kind)}; expected one of {', '.join(kinds)}"))
    try:
        return rule_adapter().validate_python(data)
    except ValidationError as exc:
        raise RecipeError(capped(f"{where} ({kind}): {_first_problem(exc)}")) from None


def addable_rules(present: list[str]) -> dict[str, Any]:
    """kind -> its example body, for each kind a recipe whose rules are of kinds `present` may still gain (a
    once-per-recipe kind already there is left out): what the Refine page offers under "Add a rule"."""
    return {name: cls.example if cls.starter is None else cls.starter for name, cls in rule_kinds().items()
            if cls.example is not None and not (cls.once_per_recipe and name in present)}
