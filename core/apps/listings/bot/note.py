"""A rough seller's note -> listing fields, each with the words of the note it came from.

Only what the note says is taken: a field without evidence stays missing (and the required-field check names
it), so a draft never states a fact the seller did not give. Prices, currencies and property facts reuse the
shared value parsers (core/values.py) and the scrapers' listing phrases, so "€1.299,50", "350 eur" and
"3 bedrooms, 85 m²" read the same here as on a scraped page. Sentences that carry no parsed fact are kept as
the seller's own details, word for word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.apps.listings.bot.categories import CATEGORIES, DEFAULT_CATEGORY, PROPERTY
from core.sources.listing_phrases import AREA_SQUARE_FEET, AREA_SQUARE_METRES, BATHROOMS, BEDROOMS
from core.values import (
    SQUARE_METRES_PER_SQUARE_FOOT,
    normalise_currency,
    parse_price,
    whole_if_integral,
)

MAX_NOTE_CHARS = 5000

_CURRENCY_WORDS = {"eur": "EUR", "euro": "EUR", "euros": "EUR", "usd": "USD", "dollar": "USD", "dollars": "USD",
                   "gbp": "GBP", "pound": "GBP", "pounds": "GBP", "chf": "CHF", "sek": "SEK", "nok": "NOK",
                   "dkk": "DKK", "pln": "PLN"}
_CURRENCY = r"(?:€|\$|£|eur(?:os?)?\b|usd\b|dollars?\b|gbp\b|pounds?\b|chf\b|sek\b|nok\b|dkk\b|pln\b)"
_AMOUNT = r"\d{1,3}(?:[.,' ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_PRICE_PATTERNS = (
    re.compile(rf"(?P<cur>{_CURRENCY})\s?(?P<amount>{_AMOUNT})\s?(?P<k>k\b)?", re.I),
    re.compile(rf"(?P<amount>{_AMOUNT})\s?(?P<k>k\b)?\s?(?P<cur>{_CURRENCY})", re.I),
    re.compile(rf"\b(?:asking|price[d:]?|for|ask|sell(?:ing)? for|wants?)\s*(?:is\s*)?(?P<amount>{_AMOUNT})"
               rf"\s?(?P<k>k\b)?(?!\s?(?:cm|mm|gb|tb|inch|m²|m2|km|years?|months?|%))", re.I),
)
_GROUPED_THOUSANDS = re.compile(r"\d{1,3}(?:[.,' ]\d{3})+")
_NEGOTIABLE = re.compile(r"\b(o\.?b\.?o|ono|or best offer|negotiable|open to offers|make (?:me )?an offer)\b", re.I)
_FIRM = re.compile(r"\b(firm|fixed price|non[- ]negotiable|not negotiable)\b", re.I)

# Most specific first: "like new" before "new", "needs repair" before everything.
_CONDITIONS = (
    ("needs repair", re.compile(r"\b(needs? (?:repair|work|fixing)|broken|for parts|not working|does ?n[o']t work"
                                r"|defect(?:ive)?)\b", re.I)),
    ("like new", re.compile(r"\b(like new|as new|barely used|hardly used|mint(?: condition)?|excellent condition"
                            r"|used (?:only )?(?:once|twice|a few times))\b", re.I)),
    ("new", re.compile(r"\b(brand new|new in box|unopened|still sealed|never used|unused|condition:? new)\b", re.I)),
    # "works perfectly" says it works, not what it looks like: it does not make a condition
    ("good", re.compile(r"\b(good (?:condition|shape|state)|well (?:kept|maintained)|in good nick)\b", re.I)),
    ("fair", re.compile(r"\b(fair condition|signs of (?:use|wear)|some wear|well used|used condition|worn)\b", re.I)),
)
_BRACKETED_CONDITION = re.compile(r"\((new|like new|good|fair|used|needs repair)\)", re.I)
_CONDITION_WORDS = {"used": "fair", "as new": "like new", "mint": "like new"}
_STATED_CONDITIONS = {"new", "like new", "good", "fair", "used", "needs repair", "as new", "mint"}
_COLOURS = ("black", "white", "red", "blue", "green", "grey", "gray", "silver", "gold", "brown", "beige", "pink",
            "purple", "orange", "yellow", "navy")  # oak, walnut...: materials, not colours
_COLOUR = re.compile(rf"\b({'|'.join(_COLOURS)})\b", re.I)
_MATERIAL = re.compile(r"\b(solid oak|oak|walnut|pine|teak|beech|leather|steel|stainless steel|aluminium|aluminum"
                       r"|carbon|glass|velvet|linen|cotton|wool|rattan|marble)\b", re.I)
_STORAGE = re.compile(r"\b(\d{2,4})\s?gb\b|\b([12])\s?tb\b", re.I)
_FRAME = re.compile(r"\b(\d{2})\s?(?:cm|\")\s?(?:frame)|\bframe(?: size)?:?\s?(\d{2})\s?(?:cm|\")?", re.I)
_SIZE = re.compile(r"\bsize:?\s?(x{0,3}s|s|m|l|x{1,3}l|\d{1,2}(?:[.,]5)?)\b|\b(\d{1,2}(?:[.,]\d)?)\s?(?:inch|in\.|\")"
                   r"(?:\s?(?:screen|display|wheels?))?", re.I)
_DIMENSIONS = re.compile(r"\b(\d{1,4}(?:[.,]\d)?\s?[x×]\s?\d{1,4}(?:[.,]\d)?(?:\s?[x×]\s?\d{1,4}(?:[.,]\d)?)?)\s?"
                         r"(cm|mm|m|in)\b", re.I)
_YEAR = re.compile(r"\b(?:bought|purchased|from|since|model year|year:?|in)\s*(?:in\s*)?((?:19[89]|20[0-3])\d)\b", re.I)
_YEAR_BUILT = re.compile(r"\b(?:built|constructed|year built:?)\s*(?:in\s*)?((?:1[89]|20)\d\d)\b", re.I)
_LOCATION = re.compile(r"\b(?:pick[- ]?up|collect(?:ion)?|located|based|location|available|viewing|situated)"
                       r"(?: only)?\s*(?:is\s*)?(?:in|from|at|near|:)\s*([A-Z][\w'’-]+(?:[ -][A-Z][\w'’-]+){0,2})")
_LOCATION_LABEL = re.compile(r"\blocation:\s*([^,.;\n]{2,60})", re.I)
_IN_PLACE = re.compile(r"\b(?:in|near)\s+([A-Z][a-zà-ÿ'’-]+(?:[ -][A-Z][a-zà-ÿ'’-]+)?)")
_DELIVERY = re.compile(r"\b(pick[- ]?up only|collection only|(?:can|will) (?:ship|deliver)|shipping (?:possible|"
                       r"available|at (?:the )?buyer'?s cost)|free delivery|delivery possible)\b", re.I)
_DEFECT = re.compile(r"\b(scratch\w*|dent\w*|crack\w*|stain\w*|tear|torn|chip\w*|missing|rust\w*|wobbl\w*|faded"
                     r"|scuff\w*|broken|wear|battery (?:health|life)[^,.;]*)\b", re.I)
_INCLUDED = re.compile(r"\b(?:comes with|includes?|including|incl\.?|with (?:the )?original)\s+([^.;\n]{3,120})",
                       re.I)
_PROPERTY_TYPE = re.compile(r"\b(apartment|flat|house|studio|condo|townhouse|villa|bungalow)\b", re.I)
_RENT = re.compile(r"\b(for rent|to rent|per month|/\s?month|p/?m\b|pcm\b|monthly rent)", re.I)
# "Galaxy S21", "EOS R6", "iPhone 13 Pro" after a brand: words with a digit or in capitals (not "128GB").
_MODEL_TOKEN = r"(?:[A-Za-z]*\d[\w-]*|[A-Z]{2,}[\w-]*)"
_MODEL_AFTER_BRAND = re.compile(rf"\s+((?:[A-Z][a-z]+\s+)?{_MODEL_TOKEN}(?:\s+(?!\d+\s?[GT]B\b)"
                                rf"(?:{_MODEL_TOKEN}|Pro|Max|Plus|Mini|Ultra|Lite))*)")
_BRAND_LABEL = re.compile(r"\bbrand:\s*([^,.;\n]{2,40})", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")  # a dot inside "jan@mail.example" or "1.250" ends nothing
# Capitalised words that are not places when they follow "in".
_NOT_PLACES = {"good", "great", "new", "mint", "excellent", "perfect", "black", "white", "the", "my", "a", "an",
               "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
               "november", "december", "stock", "box", "use", "total", "person"}


@dataclass
class ParsedNote:
    fields: dict = field(default_factory=dict)
    evidence: dict = field(default_factory=dict)  # field -> the words of the note it was read from

    def put(self, name: str, value, words: str) -> None:
        if value in (None, "", []) or name in self.fields:
            return
        self.fields[name] = value
        self.evidence[name] = " ".join(words.split())


def _amount(match: re.Match) -> float | None:
    text = match.group("amount")
    if _GROUPED_THOUSANDS.fullmatch(text):  # "1.250 €" is one thousand two hundred and fifty, not 1.25
        text = re.sub(r"\D", "", text)
    amount, _ = parse_price(text.replace("'", "").replace(" ", ""))
    if amount is not None and match.groupdict().get("k"):
        amount *= 1000
    return amount


def _currency(text: str | None) -> str | None:
    if not text:
        return None
    word = text.strip().lower()
    return _CURRENCY_WORDS.get(word) or normalise_currency(text.strip())


def _price(note: str, parsed: ParsedNote) -> None:
    for pattern in _PRICE_PATTERNS:
        for match in pattern.finditer(note):
            amount = _amount(match)
            if amount is None:
                continue
            parsed.put("price", whole_if_integral(round(amount, 2)), match.group(0))
            parsed.put("currency", _currency(match.groupdict().get("cur")), match.group(0))
            break
        if "price" in parsed.fields:
            break
    if _NEGOTIABLE.search(note):
        parsed.put("negotiable", True, _NEGOTIABLE.search(note).group(0))
    elif _FIRM.search(note):
        parsed.put("negotiable", False, _FIRM.search(note).group(0))


def _word_pattern(phrase: str) -> re.Pattern:
    return re.compile(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", re.I)


def _category(note: str, parsed: ParsedNote) -> None:
    """The category whose words the note uses most; property when it states bedrooms or a floor area."""
    best, best_hits, best_words = DEFAULT_CATEGORY, 0, ""
    for category in CATEGORIES.values():
        found = [k for k in category.keywords if _word_pattern(k).search(note)]
        found += [b for b in category.brands if _word_pattern(b).search(note)]
        if len(found) > best_hits:
            best, best_hits, best_words = category.name, len(found), ", ".join(found)
    has_area = AREA_SQUARE_METRES.search(note) or AREA_SQUARE_FEET.search(note)
    if best != PROPERTY and BEDROOMS.search(note) and has_area:
        best, best_words = PROPERTY, "bedrooms and floor area"
    parsed.put("category", best, best_words or "no category words: general")


def _item(note: str, parsed: ParsedNote) -> None:
    """What is sold, as the note names it: the longest category word it uses ("cargo bike" over "bike")."""
    category = CATEGORIES[parsed.fields.get("category", DEFAULT_CATEGORY)]
    if category.name == PROPERTY:
        return  # its words ("bedroom", "for rent") are facts, not the thing; property_type names it
    words = sorted((k for k in category.keywords if _word_pattern(k).search(note)), key=len, reverse=True)
    if words:
        match = _word_pattern(words[0]).search(note)
        # keep one describing word before it when it is a plain adjective-like word ("city bike", "oak table")
        before = re.search(r"([A-Za-z]+)\s+$", note[:match.start()])
        item = match.group(0).lower()
        if before and before.group(1).lower() in _ITEM_MODIFIERS:
            item = f"{before.group(1).lower()} {item}"
        parsed.put("item", item, item)


_ITEM_MODIFIERS = {"city", "mountain", "road", "cargo", "folding", "electric", "kids", "gravel", "dining",
                   "coffee", "office", "corner", "sofa", "compact", "mirrorless", "espresso", "stand", "winter",
                   "rain", "leather", "denim", "running", "hiking", "gaming", "vintage", "wooden", "oak", "glass"}


def _brand_and_model(note: str, parsed: ParsedNote) -> None:
    labelled = _BRAND_LABEL.search(note)
    if labelled:
        parsed.put("brand", labelled.group(1).strip(), labelled.group(0))
        return
    brands = [b for c in CATEGORIES.values() for b in c.brands]
    hits = sorted((m.start(), b, m) for b in brands for m in [_word_pattern(b).search(note)] if m)
    if not hits:
        return
    _, brand, match = hits[0]
    parsed.put("brand", brand, match.group(0))
    model = _MODEL_AFTER_BRAND.match(note[match.end():])
    if model:
        parsed.put("model", model.group(1), note[match.start():match.end() + model.end()])


def _condition(note: str, parsed: ParsedNote) -> None:
    # A condition the seller states as such wins: "(used)" as marketplaces print it, or a clause that is only a
    # condition word ("..., like new, 350 eur"). Then the phrases that say it in words.
    bracketed = _BRACKETED_CONDITION.search(note)
    stated = bracketed.group(1) if bracketed else next(
        (c for c in _note_clauses(note) if c.lower() in _STATED_CONDITIONS), None)
    if stated:
        word = stated.lower()
        parsed.put("condition", _CONDITION_WORDS.get(word, word), bracketed.group(0) if bracketed else stated)
        return
    for name, pattern in _CONDITIONS:
        match = pattern.search(note)
        if match:
            parsed.put("condition", name, match.group(0))
            return


def _sizes(note: str, parsed: ParsedNote) -> None:
    frame = _FRAME.search(note)
    if frame:
        parsed.put("size", f"{frame.group(1) or frame.group(2)} cm frame", frame.group(0))
    storage = _STORAGE.search(note)
    if storage:
        parsed.put("storage", f"{storage.group(1)} GB" if storage.group(1) else f"{storage.group(2)} TB",
                   storage.group(0))
    size = _SIZE.search(note)
    if size:
        value = size.group(1).upper() if size.group(1) else f"{size.group(2)} inch"
        parsed.put("size", value, size.group(0))
    dimensions = _DIMENSIONS.search(note)
    if dimensions:
        sides = re.split(r"\s?[x×]\s?", dimensions.group(1))
        parsed.put("dimensions", f"{' x '.join(sides)} {dimensions.group(2).lower()}", dimensions.group(0))


def _place(note: str, parsed: ParsedNote) -> None:
    labelled = _LOCATION_LABEL.search(note)
    if labelled:
        parsed.put("location", labelled.group(1).strip(), labelled.group(0))
        return
    for pattern in (_LOCATION, _IN_PLACE):
        for match in pattern.finditer(note):
            place = match.group(1).strip()
            first = place.split()[0].lower()
            brands = {b.lower() for c in CATEGORIES.values() for b in c.brands}
            if first in _NOT_PLACES or place.lower() in brands:
                continue
            parsed.put("location", place, match.group(0))
            return


def _property(note: str, parsed: ParsedNote) -> None:
    for name, pattern in (("beds", BEDROOMS), ("baths", BATHROOMS)):
        match = pattern.search(note)
        if match:
            parsed.put(name, whole_if_integral(parse_price(match.group(1).replace(",", "."))[0]), match.group(0))
    area = AREA_SQUARE_METRES.search(note)
    if area:
        parsed.put("area_m2", whole_if_integral(parse_price(area.group(1).strip())[0]), area.group(0))
    else:
        area = AREA_SQUARE_FEET.search(note)
        feet = parse_price(area.group(1).strip())[0] if area else None
        if feet:
            parsed.put("area_m2", whole_if_integral(round(feet * SQUARE_METRES_PER_SQUARE_FOOT, 1)), area.group(0))
    kind = _PROPERTY_TYPE.search(note)
    if kind:
        parsed.put("property_type", kind.group(1).lower(), kind.group(0))
    built = _YEAR_BUILT.search(note)
    if built:
        parsed.put("year_built", int(built.group(1)), built.group(0))
    rent = _RENT.search(note)
    parsed.put("listing_type", "rent" if rent else "sale", rent.group(0) if rent else "no rent words: for sale")


def _clauses(note: str, pattern: re.Pattern) -> list[str]:
    """The clauses of the note (split at sentence ends and commas) that match `pattern`, as written."""
    return [clause for clause in _note_clauses(note) if pattern.search(clause)]


def _note_clauses(note: str) -> list[str]:
    """The note cut at sentence ends, commas and semicolons, each clause as written (without its end mark)."""
    clauses = (c for s in _SENTENCE_END.split(note) for c in re.split(r"[,;]\s+|[,;]$", s))
    return [" ".join(c.split()).strip(" ,;").rstrip(".!? ") for c in clauses if c and c.strip(" ,;.!?")]


def parse_note(note: str) -> ParsedNote:
    """Listing fields from a rough note. Raises ValueError for an empty or oversized note."""
    if not isinstance(note, str) or not note.strip():
        raise ValueError("Write a note about what you sell (for example: 'Gazelle city bike, 57 cm frame, "
                         "good condition, 350 euro, pick-up in Utrecht').")
    if len(note) > MAX_NOTE_CHARS:
        raise ValueError(f"The note is {len(note)} characters long; keep it under {MAX_NOTE_CHARS}.")
    note = note.replace("\x00", " ")
    parsed = ParsedNote()
    _category(note, parsed)
    _item(note, parsed)
    _brand_and_model(note, parsed)
    _price(note, parsed)
    _condition(note, parsed)
    _sizes(note, parsed)
    colour = _COLOUR.search(note)
    if colour:
        parsed.put("colour", colour.group(1).lower().replace("gray", "grey"), colour.group(0))
    material = _MATERIAL.search(note)
    if material:
        parsed.put("material", material.group(1).lower(), material.group(0))
    year = _YEAR.search(note)
    if year and parsed.fields.get("category") != PROPERTY:
        parsed.put("year", int(year.group(1)), year.group(0))
    _place(note, parsed)
    delivery = _DELIVERY.search(note)
    if delivery:
        parsed.put("delivery", delivery.group(1).lower(), delivery.group(0))
    if parsed.fields.get("category") == PROPERTY:
        _property(note, parsed)
    defects = _clauses(note, _DEFECT)
    parsed.put("defects", defects, "; ".join(defects))
    included = [m.group(1).strip().rstrip(".") for m in _INCLUDED.finditer(note)]
    parsed.put("included", included, "; ".join(included))
    parsed.put("details", _unparsed_clauses(note, parsed), "clauses with no parsed fact")
    return parsed


def _unparsed_clauses(note: str, parsed: ParsedNote) -> list[str]:
    """The seller's clauses that no field was read from, kept as written (they may hold what a buyer needs)."""
    used = [words.lower() for name, words in parsed.evidence.items()
            if name not in ("category", "listing_type", "item") and words]
    used += [str(value).lower() for value in (parsed.fields.get("item"),) if value]
    return [clause for clause in _note_clauses(note)
            if len(clause) >= 3 and not any(words in clause.lower() for words in used)]
