"""Property listings for tests: the demo property site's own listings, uploaded as a fresh supplier's dataset.

Uploading (rather than scraping) keeps each test's data its own: the demo sources belong to whoever scraped
them first in the session. The rows carry what the scraper extracts from the site (title, price, location
line, beds, baths, area, type), so the valuation sees the same shape as scraped listings.
"""

from __future__ import annotations

import json
import uuid

from core.sources.demo_web.property import PropertySite
from core.sources.ingest import ingest_upload

BARGAIN_TITLE = "4-bedroom house for sale in Utrecht, Oudwijk (planted bargain)"


def listing_rows(count: int = 120, seed: int = 11) -> list[dict]:
    site = PropertySite(seed, scale=count / 48)
    rows = []
    for number in range(1, site.count + 1):
        listing = site.listing(number)
        rows.append({"title": listing.title, "url": f"https://homes.example{listing.path}", "price": listing.price,
                     "currency": "EUR", "location": f"{listing.street}, {listing.district}, {listing.city}",
                     "beds": listing.beds, "baths": listing.baths, "area_m2": listing.area_m2,
                     "attributes": {"property_type": listing.kind}})
    # A large house listed far below what its size sells for: the valuation must flag it "under".
    rows.append({"title": BARGAIN_TITLE, "url": "https://homes.example/property/bargain.html", "price": 90000.0,
                 "currency": "EUR", "location": "Kanaalweg 3, Oudwijk, Utrecht", "beds": 4, "baths": 2,
                 "area_m2": 150, "attributes": {"property_type": "house"}})
    return rows


def upload_listings(principal, rows: list[dict] | None = None, name: str | None = None) -> str:
    name = name or f"homes-{uuid.uuid4().hex[:8]}"
    data = "\n".join(json.dumps(row) for row in (rows or listing_rows())).encode()
    ingest_upload(principal, "homes.jsonl", data, app="property", dataset=name, license="CC-BY-4.0",
                  origin="web", attested=True)
    return name
