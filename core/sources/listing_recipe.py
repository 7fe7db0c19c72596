"""User CSS recipes for listing pages.

A recipe maps a field to a CSS selector, or to {"selector": ..., "attr": ...} to read an attribute:
{"price": ".price", "images": {"selector": "img.photo", "attr": "src"}, "beds": ".facts .beds"}.
"""
from __future__ import annotations

from dataclasses import dataclass

from cssselect import GenericTranslator, SelectorError
from lxml import etree

_TRANSLATOR = GenericTranslator()
MULTI_VALUE_FIELDS = frozenset({"images"})
_URL_ATTRIBUTES = ("src", "data-src", "href", "content")


@dataclass(frozen=True)
class RecipeRule:
    field: str
    selector: str
    attr: str | None
    xpath: etree.XPath


def _rule_spec(field: str, spec) -> tuple[str, str | None]:
    if isinstance(spec, str):
        return spec, None
    if isinstance(spec, dict) and isinstance(spec.get("selector"), str):
        attr = spec.get("attr")
        if attr is not None and not isinstance(attr, str):
            raise ValueError(f"recipe field {field!r}: 'attr' must be a string, got {type(attr).__name__}")
        return spec["selector"], (attr or None)
    raise ValueError(
        f"recipe field {field!r}: expected a CSS selector string or "
        f'{{"selector": "...", "attr": "..."}}, got {spec!r}'
    )


def compile_recipe(recipe: dict | None) -> tuple[list[RecipeRule], dict[str, str]]:
    """Compiled rules plus {field: problem} for every entry that cannot be used."""
    if recipe is None:
        return [], {}
    if not isinstance(recipe, dict):
        problem = f"a recipe must be a dict of field -> CSS selector, got {type(recipe).__name__}"
        return [], {"recipe": problem}
    rules, errors = [], {}
    for field, spec in recipe.items():
        try:
            selector, attr = _rule_spec(str(field), spec)
            if not selector.strip():
                raise ValueError(f"recipe field {field!r}: empty selector")
            xpath = etree.XPath(_TRANSLATOR.css_to_xpath(selector))
        except (SelectorError, etree.XPathError) as error:
            errors[str(field)] = f"recipe field {field!r}: invalid CSS selector {spec!r} ({error})"
            continue
        except ValueError as error:
            errors[str(field)] = str(error)
            continue
        rules.append(RecipeRule(str(field), selector, attr.strip().lower() if attr else None, xpath))
    return rules, errors


def _element_value(element, attr: str | None, field: str) -> str | None:
    if attr and attr != "text":
        text = element.get(attr)
    elif field in MULTI_VALUE_FIELDS:
        text = next((element.get(name) for name in _URL_ATTRIBUTES if element.get(name)), None)
    elif element.tag == "meta":
        text = element.get("content")
    else:
        text = element.text_content()
    text = " ".join(text.split()) if text else ""
    return text or None


def apply_recipe(tree, rules: list[RecipeRule]) -> tuple[dict, list[str]]:
    """Raw values per field ({field: text} or a list for images) and the fields whose selector found
    no element with a value."""
    values: dict = {}
    unmatched: list[str] = []
    for rule in rules:
        elements = rule.xpath(tree) if tree is not None else []
        found = [v for v in (_element_value(e, rule.attr, rule.field) for e in elements) if v]
        if not found:
            unmatched.append(rule.field)
        elif rule.field in MULTI_VALUE_FIELDS:
            values[rule.field] = list(dict.fromkeys(found))
        else:
            values[rule.field] = found[0]
    return values, unmatched
