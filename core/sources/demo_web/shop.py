"""The demo marketplace: paginated index, item pages, and a JSON API over the same items.

About half the item pages carry JSON-LD Product/Offer; the rest show their facts only in the
HTML (the crawl config brings a CSS recipe for them). Planted: missing brand/SKU/price,
relisted duplicates (same item, new number, later date), and price outliers. Changes between two
crawls (new items, price drops, relists, removals, stock, index order) are scripted through the
methods of `ScriptedShop` (shop_changes.py).
"""

from __future__ import annotations

import functools
import json
import random
import re
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from html import escape

from core.sources.demo_web import responses
from core.sources.demo_web.pages import page, page_number, pager, paragraphs_html
from core.sources.demo_web.prose import ENGLISH
from core.sources.demo_web.responses import Response
from core.sources.demo_web.shop_catalogue import CATALOGUE, CITIES, COLOURS, CONDITIONS, SELLERS, STOCK_TEXT
from core.sources.demo_web.shop_changes import ScriptedShop, ShopChanges

SITE_NAME = "Demo Market"
PER_PAGE = 24
API_PER_PAGE = 50
PROMOTED_PATH = "/private/promoted/1.html"  # listed on page 1, disallowed by robots.txt
_ITEM_PATH = re.compile(r"^/item/(\d+)\.html$")
_FIRST_POST = date(2024, 5, 31)


@dataclass(frozen=True)
class ShopItem:
    number: int
    title: str
    brand: str | None
    category: str
    price: float | None
    currency: str
    sku: str | None
    availability: str
    condition: str
    colour: str
    location: str
    seller: str
    posted: date
    description: tuple[str, ...]
    images: tuple[str, ...]
    json_ld: bool
    relist_of: int | None

    @property
    def path(self) -> str:
        return f"/item/{self.number}.html"


def _price_text(price: float | None, number: int) -> str:
    if price is None:
        return "Price on request"
    if number % 2:
        return f"€{price:,.2f}"
    return f"{price:,.2f} €".replace(",", " ").replace(".", ",")


class MarketplaceSite(ScriptedShop):
    name = "marketplace"

    def __init__(self, seed: int, scale: float):
        self.seed = seed
        self.count = max(30, round(96 * scale))
        self.base_url = ""  # set by the server; item pages and the API link relatively, so a page's
        # bytes (and content hash) stay the same when the demo restarts on another port
        self.item = functools.lru_cache(maxsize=8192)(self._make_item)
        self.changes = ShopChanges()  # none until a test, benchmark or demo scripts some

    def _make_item(self, number: int) -> ShopItem:
        relist_of = number - 7 if number % 16 == 9 and number > 7 else None
        if relist_of is not None:
            original = self.item(relist_of)
            price = None if original.price is None else round(original.price * 0.95, 2)
            return ShopItem(
                **{
                    **asdict(original),
                    "number": number,
                    "price": price,
                    "relist_of": relist_of,
                    "posted": original.posted + timedelta(days=9),
                    "description": original.description,
                    "images": original.images,
                }
            )
        rng = random.Random(f"{self.seed}:shop:{number}")
        category = rng.choice(sorted(CATALOGUE))
        brands, products, (low, high) = CATALOGUE[category]
        brand, product, colour = rng.choice(brands), rng.choice(products), rng.choice(COLOURS)
        price = round(rng.uniform(low, high), 0) + rng.choice([0, 0.5, 0.99])
        roll = rng.random()
        if roll < 0.03:
            price = round(price * 100, 2)  # a typo'd extra zeros: an outlier for the refinery
        elif roll < 0.05:
            price = 1.0
        condition = rng.choice(CONDITIONS)
        description = [
            f"Selling my {colour} {brand} {product} ({condition}). Bought in {rng.randint(2015, 2023)}, "
            f"always kept indoors and works perfectly.",
            rng.choice(ENGLISH["comments"][:2])
            if rng.random() < 0.2
            else f"Pick-up in {rng.choice(CITIES)} or shipping at the buyer's cost. No trades, please.",
        ]
        if rng.random() < 0.1:
            description.append(
                f"Questions? Mail {rng.choice(SELLERS).replace('_', '.')}@mail.example or "
                f"call +31 6 {rng.randint(10000000, 99999999)}."
            )
        return ShopItem(
            number=number,
            title=f"{brand} {product}, {colour}",
            category=category,
            brand=None if rng.random() < 0.15 else brand,
            price=None if rng.random() < 0.05 else price,
            currency="EUR",
            sku=None if rng.random() < 0.1 else f"MK-{number:06d}",
            availability=rng.choice(["InStock"] * 6 + ["OutOfStock", "LimitedAvailability"]),
            condition=condition,
            colour=colour,
            location=rng.choice(CITIES),
            seller=rng.choice(SELLERS),
            posted=_FIRST_POST - timedelta(days=number // 3),
            description=tuple(description),
            images=tuple(f"/img/{number}-{n}.jpg" for n in range(1, rng.randint(2, 4))),
            json_ld=number % 2 == 0,
            relist_of=None,
        )

    def items(self, first: int, last: int) -> list[ShopItem]:
        """The listed items at positions first..last (1-based) of the listings as they stand now."""
        return [self.current(number) for number in self.listed_numbers()[first - 1:last]]

    @property
    def last_page(self) -> int:
        return max(1, -(-len(self.listed_numbers()) // PER_PAGE))

    def handle(self, path: str, query: dict[str, str]) -> Response | None:
        if path in ("/", "/listings"):
            return self._index(page_number(query))
        if path == "/api/listings":
            return self._api(page_number(query))
        if path == PROMOTED_PATH:
            return responses.html("<html><body><h1>Promoted listing</h1></body></html>")
        match = _ITEM_PATH.match(path)
        item = self.current(int(match.group(1))) if match else None
        return responses.html(self._item_page(item)) if item else None

    def _nav(self) -> list[tuple[str, str]]:
        return [("/", "All listings")] + [
            (f"/listings?category={name.lower()}", name) for name in sorted(CATALOGUE)
        ]

    def _index(self, number: int) -> Response | None:
        if number > self.last_page:
            return None
        cards = "".join(
            f'<li class="card"><a class="listing-link" href="{item.path}">{escape(item.title)}</a>'
            f'<span class="card-price">{escape(_price_text(item.price, item.number))}</span>'
            f'<span class="card-city">{escape(item.location)}</span></li>'
            for item in self.items((number - 1) * PER_PAGE + 1, number * PER_PAGE)
        )
        if number == 1:
            cards = (
                f'<li class="card promoted"><a class="listing-link" href="{PROMOTED_PATH}">Promoted</a></li>'
                + cards
            )
        main = (
            f'<h1>Listings</h1><ul class="results">{cards}</ul>{pager(number, self.last_page, "/listings")}'
        )
        return responses.html(
            page(
                lang="en",
                title=f"Listings - page {number}",
                site_name=SITE_NAME,
                nav=self._nav(),
                main=main,
                ui=ENGLISH["ui"],
            )
        )

    def _item_page(self, item: ShopItem) -> str:
        facts = [
            ("Brand", "brand", item.brand),
            ("SKU", "sku", item.sku),
            ("Condition", "condition", item.condition),
            ("Colour", "colour", item.colour),
            ("Location", "location", item.location),
            ("Category", "category", item.category),
            ("Availability", "stock", STOCK_TEXT[item.availability]),
        ]
        rows = "".join(
            f'<dt>{label}</dt><dd class="{css}">{escape(value)}</dd>' for label, css, value in facts if value
        )
        rows += (
            f'<dt>Posted</dt><dd class="posted"><time datetime="{item.posted.isoformat()}">'
            f"{item.posted:%d %b %Y}</time></dd>"
        )
        photos = "".join(f'<img class="photo" src="{src}" alt="{escape(item.title)}">' for src in item.images)
        main = (
            f'<div class="listing"><h1 class="listing-title">{escape(item.title)}</h1>'
            f'<div class="gallery">{photos}</div>'
            f'<p class="price-box"><span class="amount">{escape(_price_text(item.price, item.number))}</span>'
            "</p>"
            f'<dl class="facts">{rows}</dl><div class="seller">Sold by <a class="seller-name" '
            f'href="/seller/{escape(item.seller)}">{escape(item.seller)}</a></div>'
            f'<div class="description">{paragraphs_html(list(item.description))}</div></div>'
        )
        head = f'<script type="application/ld+json">{self._json_ld(item)}</script>' if item.json_ld else ""
        return page(
            lang="en",
            title=item.title,
            site_name=SITE_NAME,
            nav=self._nav(),
            main=main,
            ui=ENGLISH["ui"],
            head_extra=head,
        )

    def _json_ld(self, item: ShopItem) -> str:
        product = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": item.title,
            "url": item.path,
            "category": item.category,
            "image": list(item.images),
            "description": item.description[0],
        }
        if item.brand:
            product["brand"] = {"@type": "Brand", "name": item.brand}
        if item.sku:
            product["sku"] = item.sku
        if item.price is not None:
            product["offers"] = {
                "@type": "Offer",
                "price": f"{item.price:.2f}",
                "priceCurrency": item.currency,
                "availability": f"https://schema.org/{item.availability}",
                "seller": {"@type": "Person", "name": item.seller},
            }
        return json.dumps(product).replace("</", "<\\/")

    def _api(self, number: int) -> Response | None:
        last = max(1, -(-len(self.listed_numbers()) // API_PER_PAGE))
        if number > last:
            return None
        rows = [
            {
                "id": item.number,
                "title": item.title,
                "url": item.path,
                "sku": item.sku,
                "price": {"amount": item.price, "currency": item.currency},
                "brand": item.brand,
                "seller": {"name": item.seller},
                "location": {"city": item.location},
                "posted": item.posted.isoformat(),
                "availability": item.availability,
            }
            for item in self.items((number - 1) * API_PER_PAGE + 1, number * API_PER_PAGE)
        ]
        following = f"/api/listings?page={number + 1}" if number < last else None
        return responses.json_body({"data": {"items": rows, "page": number}, "next": following})
