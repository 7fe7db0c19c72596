"""The refinery's applications: the raw-store databases that sources and uploads feed.

One list, so the pages' choices, the source forms and the raw counts cannot drift apart.
"""

from __future__ import annotations

# Files and buckets may go to any of them; "uploads" holds files that belong to no other application.
APPLICATIONS = ("uploads", "news", "marketplace", "property")
# Crawled sources (feeds, sitemaps, listing indexes, JSON APIs, URL lists) collect for these.
CRAWLED_APPLICATIONS = tuple(app for app in APPLICATIONS if app != "uploads")
# Their pages are listings (price, currency, availability), read with a CSS recipe or structured data.
LISTING_APPS = frozenset({"marketplace", "property"})
