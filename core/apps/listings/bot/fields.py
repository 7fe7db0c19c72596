"""Structured listing fields as a user or a JSON file gives them -> the typed fields the bot drafts from.

Bad values are refused with a message naming the field and what was given; nothing is guessed.
"""

from __future__ import annotations

from core.apps.listings.bot.categories import CATEGORIES, CONDITIONS, DEFAULT_CATEGORY
from core.values import normalise_currency, parse_price, whole_if_integral

TEXT_FIELDS = ("title", "item", "brand", "model", "condition", "size", "storage", "colour", "dimensions",
               "material", "location", "delivery", "property_type", "listing_type", "shutter_count")
LIST_FIELDS = ("defects", "included", "details")
NUMBER_FIELDS = {"beds": (0, 50), "baths": (0, 50), "area_m2": (1, 100_000), "year": (1900, 2100),
                 "year_built": (1500, 2100)}
MAX_TEXT = 300
MAX_LIST_ITEMS = 20
MAX_EXTRA_FIELDS = 20


class FieldError(ValueError):
    """One or more fields are unusable; `problems` names each."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _text(name: str, value, problems: list[str]) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dict | list | bool):
        problems.append(f"{name} must be text, got {type(value).__name__}")
        return None
    text = " ".join(str(value).replace("\x00", " ").split())
    if len(text) > MAX_TEXT:
        problems.append(f"{name} is {len(text)} characters long; the limit is {MAX_TEXT}")
        return None
    return text


def _number(name: str, value, problems: list[str]):
    if value is None or value == "":
        return None
    low, high = NUMBER_FIELDS[name]
    amount, _ = parse_price(value) if not isinstance(value, bool) else (None, None)
    if amount is None or not low <= amount <= high:
        problems.append(f"{name} must be a number from {low} to {high}, got {str(value)[:40]!r}")
        return None
    return whole_if_integral(amount)


def normalise_fields(raw: dict) -> dict:
    """Typed fields from user input. Raises FieldError listing every unusable field."""
    if not isinstance(raw, dict):
        raise FieldError([f"fields must be a JSON object (name: value), got {type(raw).__name__}"])
    problems: list[str] = []
    fields: dict = {}
    category = (_text("category", raw.get("category"), problems) or DEFAULT_CATEGORY).lower()
    if category not in CATEGORIES:
        problems.append(f"category {category!r} is not one of {', '.join(sorted(CATEGORIES))}")
        category = DEFAULT_CATEGORY
    fields["category"] = category
    for name in TEXT_FIELDS:
        value = _text(name, raw.get(name), problems)
        if value is not None:
            fields[name] = value
    if fields.get("condition") and fields["condition"].lower() not in CONDITIONS:
        problems.append(f"condition {fields['condition']!r} is not one of {', '.join(CONDITIONS)}")
    elif fields.get("condition"):
        fields["condition"] = fields["condition"].lower()
    _price(raw, fields, problems)
    for name in NUMBER_FIELDS:
        value = _number(name, raw.get(name), problems)
        if value is not None:
            fields[name] = value
    for name in LIST_FIELDS:
        value = raw.get(name)
        if value in (None, "", []):
            continue
        items = value if isinstance(value, list) else [value]
        texts = [t for t in (_text(name, item, problems) for item in items[:MAX_LIST_ITEMS]) if t]
        if texts:
            fields[name] = texts
    if "negotiable" in raw and raw["negotiable"] is not None:
        if not isinstance(raw["negotiable"], bool):
            problems.append(f"negotiable must be true or false, got {str(raw['negotiable'])[:20]!r}")
        else:
            fields["negotiable"] = raw["negotiable"]
    known = {"category", "price", "currency", "negotiable", *TEXT_FIELDS, *LIST_FIELDS, *NUMBER_FIELDS}
    extra = {k: v for k, v in raw.items() if k not in known}
    if len(extra) > MAX_EXTRA_FIELDS:
        problems.append(f"{len(extra)} unknown fields; at most {MAX_EXTRA_FIELDS} extra attributes are kept")
    for name, value in list(extra.items())[:MAX_EXTRA_FIELDS]:
        text = _text(str(name)[:40], value, problems)
        if text is not None:
            fields.setdefault("extra", {})[str(name)[:40]] = text
    if problems:
        raise FieldError(problems)
    return fields


def _price(raw: dict, fields: dict, problems: list[str]) -> None:
    value = raw.get("price")
    currency = raw.get("currency")
    if value not in (None, ""):
        amount, shown = parse_price(value) if not isinstance(value, bool) else (None, None)
        if amount is None or amount > 1e9:
            problems.append(f"price must be a positive amount, got {str(value)[:40]!r}")
        else:
            fields["price"] = whole_if_integral(round(amount, 2))
            currency = currency or shown
    if currency not in (None, ""):
        code = normalise_currency(str(currency))
        if code is None:
            problems.append(f"currency {str(currency)[:10]!r} is not a currency code such as EUR, USD or GBP")
        else:
            fields["currency"] = code
