"""Words shops use around listing facts, in the languages of the shops we scrape.

Kept apart from the rules in listing_text.py so adding a language is an edit to data only.
"""
from __future__ import annotations

import re

# Labels are compared with a whole text chunk (or the part before a colon), lower-cased.
FIELD_LABELS = {
    "sku": (
        "sku", "item", "item no", "item number", "item code", "article number", "article no", "art.-nr",
        "art. nr", "art.nr", "artikelnummer", "artikel-nr", "artikelnr", "product code", "product id",
        "product number", "product no", "asin", "ref", "réf", "référence", "reference", "bestellnummer",
        "bestell-nr", "id produto", "código", "código do produto", "cod", "codice", "codice articolo",
        "kod produktu", "kod towaru", "numer produktu", "артикул", "код товара", "код", "katalógové číslo",
        "kód produktu", "šifra", "商品編號", "商品代號", "商品コード", "品番", "رمز المنتج",
    ),
    "mpn": (
        "mpn", "manufacturer part number", "part number", "part no", "part", "model number",
        "item model number", "model no", "model", "modelo", "modell", "modèle", "herstellernummer",
        "référence fabricant", "référence du fabricant", "numéro de modèle", "numéro du modèle de l'article",
        "modellnummer", "herstellerreferenz", "numero modello", "numero modello articolo", "número de modelo",
        "número de pieza", "kód výrobcu", "型號", "型番",
    ),
    "gtin": (
        "ean", "ean-13", "ean13", "ean code", "upc", "gtin", "isbn", "isbn-13", "isbn-10", "barcode", "jan",
    ),
    "brand": (
        "brand", "brand name", "marke", "marque", "marca", "merk", "märke", "značka", "бренд",
        "производитель", "manufacturer", "hersteller", "fabricant", "producent", "výrobca", "品牌",
        "ブランド", "الماركة", "العلامة التجارية",
    ),
}
LABEL_TO_FIELD = {label: field for field, labels in FIELD_LABELS.items() for label in labels}

OUT_OF_STOCK_PHRASE = re.compile(
    r"\b(out of stock|sold out|currently unavailable|no longer available|not available|unavailable"
    r"|ausverkauft|nicht (?:mehr )?(?:verfügbar|lieferbar|auf lager)|épuisé|rupture de stock|indisponible"
    r"|agotado|sin stock|no disponible|esaurito|non disponibile|niedostępny|brak w magazynie"
    r"|нет в наличии|немає в наявності|tükendi|stok yok|uitverkocht|niet op voorraad|slutsåld|udsolgt"
    r"|vyprodáno|vypredané|nie je skladom|není skladem)\b"
    r"|(售完|已售完|缺貨|無庫存|已售罄|在庫切れ|品切れ|売り切れ|재고 없음|품절|نفذت الكمية|غير متوفر)",
    re.IGNORECASE,
)
IN_STOCK_PHRASE = re.compile(
    r"\b(in stock|available now|ready to ship|auf lager|lieferbar|sofort verfügbar|en stock|disponible"
    r"|in magazzino|disponibile|na stanie|dostępny|в наличии|є в наявності|op voorraad|i lager"
    r"|skladem|na sklade|stokta)\b|(有現貨|現貨|有庫存|在庫あり|재고 있음|متوفر)",
    re.IGNORECASE,
)
ADD_TO_CART_TEXT = re.compile(
    r"add to (?:cart|basket|bag|trolley)|buy now|buy it now|in den (?:warenkorb|einkaufswagen)|jetzt kaufen"
    r"|ajouter au panier|j'achète|acheter|añadir al carrito|comprar|aggiungi al carrello|acquista"
    r"|do koszyka|kup teraz|в корзину|купить|у кошик|sepete ekle|in winkelwagen|lägg i varukorg"
    r"|do košíka|do košíku|kosár|加入購物車|立即購買|直接購買|カートに入れる|今すぐ買う|장바구니|바로 구매"
    r"|أضف إلى|اشتر الآن",
    re.IGNORECASE,
)
ADD_TO_CART_ATTRIBUTE = re.compile(
    r"add[-_ ]?to[-_ ]?(?:cart|basket|bag)|buy[-_ ]?now|addtocart|add2cart", re.IGNORECASE)

# id/class words that name a price element, and those that name a price nobody pays now.
# Short words must start a token, or "scenario" and "enterprise" would look like prices.
PRICE_TOKEN = re.compile(
    r"price|preis|prix|precio|prezzo|(?<![a-z])(?:cena|цена|ціна|fiyat|prijs|pris|preco|preço)")
NOT_SELLING_PRICE_TOKENS = frozenset({
    "old", "was", "before", "regular", "list", "strike", "striked", "strikethrough", "crossed", "compare",
    "original", "rrp", "msrp", "uvp", "save", "saving", "savings", "discount", "unit", "per", "shipping",
    "delivery", "installment", "installments", "monthly", "finance", "financing", "label", "range", "filter",
    "prev", "previous", "initial", "reference", "ref", "tax", "vat",
})
CURRENCY_HINT = re.compile(
    r"[$€£¥₹₽₩₪฿₫₴₺]|\b(?:zł|kč|lei|kn|rs|kr|руб|грн|ft)\b\.?|円|元|ر\.س|د\.إ|\b[A-Z]{3}\b", re.IGNORECASE)

BEDROOMS = re.compile(
    r"\b(\d{1,2})\s*-?\s*(?:bed(?:room)?s?|bd|chambres?|schlafzimmer|dormitorios?|habitaciones"
    r"|camere da letto|sypialni[ea]?|slaapkamers?|спальн\w*)\b", re.IGNORECASE)
BATHROOMS = re.compile(
    r"\b(\d{1,2}(?:[.,]5)?)\s*-?\s*(?:bath(?:room)?s?|ba|salles? de bains?|badezimmer|bäder|baños?|bagni"
    r"|łazienk[ia]|badkamers?|ванн\w*)\b", re.IGNORECASE)
AREA_SQUARE_METRES = re.compile(r"(\d[\d\s.,]{0,8})\s*(?:m²|m2|sq\.?\s?m\b|sqm|м²|кв\.?\s?м)", re.IGNORECASE)
AREA_SQUARE_FEET = re.compile(r"(\d[\d\s.,]{0,8})\s*(?:sq\.?\s?ft|ft²|square feet|sqft)", re.IGNORECASE)
