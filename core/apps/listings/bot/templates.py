"""Local drafting: a title, a description and an attribute table from the fields, with no service and no model.

Every sentence is built from a field the seller gave; a missing field leaves its sentence out rather than
being filled with a plausible guess. Known flaws are always stated. Several wordings exist for each part and a
draft's variant is picked from its fields, so two listings rarely read alike; `variant` asks for another one.
"""

from __future__ import annotations

import hashlib
import json

from babel.numbers import format_currency

from core.apps.listings.bot.categories import DEFAULT_CATEGORY, PROPERTY, category_of, field_label

MAX_TITLE = 80
VARIANTS = 3
ATTRIBUTE_ORDER = ("item", "brand", "model", "condition", "size", "storage", "colour", "dimensions", "material",
                   "year", "shutter_count", "property_type", "listing_type", "beds", "baths", "area_m2",
                   "year_built", "location", "delivery", "negotiable", "included", "defects")


def money(amount: float | None, currency: str | None) -> str:
    if amount is None:
        return ""
    pattern = "¤#,##0" if float(amount).is_integer() else "¤#,##0.00"
    return format_currency(amount, currency or "EUR", locale="en", format=pattern, currency_digits=False)


def default_variant(fields: dict) -> int:
    """A stable wording per set of facts: the same fields give the same text, different items differ."""
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).digest()
    return digest[0] % VARIANTS


def attributes_of(fields: dict) -> dict:
    """The attribute table: the given facts in a stable order, lists joined, extras last."""
    attributes = {}
    for name in ATTRIBUTE_ORDER:
        value = fields.get(name)
        if value in (None, "", []):
            continue
        attributes[name] = "; ".join(value) if isinstance(value, list) else value
    attributes.update(fields.get("extra") or {})
    return attributes


def _thing(fields: dict) -> str:
    """"blue Gazelle city bike" from colour, brand, model and item, whichever are given."""
    model, item = fields.get("model"), fields.get("item")
    if model and item and item.lower() in model.lower():
        item = None  # "Samsung Galaxy S21", not "Samsung Galaxy S21 galaxy"
    words = [fields.get("brand"), model, item]
    named = " ".join(w for w in words if w)
    if named:
        return named
    if fields.get("category") not in (None, DEFAULT_CATEGORY):
        return category_of(fields.get("category")).label.lower().split(" & ")[0].rstrip("s")
    # Nothing names the thing: the seller's own first words do, rather than a made-up name.
    return (fields.get("details") or ["item"])[0][:60]


def draft_title(fields: dict) -> str:
    if fields.get("title"):
        return fields["title"][:MAX_TITLE]
    if fields.get("category") == PROPERTY:
        return _property_title(fields)
    parts = [_thing(fields)]
    for name in ("size", "storage", "colour"):
        if fields.get(name):
            parts.append(str(fields[name]))
    title = ", ".join(parts)
    if fields.get("condition") in ("new", "like new"):
        title += f" ({fields['condition']})"
    return title[:1].upper() + title[1:MAX_TITLE]


def _property_title(fields: dict) -> str:
    kind = fields.get("property_type") or "property"
    beds = f"{fields['beds']}-bedroom " if fields.get("beds") is not None else ""
    deal = "for rent" if fields.get("listing_type") == "rent" else "for sale"
    title = f"{beds}{kind} {deal}"
    if fields.get("location"):
        title += f" in {fields['location']}"
    if fields.get("area_m2"):
        title += f", {fields['area_m2']} m²"
    return title[:1].upper() + title[1:MAX_TITLE]


_OPENINGS = ("For sale: {thing}.", "On offer: {thing}.", "Available now: {thing}.")
_CONDITION_LINES = {
    "new": ("It is new.", "Condition: new.", "New and unused."),
    "like new": ("It is in like-new condition.", "Condition: like new.", "Barely used, like new."),
    "good": ("It is in good condition.", "Condition: good.", "Good condition overall."),
    "fair": ("It shows signs of use.", "Condition: fair, with visible wear.", "Used, in fair condition."),
    "needs repair": ("It needs repair and is sold as is.", "Condition: needs repair (sold as is).",
                     "Sold as is: it needs repair."),
}
_PRICE_LINES = ("Asking {price}{terms}.", "Price: {price}{terms}.", "{price}{terms}.")


def _facts_line(fields: dict) -> str:
    facts = []
    for name in ("size", "storage", "dimensions", "material", "shutter_count"):
        if fields.get(name):
            facts.append(f"{field_label(name)}: {fields[name]}")
    if fields.get("year"):
        facts.append(f"year: {fields['year']}")
    for name, value in (fields.get("extra") or {}).items():
        facts.append(f"{field_label(name)}: {value}")
    return ("Details: " + "; ".join(facts) + ".") if facts else ""


def _property_lines(fields: dict) -> list[str]:
    facts = []
    if fields.get("beds") is not None:
        facts.append(f"{fields['beds']} bedroom{'s' if fields['beds'] != 1 else ''}")
    if fields.get("baths") is not None:
        facts.append(f"{fields['baths']} bathroom{'s' if fields['baths'] != 1 else ''}")
    if fields.get("area_m2"):
        facts.append(f"{fields['area_m2']} m² of floor area")
    if fields.get("year_built"):
        facts.append(f"built in {fields['year_built']}")
    kind = fields.get("property_type") or "property"
    lines = [_with_article(kind).capitalize() + (" with " + ", ".join(facts) if facts else "") + "."]
    if fields.get("location"):
        lines.append(f"Location: {fields['location']}.")
    return lines


def _price_line(fields: dict, variant: int) -> str:
    if fields.get("price") is None:
        return ""
    price = money(fields["price"], fields.get("currency"))
    terms = {True: " (open to offers)", False: ", firm"}.get(fields.get("negotiable"), "")
    if fields.get("category") == PROPERTY and fields.get("listing_type") == "rent":
        return f"Rent: {price} per month{terms}."
    return _PRICE_LINES[variant % len(_PRICE_LINES)].format(price=price, terms=terms)


def draft_description(fields: dict, variant: int | None = None) -> str:
    variant = default_variant(fields) if variant is None else variant
    is_property = fields.get("category") == PROPERTY
    lines = _property_lines(fields) if is_property else [
        _OPENINGS[variant % len(_OPENINGS)].format(thing=_with_article(_thing_with_colour(fields)))]
    condition = fields.get("condition")
    if condition in _CONDITION_LINES:
        lines.append(_CONDITION_LINES[condition][variant % VARIANTS])
    if not is_property:
        lines.append(_facts_line(fields))
    if fields.get("defects"):
        lines.append("Known flaws: " + "; ".join(fields["defects"]) + ".")
    if fields.get("included"):
        lines.append("Included: " + "; ".join(fields["included"]) + ".")
    if fields.get("details"):
        lines.append("Seller's notes: " + ". ".join(d.rstrip(".") for d in fields["details"]) + ".")
    logistics = [_price_line(fields, variant)]
    if fields.get("location") and not is_property:
        logistics.append(f"Pick-up in {fields['location']}.")
    if fields.get("delivery"):
        logistics.append(f"Delivery: {fields['delivery']}.")
    lines.append(" ".join(part for part in logistics if part))
    return "\n\n".join(line for line in lines if line)


def _thing_with_colour(fields: dict) -> str:
    thing = _thing(fields)
    return f"{fields['colour']} {thing}" if fields.get("colour") else thing


def _with_article(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def template_draft(fields: dict, variant: int | None = None) -> dict:
    """{title, description, attributes, method} drafted locally from `fields`."""
    variant = default_variant(fields) if variant is None else variant % VARIANTS
    return {"title": draft_title(fields), "description": draft_description(fields, variant),
            "attributes": attributes_of(fields), "method": f"template:{variant + 1}"}
