"""Listing fields from schema.org entities, whichever syntax (JSON-LD, microdata, RDFa) carried them."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from core.sources.structured_data import iter_nodes, short_type_names
from core.values import (
    IN_STOCK,
    OUT_OF_STOCK,
    SQUARE_METRES_PER_SQUARE_FOOT,
    absolute_url,
    normalise_availability,
    normalise_code,
    normalise_currency,
    normalise_date,
    normalise_gtin,
    normalise_text,
    parse_price,
    whole_if_integral,
)

PRODUCT_TYPES = frozenset({
    "product", "productgroup", "productmodel", "individualproduct", "someproducts", "vehicle", "car",
    "motorcycle", "book", "realestatelisting", "residence", "accommodation", "apartment", "house",
    "singlefamilyresidence", "room", "hotelroom",
})
OFFER_TYPES = frozenset({"offer", "aggregateoffer"})
_LISTING_EXTRAS = frozenset({"event"})  # ticket pages sell through the same offers structure
_NON_SELLING_PRICE_TYPES = re.compile(r"listprice|strikethrough|srp|msrp|invoice|minimumadvertised", re.I)
_GTIN_KEYS = ("gtin", "gtin13", "gtin12", "gtin14", "gtin8", "isbn", "ean", "upc")
_FLOOR_SQFT_UNITS = {"ftk", "sqft", "ft2", "ft²", "sq ft"}
_WORDS = re.compile(r"\w+", re.UNICODE)


def _first(value):
    """First meaningful element of a possibly repeated schema.org property."""
    if isinstance(value, list):
        return next((item for item in value if item not in (None, "", [], {})), None)
    return value


def _name(value) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        value = _first(value.get("name")) or _first(value.get("@id"))
    return normalise_text(value, 300)


def _brand(value) -> str | None:
    """Brand name, without a caption some templates put in the value ("More from brand: Roborock")."""
    name = _name(value)
    if name and ":" in name:
        name = name.rsplit(":", 1)[1].strip() or name
    return name


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _image_urls(value, base_url: str | None) -> list[str]:
    urls = []
    for item in _as_list(value):
        if isinstance(item, dict):
            item = _first(item.get("url")) or _first(item.get("contentUrl")) or _first(item.get("@id"))
        url = absolute_url(item, base_url)
        if url and url not in urls:
            urls.append(url)
    return urls


def _offer_price(offer: dict) -> tuple[float | None, str | None]:
    """Selling price and currency of one Offer, AggregateOffer or priceSpecification."""
    currency = _first(offer.get("priceCurrency"))
    for key in ("price", "lowPrice"):
        amount, text_currency = parse_price(_first(offer.get(key)))
        if amount is not None:
            return amount, currency or text_currency
    for spec in _as_list(offer.get("priceSpecification")):
        if isinstance(spec, dict) and not _NON_SELLING_PRICE_TYPES.search(str(spec.get("priceType") or "")):
            amount, text_currency = parse_price(_first(spec.get("price")))
            if amount is not None:
                return amount, _first(spec.get("priceCurrency")) or currency or text_currency
    return None, currency


def _offers_of(node: dict) -> list[dict]:
    offers = []
    for offer in _as_list(node.get("offers")):
        if not isinstance(offer, dict):
            continue
        offers.append(offer)
        offers.extend(o for o in _as_list(offer.get("offers")) if isinstance(o, dict))  # AggregateOffer
    if short_type_names(node) & OFFER_TYPES:
        offers.insert(0, node)
    return offers


def _best_offer_fields(offers: list[dict], base_url: str | None) -> dict:
    """Price, currency and availability across a product's offers.

    The price is the lowest available selling price: an offer list mixes the regular and the
    reduced price, and the one a buyer pays is the lower; availability is InStock when any offer is.
    """
    priced = []
    availabilities = []
    for offer in offers:
        availability = normalise_availability(_first(offer.get("availability")))
        availabilities.append(availability)
        amount, currency = _offer_price(offer)
        if amount is not None:
            priced.append((availability == OUT_OF_STOCK, amount, currency, offer))
    fields: dict = {}
    if priced:
        _, amount, currency, chosen = min(priced, key=lambda entry: (entry[0], entry[1]))
        fields.update(price=amount, currency=normalise_currency(currency, base_url))
        offers = [chosen] + [offer for offer in offers if offer is not chosen]  # its seller/sku first
    else:
        fields["currency"] = _first_value(offers, lambda o: normalise_currency(_first(o.get("priceCurrency")),
                                                                               base_url))
    if IN_STOCK in availabilities:
        fields["availability"] = IN_STOCK
    elif OUT_OF_STOCK in availabilities:
        fields["availability"] = OUT_OF_STOCK
    fields["seller"] = _first_value(offers, lambda offer: _name(offer.get("seller")))
    fields["sku"] = _first_value(offers, lambda offer: normalise_code(_first(offer.get("sku"))))
    fields["posted_date"] = _first_value(offers, lambda offer: normalise_date(_first(offer.get("validFrom"))))
    return {key: value for key, value in fields.items() if value is not None}


def _gtin_of(entity: dict) -> str | None:
    gtins = (normalise_gtin(_first(entity.get(key))) for key in _GTIN_KEYS)
    return next((gtin for gtin in gtins if gtin), None)


def _first_value(items: list, read):
    """The first non-None read(item)."""
    return next((value for value in map(read, items) if value is not None), None)


def _location(value) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        address = value.get("address", value)
        address = _first(address)
        if isinstance(address, dict):
            parts = [_name(address.get(key)) for key in (
                "streetAddress", "addressLocality", "addressRegion", "postalCode", "addressCountry")]
            joined = ", ".join(part for part in parts if part)
            return joined or _name(value)
        return normalise_text(address, 300) or _name(value)
    return normalise_text(value, 300)


def _quantity(value) -> float | None:
    value = _first(value)
    if isinstance(value, dict):
        value = _first(value.get("value"))
    amount, _ = parse_price(value)
    return amount


def _property_attributes(node: dict) -> dict:
    attributes = {}
    beds = _quantity(node.get("numberOfBedrooms")) or _quantity(node.get("numberOfRooms"))
    baths = _quantity(node.get("numberOfBathroomsTotal")) or _quantity(node.get("numberOfFullBathrooms"))
    if beds is not None:
        attributes["beds"] = whole_if_integral(beds)
    if baths is not None:
        attributes["baths"] = whole_if_integral(baths)
    floor = _first(node.get("floorSize"))
    area = _quantity(floor)
    if area is not None:
        unit = str(_first(floor.get("unitCode")) or _first(floor.get("unitText")) or "").lower() \
            if isinstance(floor, dict) else ""
        attributes["area_m2"] = whole_if_integral(
            round(area * SQUARE_METRES_PER_SQUARE_FOOT, 1) if unit in _FLOOR_SQFT_UNITS else area)
    return attributes


def fields_from_entity(node: dict, base_url: str | None) -> dict:
    """Listing fields of one schema.org product, offer or property entity (and what it links to)."""
    # A listing page wraps the thing sold (mainEntity/about), an offer names it (itemOffered),
    # and a ProductGroup sells through its variants: their offers and codes belong to the page too.
    linked = [node] + [
        item for key in ("mainEntity", "about", "itemOffered", "hasVariant")
        for item in _as_list(node.get(key)) if isinstance(item, dict)
    ]
    fields: dict = {}
    offers: list[dict] = []
    for entity in linked:
        offers.extend(_offers_of(entity))
        candidates = {
            "title": _name(entity.get("name")),
            "sku": normalise_code(_first(entity.get("sku"))) or _single_token_code(entity.get("productID")),
            "gtin": _gtin_of(entity),
            "mpn": normalise_code(_first(entity.get("mpn"))),
            "brand": _brand(entity.get("brand")) or _brand(entity.get("manufacturer")),
            "description": normalise_text(_first(entity.get("description"))),
            "category": _name(entity.get("category")),
            "location": _location(entity.get("address")) or _location(entity.get("location")),
            "posted_date": normalise_date(_first(entity.get("datePosted")))
            or normalise_date(_first(entity.get("datePublished"))),
        }
        for key, value in candidates.items():
            if value is not None:
                fields.setdefault(key, value)
        images = _image_urls(entity.get("image"), base_url)
        if images and not fields.get("images"):
            fields["images"] = images
        for name, value in _property_attributes(entity).items():
            fields.setdefault("attributes", {}).setdefault(name, value)
    for key, value in _best_offer_fields(offers, base_url).items():
        fields.setdefault(key, value)
    return fields


def _single_token_code(value) -> str | None:
    """productID is free text on many shops ("Ca304103-0000 Montre"); only a bare code is a SKU."""
    code = normalise_code(_first(value))
    return code if code and len(code.split()) == 1 else None


def _path_of(url: str | None) -> str:
    return urlsplit(url or "").path.rstrip("/").lower()


def _candidate_score(node: dict, fields: dict, page_path: str, title_words: set[str]) -> tuple:
    urls = [_first(node.get("url")), _first(node.get("@id"))] + [
        _first(offer.get("url")) for offer in _as_list(node.get("offers")) if isinstance(offer, dict)]
    same_page = bool(page_path) and any(
        isinstance(url, str) and _path_of(url) == page_path for url in urls)
    name_words = {word.lower() for word in _WORDS.findall(fields.get("title") or "")}
    overlap = len(name_words & title_words) / len(name_words) if name_words else 0.0
    return (same_page, overlap >= 0.5, "price" in fields, overlap)


def breadcrumb_category(entities: list[dict], title: str | None) -> str | None:
    """"A > B > C" from the first schema.org BreadcrumbList, without the trailing product itself."""
    for top in entities:
        for node in iter_nodes(top):
            if "breadcrumblist" not in short_type_names(node):
                continue
            elements = [e for e in _as_list(node.get("itemListElement")) if isinstance(e, dict)]
            elements.sort(key=lambda e: parse_price(_first(e.get("position")))[0] or 0)
            names = [_name(e.get("name")) or _name(e.get("item")) for e in elements]
            names = [name for name in names if name and not name.startswith("http")]
            if names and title and names[-1].lower() in title.lower():
                names = names[:-1]
            if names:
                return " > ".join(names)
    return None


def main_entity_fields(entities: list[dict], base_url: str | None, page_title: str | None) -> dict:
    """Fields of the entity the page is about, picked among every product-like entity found.

    Pages embed related products, variants and recommendations in the same markup; the main one is
    the entity whose URL is the page, then whose name matches the page title, then has a price,
    then comes first.
    """
    candidates = []
    seen = set()
    for top in entities:
        for node in iter_nodes(top):
            types = short_type_names(node)
            is_listing = types & PRODUCT_TYPES or (types & _LISTING_EXTRAS and node.get("offers"))
            standalone_offer = types & OFFER_TYPES and node is top
            if (is_listing or standalone_offer) and id(node) not in seen:
                seen.add(id(node))
                candidates.append(node)
    if not candidates:
        category = breadcrumb_category(entities, page_title)
        return {"category": category} if category else {}
    page_path = _path_of(base_url)
    title_words = {word.lower() for word in _WORDS.findall(page_title or "")}
    scored = []
    for position, node in enumerate(candidates):
        fields = fields_from_entity(node, base_url)
        scored.append((_candidate_score(node, fields, page_path, title_words), -position, fields))
    fields = max(scored, key=lambda entry: (entry[0], entry[1]))[2]
    if "category" not in fields:
        category = breadcrumb_category(entities, fields.get("title") or page_title)
        if category:
            fields["category"] = category
    return fields
