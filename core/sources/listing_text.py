"""Listing fields read from what a visitor sees, for pages without (complete) structured data.

Every rule here is a convention shared across shops, not a site's markup: labelled values
("SKU: 123", a "Brand" table row), price elements named *price* in the buy box, stock phrases
in the main product area, and add-to-cart controls.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from core.sources.listing_phrases import (
    ADD_TO_CART_ATTRIBUTE,
    ADD_TO_CART_TEXT,
    AREA_SQUARE_FEET,
    AREA_SQUARE_METRES,
    BATHROOMS,
    BEDROOMS,
    CURRENCY_HINT,
    IN_STOCK_PHRASE,
    LABEL_TO_FIELD,
    NOT_SELLING_PRICE_TOKENS,
    OUT_OF_STOCK_PHRASE,
    PRICE_TOKEN,
)
from core.sources.visible_text import AncestryCache, Chunk, attribute_tokens, display_width, visible_chunks
from core.values import (
    IN_STOCK,
    OUT_OF_STOCK,
    SQUARE_METRES_PER_SQUARE_FOOT,
    code_from_url,
    normalise_code,
    normalise_currency,
    normalise_gtin,
    normalise_text,
    parse_price,
    whole_if_integral,
)

_LABEL_SEPARATORS = ":：#"
_LABEL_PUNCTUATION = " .:#：-–()[]〈〉【】「」（）"
_MAX_LABEL_CHUNK = 80
_MAX_STOCK_MESSAGE = 60
_PROPERTY_TEXT_CHARS = 20000
_STRUCK_TAGS = frozenset({"del", "s", "strike"})
_MAX_PRICE_TEXT = 40
# A price element holds a price and at most a short label ("Price:", "from", "inkl. MwSt.").
_MAX_PRICE_LABEL_CHARS = 15
_AMOUNT_OR_PUNCTUATION = re.compile(r"[\d\s.,'’:;*()/\-–]+")


def _field_of_label(label: str) -> str | None:
    return LABEL_TO_FIELD.get(label.strip(_LABEL_PUNCTUATION).lower())


def _split_label(text: str) -> tuple[str | None, str]:
    """(field, value written in the same chunk) for "SKU: 123", "〈商品編號：M1〉", "Bestellnummer 106606"."""
    for separator in _LABEL_SEPARATORS:
        if separator in text:
            label, _, value = text.partition(separator)
            field = _field_of_label(label)
            if field:
                return field, value.strip(_LABEL_PUNCTUATION)
    words = text.split()
    for label_length in (1, 2, 3):
        if len(words) == label_length + 1:
            field = _field_of_label(" ".join(words[:label_length]))
            if field and any(char.isdigit() for char in words[-1]):
                return field, words[-1].strip(_LABEL_PUNCTUATION)
    return _field_of_label(text), ""


def _label_value_pairs(chunks: list[Chunk], ancestry: AncestryCache) -> dict[str, str]:
    """First plausible value per field from "Label: value" text or a label chunk followed by its value."""
    found: dict[str, str] = {}
    for index, chunk in enumerate(chunks):
        if len(chunk.text) > _MAX_LABEL_CHUNK:
            continue
        field, value = _split_label(chunk.text)
        if field is None or field in found or ancestry.is_elsewhere(chunk.element):
            continue
        if not value and index + 1 < len(chunks):
            value = chunks[index + 1].text.strip(_LABEL_PUNCTUATION)
        normalised = _normalise_labelled(field, value)
        if normalised:
            found[field] = normalised
    return found


def _normalise_labelled(field: str, value: str) -> str | None:
    if field == "gtin":
        return normalise_gtin(value)
    if field == "brand":
        return normalise_text(value, 80) if value and len(value) <= 80 else None
    code = normalise_code(value, max_length=40)
    # A shop's or manufacturer's code has a digit; this keeps "Reference: see below" out.
    return code if code and any(char.isdigit() for char in code) else None


def _is_struck(element) -> bool:
    for ancestor in (element, *element.iterancestors()):
        if not isinstance(ancestor.tag, str):
            continue
        if ancestor.tag in _STRUCK_TAGS:
            return True
        if ancestor.tag in ("body", "html"):
            break
    return False


def _price_tokens(element) -> set[str]:
    # The raw attribute check first: most elements have no price word and need no tokenising.
    raw = f"{element.get('id') or ''} {element.get('class') or ''} {element.get('itemprop') or ''}".lower()
    if not PRICE_TOKEN.search(raw):
        return set()
    return attribute_tokens(element) | {(element.get("itemprop") or "").lower()}


def _price_like(element) -> bool:
    tokens = _price_tokens(element)
    return bool(tokens) and not tokens & NOT_SELLING_PRICE_TOKENS


def _holds_a_price_nobody_pays(element) -> bool:
    """A price box that also shows the old or struck-through price: read its parts, not its whole text."""
    for descendant in element.iterdescendants():
        if not isinstance(descendant.tag, str):
            continue
        if descendant.tag in _STRUCK_TAGS or _price_tokens(descendant) & NOT_SELLING_PRICE_TOKENS:
            return True
    return False


def _links_elsewhere(element, page_url: str | None) -> bool:
    """True inside a link to another page: a tile of another product, not the page's own offer."""
    for ancestor in element.iterancestors("a"):
        href = (ancestor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:")):
            return False
        target = urlsplit(urljoin(page_url or "", href)).path.rstrip("/")
        return target != urlsplit(page_url or "").path.rstrip("/")
    return False


def _price_text_currency(text: str, url: str | None) -> tuple[float | None, str | None, bool]:
    """(amount, ISO currency, whether a currency is shown) when text is essentially one price."""
    amount, currency_text = parse_price(text)
    if amount is None:
        return None, None, False
    residue = _AMOUNT_OR_PUNCTUATION.sub("", CURRENCY_HINT.sub("", text))
    if display_width(residue) > _MAX_PRICE_LABEL_CHARS:
        return None, None, False
    shown = [currency_text] if currency_text else [m.group(0) for m in CURRENCY_HINT.finditer(text)]
    currency = next((code for code in (normalise_currency(c, url) for c in shown) if code), None)
    return amount, currency, currency is not None


def _price_candidates(tree, ancestry: AncestryCache, url: str | None) -> list[tuple[float, str | None]]:
    """Prices shown in elements named like a price in the page's own product area, in document order."""
    candidates = []
    for element in tree.xpath("//body//*[@class or @id or @itemprop]"):
        if not _price_like(element):
            continue
        text = " ".join(element.text_content().split())
        if not text or len(text) > _MAX_PRICE_TEXT:
            continue
        if _is_struck(element) or _holds_a_price_nobody_pays(element):
            continue
        amount, currency, has_currency = _price_text_currency(text, url)
        if amount is None:
            continue
        if not ancestry.is_elsewhere(element) and not _links_elsewhere(element, url):
            candidates.append((not has_currency, len(candidates), amount, currency))
    candidates.sort(key=lambda entry: entry[:2])
    return [(amount, currency) for *_, amount, currency in candidates]


def classify_stock_phrase(text: str | None) -> str | None:
    """InStock/OutOfStock for a stock message such as "Sold out" or "Auf Lager", else None."""
    if not text:
        return None
    if OUT_OF_STOCK_PHRASE.search(text):
        return OUT_OF_STOCK
    if IN_STOCK_PHRASE.search(text):
        return IN_STOCK
    return None


def _stock_from_phrases(chunks: list[Chunk], ancestry: AncestryCache, start: int) -> str | None:
    """Stock state from the first short stock message in the main area after the title.

    Only short chunks count: a status line says "Sold out", while a sentence that merely mentions
    stock ("ask us before ordering in case it is out of stock") is not one.
    """
    for chunk in chunks[start:]:
        if display_width(chunk.text) > _MAX_STOCK_MESSAGE or ancestry.is_elsewhere(chunk.element):
            continue
        state = classify_stock_phrase(chunk.text)
        if state:
            return state
    return None


def _add_to_cart_state(tree, ancestry: AncestryCache) -> str | None:
    """InStock when an enabled add-to-cart control exists, OutOfStock when all of them are disabled."""
    states = []
    for element in tree.xpath("//button | //input[@type='submit' or @type='button' or @type='image'] | //a"):
        label = " ".join(filter(None, (
            element.text_content() if element.tag != "input" else element.get("value"),
            element.get("aria-label"), element.get("title"))))
        attributes = " ".join(filter(None, (element.get("id"), element.get("class"), element.get("name"))))
        if not (ADD_TO_CART_TEXT.search(label[:100]) or ADD_TO_CART_ATTRIBUTE.search(attributes)):
            continue
        if ancestry.is_elsewhere(element):
            continue
        disabled = element.get("disabled") is not None or "disabled" in attribute_tokens(element)
        states.append(OUT_OF_STOCK if disabled else IN_STOCK)
    if not states:
        return None
    return IN_STOCK if IN_STOCK in states else OUT_OF_STOCK


def _title_chunks(tree, chunks: list[Chunk]) -> list[Chunk]:
    """Chunks of the first non-empty <h1>, the product's name on nearly every shop."""
    for heading in tree.iter("h1"):
        heading_elements = set(heading.iter())
        inside = [chunk for chunk in chunks if chunk.element in heading_elements]
        if inside:
            return inside
    return []


def _page_url(tree, url: str | None) -> str | None:
    """The page's canonical URL when it declares one (it names the product, not the visit)."""
    for href in tree.xpath("//link[@rel='canonical']/@href | //meta[@property='og:url']/@content"):
        if href.strip():
            return urljoin(url or "", href.strip())
    return url


def property_attributes(chunks: list[Chunk], ancestry: AncestryCache, start: int) -> dict:
    """beds / baths / area_m2 from "3 bedrooms · 2 baths · 120 m²" style facts of a property listing.

    Only pages that state bedrooms or bathrooms count as property listings: a floor area alone
    also appears on vacuum cleaners and paint tins.
    """
    main_text = (chunk.text for chunk in chunks[start:] if not ancestry.is_elsewhere(chunk.element))
    text = " ".join(main_text)[:_PROPERTY_TEXT_CHARS]
    attributes = {}
    for name, pattern in (("beds", BEDROOMS), ("baths", BATHROOMS)):
        match = pattern.search(text)
        if match:
            attributes[name] = whole_if_integral(parse_price(match.group(1))[0])
    if not attributes:
        return {}
    area = AREA_SQUARE_METRES.search(text)
    if area:
        attributes["area_m2"] = whole_if_integral(parse_price(area.group(1))[0])
    else:
        area = AREA_SQUARE_FEET.search(text)
        amount = parse_price(area.group(1))[0] if area else None
        if amount:
            attributes["area_m2"] = whole_if_integral(round(amount * SQUARE_METRES_PER_SQUARE_FOOT, 1))
    return {name: value for name, value in attributes.items() if value is not None}


def fields_from_visible_text(tree, url: str | None) -> dict:
    """Best-effort listing fields from the visible page; only fields with evidence are returned."""
    if tree is None:
        return {}
    chunks = visible_chunks(tree)
    ancestry = AncestryCache()
    fields: dict = dict(_label_value_pairs(chunks, ancestry))
    if "sku" not in fields:
        fields["sku"] = code_from_url(_page_url(tree, url))
    title_chunks = _title_chunks(tree, chunks)
    if title_chunks:
        fields["title"] = normalise_text(" ".join(chunk.text for chunk in title_chunks), 300)
    prices = _price_candidates(tree, ancestry, url)
    if prices:
        fields["price"], currency = prices[0]
        if currency:
            fields["currency"] = currency
    title_position = title_chunks[0].position if title_chunks else 0
    availability = _stock_from_phrases(chunks, ancestry, title_position) \
        or _add_to_cart_state(tree, ancestry)
    if availability:
        fields["availability"] = availability
    attributes = property_attributes(chunks, ancestry, title_position)
    if attributes:
        fields["attributes"] = attributes
    return {key: value for key, value in fields.items() if value is not None}
