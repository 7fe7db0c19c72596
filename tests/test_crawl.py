"""Crawling the demo sites end to end: raw documents, extraction, errors, stop, budget, 304 re-runs."""

from __future__ import annotations

import gzip
import hashlib
from collections import Counter

import pytest

from core.sources.crawl import CrawlConfigError, CrawlError, crawl_source
from core.sources.demo_web import DemoSites, demo_source_configs
from core.sources.feeds import parse_feed, parse_sitemap
from core.sources.fetch import FetchPolicy, fetch

DOCUMENT_KEYS = {"source_id", "url", "fetched_at", "content_hash", "raw_content", "metadata"}
METADATA_KEYS = {
    "status",
    "final_url",
    "content_type",
    "etag",
    "last_modified",
    "elapsed_s",
    "kind",
    "extracted",
    "truncated",
}
POLICY = FetchPolicy(per_host_delay_s=0, retries=1, backoff_base_s=0.01, timeout_s=3)


@pytest.fixture(scope="module")
def sites():
    with DemoSites.start(seed=11, scale=0.25) as running:
        yield running


@pytest.fixture(scope="module")
def configs(sites):
    return {config["source_id"]: config for config in demo_source_configs(sites, include_extras=True)}


@pytest.fixture(scope="module")
def crawled(configs):
    """Every demo config crawled once: {source_id: (report, documents, validators)}."""
    runs = {}
    for source_id, config in configs.items():
        documents, validators = [], {}
        report = crawl_source(config, POLICY, documents.extend, conditional_cache=validators)
        runs[source_id] = (report, documents, validators)
    return runs


def url_list(sites, *paths: str, **extra) -> dict:
    return {
        "source_id": "test-list",
        "app": "news",
        "kind": "url_list",
        "urls": [sites.news_url + path for path in paths],
        **extra,
    }


def test_every_demo_config_produces_raw_documents_of_the_agreed_shape(crawled):
    for source_id, (report, documents, _) in crawled.items():
        assert report.errors == [], source_id
        assert documents and report.documents == len(documents), source_id
        for doc in documents:
            assert set(doc) == DOCUMENT_KEYS and set(doc["metadata"]) == METADATA_KEYS
            assert doc["source_id"] == source_id and doc["fetched_at"].tzinfo is not None
            assert isinstance(doc["raw_content"], str) and len(doc["content_hash"]) == 64


def test_content_hash_is_the_sha256_of_the_body_as_served(crawled):
    _, documents, _ = crawled["demo-property"]
    doc = next(d for d in documents if d["metadata"]["kind"] == "listing")
    body = fetch(doc["url"], FetchPolicy(per_host_delay_s=0)).body
    assert doc["content_hash"] == hashlib.sha256(body).hexdigest()


def test_news_feed_and_sitemap_extract_articles_in_six_languages(crawled, sites):
    for source_id in ("demo-news-rss", "demo-news-sitemap", "demo-news-atom"):
        report, documents, _ = crawled[source_id]
        articles = [d for d in documents if d["metadata"]["kind"] == "article"]
        assert len(articles) >= 15, source_id
        languages = Counter(d["metadata"]["extracted"]["language"] for d in articles)
        assert {"en", "de", "fr", "es", "it", "nl"} <= set(languages), languages
        sample = next(
            d
            for d in articles
            if d["url"].endswith(".html")
            and "/articles/" in d["url"]
            and len(d["metadata"]["extracted"]["text"]) > 500
        )
        extracted = sample["metadata"]["extracted"]
        assert extracted["title"] and extracted["author"] and extracted["date"]
        assert "cookie" not in extracted["text"].lower()  # the banner is boilerplate, not article text
    assert crawled["demo-news-sitemap"][0].skipped_by_robots == 2  # the /private/ drafts in the sitemap
    assert Counter(d["metadata"]["kind"] for d in crawled["demo-news-rss"][1])["feed"] == 1


def test_marketplace_listings_come_from_json_ld_and_from_the_recipe(crawled):
    report, documents, _ = crawled["demo-marketplace"]
    listings = [d for d in documents if d["metadata"]["kind"] == "listing"]
    assert report.skipped_by_robots == 1  # the promoted /private/ link on page 1
    assert len(listings) == 30 and Counter(d["metadata"]["kind"] for d in documents)["index"] == 2
    without_json_ld = [d for d in listings if "application/ld+json" not in d["raw_content"]]
    assert without_json_ld, "the demo must have pages only a recipe can read"
    priced = [d for d in without_json_ld if d["metadata"]["extracted"]["price"] is not None]
    assert len(priced) >= len(without_json_ld) - 2  # "Price on request" pages have none
    fields = priced[0]["metadata"]["extracted"]
    assert fields["currency"] == "EUR" and fields["location"] and fields["title"]


def test_property_listings_have_price_location_beds_baths_area(crawled):
    _, documents, _ = crawled["demo-property"]
    listings = [d["metadata"]["extracted"] for d in documents if d["metadata"]["kind"] == "listing"]
    assert len(listings) == 20
    for fields in listings:
        assert fields["price"] and fields["location"]
        assert {"beds", "baths", "area_m2"} <= set(fields["attributes"]), fields


def test_json_api_items_are_mapped_with_dotted_paths(crawled):
    report, documents, _ = crawled["demo-marketplace-api"]
    assert report.pages_fetched == 1 and len(documents) == 30
    item = documents[0]
    assert item["metadata"]["kind"] == "api_item" and item["url"].endswith("/item/1.html")
    assert set(item["metadata"]["extracted"]) >= {"title", "price", "currency", "seller", "location"}
    assert item["content_hash"] == hashlib.sha256(item["raw_content"].encode()).hexdigest()


def test_second_run_sends_conditional_requests_and_counts_unchanged_pages(crawled, configs):
    first_report, first_docs, validators = crawled["demo-property"]
    assert validators  # the caller's dict was filled in place
    documents = []
    report = crawl_source(configs["demo-property"], POLICY, documents.extend, conditional_cache=validators)
    details = sum(1 for d in first_docs if d["metadata"]["kind"] == "listing")
    assert report.not_modified == details
    assert {d["metadata"]["kind"] for d in documents} == {"index"}  # only navigation pages are refetched


def test_failures_become_error_rows_and_the_crawl_goes_on(sites):
    # The metadata address is reached through a redirect: only the config's own hosts are exempt from
    # the guard, so the hop is refused before any connection is made.
    config = url_list(
        sites,
        "/faults/error/500",
        "/no-such-page.html",
        "/faults/flaky/crawl-ok?fails=0",
        "/private/drafts/1.html",
        "/faults/redirect-to?url=http://169.254.169.254/latest/meta-data/",
    )
    documents = []
    report = crawl_source(config, POLICY, documents.extend)
    reasons = {error.url.rsplit("/", 2)[-1]: error.reason for error in report.errors}
    assert reasons["500"] == "HTTP 500 after 2 attempts"
    assert reasons["no-such-page.html"] == "HTTP 404"
    assert "link-local" in reasons[""]
    assert report.skipped_by_robots == 1 and len(documents) == 1 and report.documents == 1
    assert all(isinstance(error, CrawlError) for error in report.errors)
    url, reason = report.errors[0]  # rows unpack as (url, reason)
    assert url.startswith("http")


def test_robots_override_is_recorded_in_the_report(sites):
    config = url_list(sites, "/private/drafts/2.html")
    report = crawl_source(config, FetchPolicy(per_host_delay_s=0, obey_robots=False), lambda batch: None)
    assert report.robots_overridden == [sites.news_url + "/private/drafts/2.html"] and report.documents == 1


def test_private_hosts_off_the_allow_list_stay_refused(sites):
    port = int(sites.news_url.rsplit(":", 1)[1])
    config = {**url_list(sites), "urls": [f"http://localhost:{port}/", f"http://127.0.0.1:{port + 1}/"]}
    report = crawl_source(config, POLICY, lambda batch: None)
    assert report.documents == 0 and all("loopback" in error.reason for error in report.errors)
    with pytest.raises(CrawlConfigError, match="allow_private cannot be set"):
        crawl_source({**url_list(sites, "/"), "allow_private": True}, POLICY, lambda batch: None)


def test_truncated_and_non_utf8_pages_are_stored_and_flagged(sites):
    config = url_list(sites, "/faults/oversized?mb=2", "/faults/non-utf8")
    documents = []
    report = crawl_source(config, FetchPolicy(per_host_delay_s=0, max_page_bytes=300_000), documents.extend)
    by_path = {d["url"].rsplit("/", 1)[-1]: d for d in documents}
    assert report.truncated == 1 and by_path["oversized?mb=2"]["metadata"]["truncated"] is True
    assert "Zürich" in by_path["non-utf8"]["raw_content"]


def test_malformed_feed_and_entity_sitemap_are_reported(sites):
    feed = {**url_list(sites, "/faults/malformed-feed.xml"), "kind": "feed"}
    sitemap = {**url_list(sites, "/faults/entity-sitemap.xml"), "kind": "sitemap"}
    feed_report = crawl_source(feed, POLICY, lambda batch: None)
    sitemap_report = crawl_source(sitemap, POLICY, lambda batch: None)
    assert "feed" in feed_report.errors[0].reason
    assert "DTD" in sitemap_report.errors[0].reason and sitemap_report.documents == 0


def test_stop_request_ends_early_keeping_what_the_sink_got():
    received = []
    with DemoSites.start(seed=5, scale=2) as bigger:
        config = demo_source_configs(bigger)[1]  # the sitemap: about 130 pages
        slowed = FetchPolicy(per_host_delay_s=0.02, per_host_concurrency=1)
        report = crawl_source(config, slowed, received.extend, should_stop=lambda: bool(received))
    assert report.stopped and 0 < report.documents == len(received) < 100


def test_a_failing_sink_batch_is_reported_and_later_batches_are_kept(configs):
    calls = []

    def flaky_sink(batch):
        calls.append(len(batch))
        if len(calls) == 1:
            raise RuntimeError("store unavailable")

    report = crawl_source(configs["demo-marketplace"], POLICY, flaky_sink)
    failed = [e for e in report.errors if "sink failed" in e.reason]
    assert len(failed) == calls[0] and report.documents == sum(calls[1:]) and len(calls) > 1


def test_max_pages_bounds_the_crawl(configs):
    config = {**configs["demo-marketplace"], "max_pages": 5}
    report = crawl_source(config, POLICY, lambda batch: None)
    assert report.page_budget_reached and report.pages_fetched <= 5


def test_progress_is_monotonic_and_ends_at_one(configs):
    seen = []
    crawl_source(configs["demo-property"], POLICY, lambda batch: None, progress=lambda f, m: seen.append(f))
    assert seen[-1] == 1.0 and seen == sorted(seen)


def test_unusable_config_is_refused_naming_every_problem():
    with pytest.raises(CrawlConfigError) as refused:
        crawl_source(
            {
                "source_id": "x",
                "app": "news",
                "kind": "listing_index",
                "urls": ["ftp://a/"],
                "next_page_selector": "a[",
                "max_pages": 0,
                "recipe": {"price": ""},
            },
            POLICY,
            print,
        )
    message = str(refused.value)
    for expected in ("ftp://a/", "max_pages", "next_page_selector", "detail_link_selector", "price"):
        assert expected in message


def test_feed_and_sitemap_parsers():
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><item><link>/a.html</link></item></channel></rss>'
    )
    assert [e["url"] for e in parse_feed(rss, "http://x/feed").entries] == ["http://x/a.html"]
    assert parse_feed(b"not a feed at all", "http://x/").error
    index = (
        b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>/s1.xml</loc>'
        b"</sitemap></sitemapindex>"
    )
    assert parse_sitemap(gzip.compress(index), "http://x/").sitemaps == ["http://x/s1.xml"]
    assert "not a sitemap" in parse_sitemap(b"<html/>", "http://x/").error
    xxe = b'<?xml version="1.0"?>\n<!-- c --><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]><urlset/>'
    assert "DTD" in parse_sitemap(xxe, "http://x/").error
