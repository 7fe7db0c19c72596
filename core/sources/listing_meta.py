"""Listing fields from OpenGraph/product <meta> tags and itemprop attributes outside any itemscope."""
from __future__ import annotations

from core.values import (
    absolute_url,
    normalise_availability,
    normalise_code,
    normalise_currency,
    normalise_date,
    normalise_gtin,
    normalise_text,
    parse_price,
)

# The sale price first: shops that publish both mean the reduced one is what a buyer pays.
_PRICE_META = ("product:sale_price:amount", "og:sale_price:amount", "product:price:amount", "og:price:amount",
               "product:price")
_CURRENCY_META = ("product:sale_price:currency", "product:price:currency", "og:price:currency")
_GTIN_META = ("product:ean", "product:upc", "product:gtin", "product:isbn")
_GTIN_ITEMPROPS = ("gtin13", "gtin", "gtin12", "gtin14", "gtin8")
LOOSE_ITEMPROPS = frozenset(
    {"price", "pricecurrency", "availability", "sku", "brand", "mpn", *_GTIN_ITEMPROPS})


def _first(source: dict[str, list[str]], *keys: str) -> str | None:
    return next((source[key][0] for key in keys if source.get(key)), None)


def fields_from_meta(
    meta: dict[str, list[str]], itemprops: dict[str, list[str]], base_url: str | None
) -> dict:
    """Listing fields from <meta> tags (keyed by property/name) and stray itemprop values."""
    amount, text_currency = parse_price(_first(meta, *_PRICE_META) or _first(itemprops, "price"))
    currency = _first(meta, *_CURRENCY_META) or _first(itemprops, "pricecurrency") or (
        text_currency if amount else None)
    fields = {
        "title": normalise_text(_first(meta, "og:title", "twitter:title"), 300),
        "description": normalise_text(_first(meta, "og:description", "description", "twitter:description")),
        "price": amount,
        "currency": normalise_currency(currency, base_url),
        "availability": normalise_availability(_first(meta, "product:availability", "og:availability"))
        or normalise_availability(_first(itemprops, "availability")),
        "brand": normalise_text(_first(meta, "product:brand", "og:brand") or _first(itemprops, "brand"), 200),
        "sku": normalise_code(_first(meta, "product:retailer_item_id", "product:sku"))
        or normalise_code(_first(itemprops, "sku")),
        "gtin": normalise_gtin(_first(meta, *_GTIN_META))
        or normalise_gtin(_first(itemprops, *_GTIN_ITEMPROPS)),
        "mpn": normalise_code(_first(meta, "product:mfr_part_no"))
        or normalise_code(_first(itemprops, "mpn")),
        "category": normalise_text(_first(meta, "product:category"), 300),
        "posted_date": normalise_date(_first(meta, "article:published_time", "og:published_time")),
    }
    images = [url for url in (absolute_url(value, base_url) for value in meta.get("og:image", [])) if url]
    if images:
        fields["images"] = images
    return {key: value for key, value in fields.items() if value is not None}
