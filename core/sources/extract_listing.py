"""Product, marketplace and property listing fields from one HTML page.

Sources, most trusted first: the user's CSS recipe, JSON-LD, microdata/RDFa, product <meta> tags,
then what the page visibly shows. Each field takes the first source that has it, so a recipe can
fix one field and leave the rest to the page's own markup.
"""
from __future__ import annotations

from core.sources.html_text import as_html_text
from core.sources.listing_meta import LOOSE_ITEMPROPS, fields_from_meta
from core.sources.listing_recipe import apply_recipe, compile_recipe
from core.sources.listing_structured import main_entity_fields
from core.sources.listing_text import classify_stock_phrase, fields_from_visible_text
from core.sources.structured_data import (
    json_ld_nodes,
    loose_itemprops,
    meta_values,
    microdata_nodes,
    parse_html_tree,
    rdfa_nodes,
)
from core.values import (
    IN_STOCK,
    absolute_url,
    normalise_availability,
    normalise_code,
    normalise_currency,
    normalise_date,
    normalise_gtin,
    normalise_text,
    parse_price,
)

LISTING_FIELDS = (
    "title", "price", "currency", "sku", "availability", "brand", "gtin", "mpn", "description", "images",
    "category", "location", "seller", "posted_date", "attributes",
)
# Fields worth reading the visible page for when structured data leaves them empty.
_TEXT_FALLBACK_FIELDS = ("title", "price", "currency", "sku", "availability", "brand", "gtin", "mpn")
_NUMERIC_ATTRIBUTES = frozenset({"beds", "baths", "rooms", "area_m2", "area", "floor", "year_built"})


def empty_listing() -> dict:
    listing = dict.fromkeys(LISTING_FIELDS)
    listing["images"] = []
    listing["attributes"] = {}
    return listing


def _recipe_fields(raw: dict, url: str | None) -> dict:
    """Normalise the text a recipe's selectors returned into typed listing fields."""
    fields: dict = {}
    attributes: dict = {}
    currency_shown_with_price = None
    for field, value in raw.items():
        if field == "price":
            fields["price"], currency_text = parse_price(value)
            currency_shown_with_price = normalise_currency(currency_text, url)
        elif field == "currency":
            fields["currency"] = normalise_currency(value, url)
        elif field == "availability":
            fields["availability"] = normalise_availability(value) or classify_stock_phrase(value)
        elif field in ("sku", "mpn"):
            fields[field] = normalise_code(value) or normalise_text(value, 100)
        elif field == "gtin":
            fields["gtin"] = normalise_gtin(value)
        elif field == "images":
            fields["images"] = [u for u in (absolute_url(v, url) for v in value) if u]
        elif field == "posted_date":
            fields["posted_date"] = normalise_date(value)
        elif field in LISTING_FIELDS:
            fields[field] = normalise_text(value)
        else:
            number, _ = parse_price(value) if field in _NUMERIC_ATTRIBUTES else (None, None)
            attributes[field] = number if number is not None else normalise_text(value, 500)
    if not fields.get("currency"):
        fields["currency"] = currency_shown_with_price
    if attributes:
        fields["attributes"] = attributes
    return {key: value for key, value in fields.items() if value not in (None, [], {})}


def _merge(listing: dict, fields: dict) -> None:
    """Fill the listing's empty fields from a less trusted source."""
    for key, value in fields.items():
        if key == "attributes":
            for name, attribute in value.items():
                listing["attributes"].setdefault(name, attribute)
        elif key in listing and listing[key] in (None, []) and value not in (None, []):
            listing[key] = value


def _page_title(tree) -> str | None:
    for xpath in ("//h1", "//title"):
        found = tree.xpath(xpath)
        if found:
            text = normalise_text(found[0].text_content(), 300)
            if text:
                return text
    return None


def _extract(html: str, tree, url: str | None, rules) -> tuple[dict, dict, list[str]]:
    """(listing, raw recipe values, recipe fields that matched nothing)."""
    listing = empty_listing()
    if tree is None:
        return listing, {}, [rule.field for rule in rules]
    raw, unmatched = apply_recipe(tree, rules)
    _merge(listing, _recipe_fields(raw, url))
    page_title = _page_title(tree)
    _merge(listing, main_entity_fields(json_ld_nodes(tree), url, page_title))
    embedded_entities = microdata_nodes(tree, url) + rdfa_nodes(html, tree, url)
    _merge(listing, main_entity_fields(embedded_entities, url, page_title))
    _merge(listing, fields_from_meta(meta_values(tree), loose_itemprops(tree, LOOSE_ITEMPROPS), url))
    if any(listing[key] is None for key in _TEXT_FALLBACK_FIELDS):
        _merge(listing, fields_from_visible_text(tree, url))
    if listing["title"] is None:
        listing["title"] = page_title
    if listing["mpn"] is not None and listing["mpn"] == listing["sku"]:
        # Shop templates copy their own SKU into mpn; it says nothing about the manufacturer's number.
        listing["mpn"] = None
    if listing["availability"] is None and listing["price"] is not None:
        # A product page that states a price and no stock problem is selling the item.
        listing["availability"] = IN_STOCK
    return listing, raw, unmatched


def extract_listing(html: str, url: str | None = None, recipe: dict | None = None) -> dict:
    """Listing fields of a product/marketplace/property page; every key present, None when not found.

    `html` may also be the raw response bytes. Raises ValueError for an unusable recipe (naming
    every bad entry); broken or empty HTML never raises.
    """
    rules, errors = compile_recipe(recipe)
    if errors:
        raise ValueError("invalid listing recipe: " + "; ".join(errors.values()))
    html = as_html_text(html)
    return _extract(html, parse_html_tree(html), url, rules)[0]


def test_recipe(html: str, url: str | None, recipe: dict) -> dict:
    """Try a CSS recipe on one page, for a user checking their selectors.

    Returns {"fields": the full listing as extract_listing gives it, "matched": {field: raw text
    the selector found}, "unmatched": [fields whose selector found no element with a value],
    "errors": {field: why the entry is unusable}}. Bad entries are reported, not raised, so the
    good part of the recipe is still applied.
    """
    rules, errors = compile_recipe(recipe)
    html = as_html_text(html)
    listing, matched, unmatched = _extract(html, parse_html_tree(html), url, rules)
    return {"fields": listing, "matched": matched, "unmatched": unmatched, "errors": errors}


test_recipe.__test__ = False  # not a pytest test despite its name
