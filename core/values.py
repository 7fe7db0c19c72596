"""Normalising raw values (prices, currencies, availability, codes, dates) from any source.

Used across layers (scrapers, the listing bot, the marketplace monitor, standardisation), so it lives at the
top of core and imports nothing from it."""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urljoin, urlsplit

from babel.numbers import list_currencies
from price_parser import Price

# Query parameters that carry a product number in shop URLs.
URL_ID_PARAMETERS = frozenset({
    "pid", "productid", "product_id", "product", "itemid", "item_id", "item", "sku", "id", "articleid",
    "article_id", "prodid", "prod_id", "goodsid", "goods_id", "iid",
})

IN_STOCK, OUT_OF_STOCK = "InStock", "OutOfStock"
SQUARE_METRES_PER_SQUARE_FOOT = 0.09290304

_ISO_CURRENCIES = frozenset(list_currencies())
_CURRENCY_ALIASES = {"RUR": "RUB"}  # pre-1998 code that Russian shops still publish
_UNAMBIGUOUS_SYMBOLS = {
    "€": "EUR", "£": "GBP", "₹": "INR", "₽": "RUB", "руб": "RUB", "р.": "RUB", "zł": "PLN", "kč": "CZK",
    "lei": "RON", "kn": "HRK", "chf": "CHF", "fr.": "CHF", "r$": "BRL", "₴": "UAH", "грн": "UAH", "₺": "TRY",
    "tl": "TRY", "₩": "KRW", "원": "KRW", "₪": "ILS", "฿": "THB", "₫": "VND", "ft": "HUF", "лв": "BGN",
    "nt$": "TWD", "hk$": "HKD", "c$": "CAD", "ca$": "CAD", "a$": "AUD", "au$": "AUD", "s$": "SGD",
    "nz$": "NZD", "mx$": "MXN", "us$": "USD", "円": "JPY", "ر.س": "SAR", "د.إ": "AED", "₱": "PHP",
    "rm": "MYR", "rp": "IDR", "₦": "NGN", "₸": "KZT", "din": "RSD", "ман": "AZN", "₾": "GEL",
}
# Symbols shared by several currencies: the shop's country (from its domain) decides, else the first.
_AMBIGUOUS_SYMBOLS = {
    "$": ("USD", {"ca": "CAD", "au": "AUD", "nz": "NZD", "mx": "MXN", "tw": "TWD", "hk": "HKD", "sg": "SGD",
                  "ar": "ARS", "cl": "CLP", "co": "COP", "br": "BRL", "uy": "UYU"}),
    "kr": ("SEK", {"no": "NOK", "dk": "DKK", "is": "ISK"}),
    "kr.": ("DKK", {"se": "SEK", "no": "NOK", "is": "ISK"}),
    "rs": ("INR", {"pk": "PKR", "lk": "LKR", "np": "NPR"}),
    "rs.": ("INR", {"pk": "PKR", "lk": "LKR", "np": "NPR"}),
    "¥": ("JPY", {"cn": "CNY"}),
    "元": ("CNY", {"tw": "TWD", "hk": "HKD"}),
}
_AVAILABILITY_WORDS = (
    (OUT_OF_STOCK, ("outofstock", "soldout", "discontinued", "oos", "unavailable", "notavailable")),
    (IN_STOCK, ("instock", "limitedavailability", "onlineonly", "instoreonly", "preorder", "presale",
                "backorder", "availablefororder", "available", "true")),
)
_PLAIN_NUMBER = re.compile(r"^\s*-?\d+(?:\.\d+)?\s*$")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_CODE = re.compile(r"^[\w][\w./#:+-]*$", re.UNICODE)
_MIN_URL_ID_DIGITS = 5
_URL_EXTENSION = re.compile(r"\.(?:html?|php|aspx?|jsp)$", re.IGNORECASE)
_URL_TOKEN_SPLIT = re.compile(r"[-_,.~+]")


def country_of(url: str | None) -> str | None:
    """Two-letter country TLD of a URL's host ("shop.example.com.au" -> "au"), else None."""
    host = urlsplit(url or "").hostname or ""
    tld = host.rsplit(".", 1)[-1] if "." in host else ""
    return tld if len(tld) == 2 and tld.isalpha() else None


def normalise_currency(value, url: str | None = None) -> str | None:
    """ISO 4217 code for a code or symbol ("eur", "€", "zł", "$" on a .ca shop), else None."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    if not text:
        return None
    code = text.upper()
    code = _CURRENCY_ALIASES.get(code, code)
    if code in _ISO_CURRENCIES:
        return code
    symbol = text.lower()
    if symbol in _UNAMBIGUOUS_SYMBOLS:
        return _UNAMBIGUOUS_SYMBOLS[symbol]
    if symbol in _AMBIGUOUS_SYMBOLS:
        default, by_country = _AMBIGUOUS_SYMBOLS[symbol]
        return by_country.get(country_of(url) or "", default)
    return None


def parse_price(value, *, placeholders_are_missing: bool = True) -> tuple[float | None, str | None]:
    """(amount, currency text) from a number or a display string ("1.299,00 €", "$1,299", "from 12.50").

    Machine-readable numbers ("1299.00") are read as plain decimals; anything else goes through
    price-parser, which resolves thousands and decimal separators from their positions. NaN and infinite
    amounts are missing. Zero and negative amounts are missing too (shops use them as placeholders) unless
    `placeholders_are_missing` is False: ingest keeps them so the listing checks can report them.
    """
    if value is None or isinstance(value, bool):
        return None, None
    if isinstance(value, int | float | Decimal):
        amount, currency = Decimal(str(value)), None
    else:
        text = " ".join(str(value).split())
        if not text:
            return None, None
        if _PLAIN_NUMBER.match(text):
            amount, currency = Decimal(text.strip()), None
        else:
            parsed = Price.fromstring(text)
            amount, currency = parsed.amount, parsed.currency
    try:
        if amount is None or not amount.is_finite() or (placeholders_are_missing and amount <= 0):
            return None, currency
    except InvalidOperation:
        return None, currency
    return float(amount), currency


def whole_if_integral(number: float | None) -> int | float | None:
    """3.0 -> 3 for counts such as bedrooms; other numbers unchanged."""
    return int(number) if number is not None and float(number).is_integer() else number


def normalise_availability(value) -> str | None:
    """"InStock" / "OutOfStock" from schema.org URLs, meta tag words or booleans, else None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return IN_STOCK if value else OUT_OF_STOCK
    key = re.sub(r"[^a-z]", "", str(value).rsplit("/", 1)[-1].lower())
    for label, words in _AVAILABILITY_WORDS:
        if any(key == word or (len(word) > 3 and key.startswith(word)) for word in words):
            return label
    return None


def normalise_gtin(value) -> str | None:
    """Digits of a GTIN-8/12/13/14 (leading zeros kept), else None."""
    if value is None:
        return None
    digits = re.sub(r"[\s-]", "", str(value))
    return digits if digits.isdigit() and len(digits) in (8, 12, 13, 14) else None


def normalise_code(value, max_length: int = 64) -> str | None:
    """A product code (SKU, MPN): one token, or up to three words when it has a digit; else None."""
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value).strip().strip(":#").strip()
    if not text or len(text) > max_length:
        return None
    return text if _CODE.match(text) or (len(text.split()) <= 3 and any(c.isdigit() for c in text)) else None


def normalise_text(value, max_length: int = 5000) -> str | None:
    if value is None or isinstance(value, dict | list | bool):
        return None
    text = " ".join(str(value).split())
    return text[:max_length] if text else None


def normalise_date(value) -> str | None:
    """ISO 8601 date (YYYY-MM-DD) from an ISO date or timestamp, else None."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        match = _ISO_DATE.search(text)
        if match:
            try:
                return datetime(*map(int, match.groups())).date().isoformat()
            except ValueError:
                return None
    return None


def absolute_url(value, base_url: str | None) -> str | None:
    if not isinstance(value, str) or not value.strip() or value.strip().startswith("data:"):
        return None
    return urljoin(base_url or "", value.strip())


def _is_product_number(token: str) -> bool:
    digits = sum(char.isdigit() for char in token)
    letters = sum(char.isalpha() for char in token)
    return digits >= _MIN_URL_ID_DIGITS and letters <= 2 and len(token) <= 20 and token.isalnum()


def code_from_url(url: str | None) -> str | None:
    """Product number a shop put in the page URL ("...-112949990.html", "?pid=260591"), else None.

    Most shop URLs end with, or carry as a parameter, the item's own number; short numbers are
    skipped because categories and pagination use them too.
    """
    if not url:
        return None
    parts = urlsplit(url)
    for key, value in parse_qsl(parts.query):
        if key.lower() in URL_ID_PARAMETERS and _is_product_number(value):
            return value
    segments = [segment for segment in parts.path.split("/") if segment][-2:]
    for segment in reversed(segments):
        stem = _URL_EXTENSION.sub("", segment)
        numbers = [token for token in _URL_TOKEN_SPLIT.split(stem) if _is_product_number(token)]
        if numbers:
            return numbers[-1]
    return None
