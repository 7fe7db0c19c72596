"""Crawl configurations for the demo sites, as `crawl_source` takes them.

The demo sites live on loopback addresses; they are crawlable because `DemoSites.start` puts
their exact host:port pairs on this process's network allow-list, not because of anything here.
"""

from __future__ import annotations

MARKETPLACE_RECIPE = {
    "title": "h1.listing-title",
    "price": ".price-box .amount",
    "sku": "dd.sku",
    "brand": "dd.brand",
    "availability": "dd.stock",
    "location": "dd.location",
    "category": "dd.category",
    "seller": ".seller-name",
    "posted_date": {"selector": "dd.posted time", "attr": "datetime"},
    "images": {"selector": "img.photo", "attr": "src"},
    "condition": "dd.condition",
    "colour": "dd.colour",
}
PROPERTY_RECIPE = {
    "title": "h1.property-title",
    "price": "p.price",
    "location": "p.address",
    "beds": "li.beds",
    "baths": "li.baths",
    "area_m2": "li.area",
    "seller": ".agent-name",
    "posted_date": {"selector": "p.listed time", "attr": "datetime"},
    "images": {"selector": "img.photo", "attr": "src"},
    "property_type": "li.type",
}
# JSON API: dotted path in an item -> field name.
API_FIELD_MAP = {
    "title": "title",
    "url": "url",
    "sku": "sku",
    "price.amount": "price",
    "price.currency": "currency",
    "brand": "brand",
    "seller.name": "seller",
    "location.city": "location",
    "posted": "posted_date",
    "availability": "availability",
}


def demo_source_configs(sites, include_extras: bool = False, max_pages: int = 10_000) -> list[dict]:
    """News feed, news sitemap, marketplace index and property index configs for running demo sites.

    `sites` is a running DemoSites (or anything with news_url, marketplace_url, property_url).
    `include_extras` adds the Atom feed and the marketplace JSON API, which cover the same pages.
    """
    configs = [
        {
            "source_id": "demo-news-rss",
            "app": "news",
            "kind": "feed",
            "urls": [f"{sites.news_url}/rss.xml"],
            "max_pages": max_pages,
        },
        {
            "source_id": "demo-news-sitemap",
            "app": "news",
            "kind": "sitemap",
            "urls": [f"{sites.news_url}/sitemap.xml"],
            "max_pages": max_pages,
        },
        {
            "source_id": "demo-marketplace",
            "app": "marketplace",
            "kind": "listing_index",
            "urls": [f"{sites.marketplace_url}/listings?page=1"],
            "recipe": MARKETPLACE_RECIPE,
            "next_page_selector": "nav.pagination a.next",
            "detail_link_selector": "a.listing-link",
            "max_pages": max_pages,
        },
        {
            "source_id": "demo-property",
            "app": "property",
            "kind": "listing_index",
            "urls": [f"{sites.property_url}/search?page=1"],
            "recipe": PROPERTY_RECIPE,
            "next_page_selector": "nav.pagination a.next",
            "detail_link_selector": "a.property-link",
            "max_pages": max_pages,
        },
    ]
    if include_extras:
        configs += [
            {
                "source_id": "demo-news-atom",
                "app": "news",
                "kind": "feed",
                "urls": [f"{sites.news_url}/atom.xml"],
                "max_pages": max_pages,
            },
            {
                "source_id": "demo-marketplace-api",
                "app": "marketplace",
                "kind": "json_api",
                "urls": [f"{sites.marketplace_url}/api/listings?page=1"],
                "items_path": "data.items",
                "next_page_path": "next",
                "field_map": API_FIELD_MAP,
                "max_pages": max_pages,
            },
        ]
    return configs
