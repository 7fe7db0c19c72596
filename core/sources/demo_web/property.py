"""The demo property site: search result pages and listings with price, location, beds, baths, area.

Most listings embed JSON-LD (RealEstateListing with an Offer and the residence); the others show
the facts only in the HTML, which the crawl config's CSS recipe reads.
"""

from __future__ import annotations

import functools
import json
import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from core.sources.demo_web import responses
from core.sources.demo_web.pages import page, page_number, pager, paragraphs_html
from core.sources.demo_web.prose import ENGLISH
from core.sources.demo_web.responses import Response

SITE_NAME = "Demo Homes"
PER_PAGE = 20
DISTRICTS = {
    "Utrecht": ["Oudwijk", "Lombok", "Wittevrouwen", "Leidsche Rijn"],
    "Berlin": ["Kreuzberg", "Pankow", "Moabit"],
    "Lyon": ["Croix-Rousse", "Confluence", "Part-Dieu"],
    "Valencia": ["Ruzafa", "El Carmen", "Benimaclet"],
    "Bologna": ["Santo Stefano", "Navile", "Saragozza"],
    "Rotterdam": ["Kralingen", "Delfshaven", "Blijdorp"],
}
STREETS = [
    "Station Road",
    "Lindenstraat",
    "Rue des Fleurs",
    "Calle Mayor",
    "Via Roma",
    "Kanaalweg",
    "Parkallee",
]
AGENTS = [
    "Van Dijk Makelaars",
    "Immobilien Schulz",
    "Agence du Parc",
    "Casa Levante",
    "Studio Immobiliare Sole",
]
_LISTING_PATH = re.compile(r"^/property/(\d+)\.html$")
_FIRST_POST = date(2024, 5, 30)


@dataclass(frozen=True)
class PropertyListing:
    number: int
    kind: str  # "apartment" or "house"
    offer: str  # "sale" or "rent"
    city: str
    district: str
    street: str
    beds: int
    baths: int
    area_m2: int
    price: float
    agent: str
    posted: date
    json_ld: bool

    @property
    def path(self) -> str:
        return f"/property/{self.number}.html"

    @property
    def title(self) -> str:
        verb = "for sale" if self.offer == "sale" else "for rent"
        return f"{self.beds}-bedroom {self.kind} {verb} in {self.city}, {self.district}"

    @property
    def price_text(self) -> str:
        amount = f"€ {self.price:,.0f}".replace(",", ".")
        return amount if self.offer == "sale" else f"{amount} per month"


class PropertySite:
    name = "property"

    def __init__(self, seed: int, scale: float):
        self.seed = seed
        self.count = max(20, round(48 * scale))
        self.base_url = ""  # set by the server; listings link relatively (same bytes on any port)
        self.listing = functools.lru_cache(maxsize=8192)(self._make_listing)

    def _make_listing(self, number: int) -> PropertyListing:
        rng = random.Random(f"{self.seed}:property:{number}")
        city = rng.choice(sorted(DISTRICTS))
        kind = "house" if rng.random() < 0.35 else "apartment"
        beds = rng.randint(1, 3) + (rng.randint(1, 2) if kind == "house" else 0)
        area = beds * rng.randint(22, 34) + rng.randint(15, 40)
        offer = "rent" if rng.random() < 0.3 else "sale"
        per_m2 = rng.uniform(3500, 7500) if offer == "sale" else rng.uniform(14, 28)
        price = round(area * per_m2, -3 if offer == "sale" else -1)
        if rng.random() < 0.03:
            price = price / 1000 if offer == "sale" else price * 100  # mistyped: outliers to find
        return PropertyListing(
            number=number,
            kind=kind,
            offer=offer,
            city=city,
            district=rng.choice(DISTRICTS[city]),
            street=f"{rng.choice(STREETS)} {rng.randint(1, 180)}",
            beds=beds,
            baths=1 + (beds > 2 and rng.random() < 0.6),
            area_m2=area,
            price=price,
            agent=rng.choice(AGENTS),
            posted=_FIRST_POST - timedelta(days=number // 2),
            json_ld=number % 5 != 0,
        )

    @property
    def last_page(self) -> int:
        return max(1, -(-self.count // PER_PAGE))

    def handle(self, path: str, query: dict[str, str]) -> Response | None:
        if path in ("/", "/search"):
            return self._index(page_number(query))
        match = _LISTING_PATH.match(path)
        if match and 1 <= int(match.group(1)) <= self.count:
            return responses.html(self._listing_page(self.listing(int(match.group(1)))))
        return None

    def _nav(self) -> list[tuple[str, str]]:
        return [
            ("/", "Search"),
            ("/search?offer=sale", "Buy"),
            ("/search?offer=rent", "Rent"),
            ("/agents", "Agents"),
        ]

    def _index(self, number: int) -> Response | None:
        if number > self.last_page:
            return None
        first = (number - 1) * PER_PAGE + 1
        cards = "".join(
            f'<li class="result"><a class="property-link" href="{listing.path}">{escape(listing.title)}</a>'
            f'<span class="result-price">{escape(listing.price_text)}</span></li>'
            for listing in (self.listing(n) for n in range(first, min(first + PER_PAGE - 1, self.count) + 1))
        )
        main = f'<h1>Homes</h1><ul class="results">{cards}</ul>{pager(number, self.last_page, "/search")}'
        return responses.html(
            page(
                lang="en",
                title=f"Homes - page {number}",
                site_name=SITE_NAME,
                nav=self._nav(),
                main=main,
                ui=ENGLISH["ui"],
            )
        )

    def _listing_page(self, listing: PropertyListing) -> str:
        rng = random.Random(f"{self.seed}:property-text:{listing.number}")
        description = [
            f"Bright {listing.kind} of {listing.area_m2} m² in a quiet street of {listing.district}, "
            "close to shops, "
            f"schools and public transport.",
            rng.choice(
                [
                    "The kitchen was renovated in 2021.",
                    "South-facing balcony with an open view.",
                    "Private garden and storage room included.",
                    "Energy label A, well insulated.",
                ]
            ),
        ]
        facts = (
            f'<ul class="facts"><li class="beds">{listing.beds} bedrooms</li>'
            f'<li class="baths">{listing.baths} bathrooms</li><li class="area">{listing.area_m2} m²</li>'
            f'<li class="type">{listing.kind}</li></ul>'
        )
        main = (
            f'<div class="property"><h1 class="property-title">{escape(listing.title)}</h1>'
            f'<img class="photo" src="/photos/{listing.number}-1.jpg" alt="">'
            f'<p class="price">{escape(listing.price_text)}</p>'
            f'<p class="address">{escape(listing.street)}, {escape(listing.district)}, '
            f"{escape(listing.city)}</p>"
            f'{facts}<div class="description">{paragraphs_html(description)}</div>'
            f'<p class="listed">Listed on <time datetime="{listing.posted.isoformat()}">'
            f'{listing.posted:%d %B %Y}</time> by <span class="agent-name">{escape(listing.agent)}</span>'
            "</p></div>"
        )
        head = (
            f'<script type="application/ld+json">{self._json_ld(listing)}</script>' if listing.json_ld else ""
        )
        return page(
            lang="en",
            title=listing.title,
            site_name=SITE_NAME,
            nav=self._nav(),
            main=main,
            ui=ENGLISH["ui"],
            head_extra=head,
        )

    def _json_ld(self, listing: PropertyListing) -> str:
        residence = {
            "@type": "SingleFamilyResidence" if listing.kind == "house" else "Apartment",
            "numberOfBedrooms": listing.beds,
            "numberOfBathroomsTotal": listing.baths,
            "floorSize": {"@type": "QuantitativeValue", "value": listing.area_m2, "unitCode": "MTK"},
            "address": {
                "@type": "PostalAddress",
                "streetAddress": listing.street,
                "addressLocality": listing.city,
                "addressRegion": listing.district,
            },
        }
        data = {
            "@context": "https://schema.org",
            "@type": "RealEstateListing",
            "name": listing.title,
            "url": listing.path,
            "datePosted": listing.posted.isoformat(),
            "offers": {
                "@type": "Offer",
                "price": listing.price,
                "priceCurrency": "EUR",
                "seller": {"@type": "RealEstateAgent", "name": listing.agent},
            },
            "mainEntity": residence,
        }
        return json.dumps(data).replace("</", "<\\/")
