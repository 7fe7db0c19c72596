"""The demo sites: deterministic, realistic, carrying the planted problems, served on three hosts."""

from __future__ import annotations

import json
import re
import socket
import statistics
from collections import Counter

import py3langid
import pytest
import requests

from core.sources.crawl_config import validate_config
from core.sources.demo_web import DemoSites, demo_source_configs
from core.sources.demo_web.news import NewsSite
from core.sources.demo_web.property import PropertySite
from core.sources.demo_web.shop import MarketplaceSite

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"\+\d{2} [\d ]{7,}")


def body_of(site, path: str, query: dict | None = None) -> bytes:
    response = site.handle(path, query or {})
    assert response is not None and response.status == 200, path
    return response.body


def visible_words(html: str) -> list[str]:
    return re.sub(r"<[^>]+>", " ", html).split()


@pytest.fixture(scope="module")
def news():
    return NewsSite(seed=7, scale=2)


@pytest.fixture(scope="module")
def shop():
    return MarketplaceSite(seed=7, scale=2)


@pytest.fixture(scope="module")
def homes():
    return PropertySite(seed=7, scale=2)


def test_same_seed_same_site_other_seed_other_site(news):
    article = news.article(5)
    assert body_of(NewsSite(7, 2), article.path) == body_of(news, article.path)
    assert NewsSite(8, 2).article(5).paragraphs != article.paragraphs


def test_articles_are_real_sentences_in_six_detectable_languages(news):
    normal = [a for a in news.articles() if a.variant == "normal"]
    assert {a.language for a in normal} == {"en", "de", "fr", "es", "it", "nl"}
    detected = [py3langid.classify(" ".join(a.paragraphs))[0] == a.language for a in normal]
    assert sum(detected) / len(detected) >= 0.95
    words = " ".join(normal[0].paragraphs).lower().split()
    assert "lorem" not in words and len(set(words)) > 40


def test_article_pages_carry_real_boilerplate(news):
    html = body_of(news, news.article(1).path).decode("utf-8")
    for marker in (
        'class="cookie-banner"',
        'class="main-nav"',
        'class="site-footer"',
        'class="related"',
        'class="comments"',
        "<time datetime=",
    ):
        assert marker in html


def test_planted_spam_short_and_contact_pages(news):
    articles = news.articles()
    variants = Counter(a.variant for a in articles)
    assert variants["spam"] >= 1 and variants["short"] >= 1
    spam = next(a for a in articles if a.variant == "spam")
    keyword_counts = Counter(" ".join(spam.paragraphs).lower().split())
    assert keyword_counts.most_common(1)[0][1] >= 20  # keyword stuffing
    contact = [a for a in articles if any(EMAIL.search(p) and PHONE.search(p) for p in a.paragraphs)]
    assert contact, "some articles must carry an e-mail address and a phone number"


def test_partner_copies_are_near_but_not_exact_duplicates(news):
    original = next(a for a in news.articles() if a.syndicated)
    copy = body_of(news, original.partner_path).decode("utf-8")
    source = body_of(news, original.path).decode("utf-8")
    copy_words, source_words = set(visible_words(copy)), set(visible_words(source))
    overlap = len(copy_words & source_words) / len(copy_words | source_words)
    assert 0.5 < overlap < 1.0 and "Partner Wire" in copy
    feed = body_of(news, "/rss.xml").decode()
    assert original.partner_path in feed


def test_pages_in_cp1252_declared_and_latin1_undeclared(news):
    cp1252 = next(a for a in news.articles() if a.encoding == "cp1252")
    latin1 = next(a for a in news.articles() if a.encoding == "latin-1")
    declared = news.handle(cp1252.path, {})
    undeclared = news.handle(latin1.path, {})
    assert "charset=cp1252" in declared.content_type and b'charset="windows-1252"' in declared.body
    assert undeclared.content_type == "text/html" and b"charset" not in undeclared.body.lower()
    assert cp1252.title.encode("cp1252", "xmlcharrefreplace") in declared.body


def test_feeds_and_sitemaps_list_every_public_page(news):
    entries = news.entries()
    rss, atom = body_of(news, "/rss.xml").decode(), body_of(news, "/atom.xml").decode()
    assert rss.count("<item>") == len(entries) == atom.count("<entry>")
    index = body_of(news, "/sitemap.xml").decode()
    assert "<sitemapindex" in index and "/sitemaps/articles-1.xml" in index
    assert "/private/drafts/1.html" in body_of(news, "/sitemaps/articles-1.xml").decode()


def test_marketplace_has_json_ld_and_recipe_only_pages_missing_fields_relists_outliers(shop):
    items = [shop.item(n) for n in range(1, shop.count + 1)]
    pages = {item.number: body_of(shop, item.path).decode() for item in items}
    assert sum("application/ld+json" in page for page in pages.values()) == sum(i.json_ld for i in items)
    assert 0 < sum(i.json_ld for i in items) < len(items)
    assert any(i.brand is None for i in items) and any(i.sku is None for i in items)
    assert any(i.price is None for i in items)
    relist = next(i for i in items if i.relist_of)
    assert (
        relist.title == shop.item(relist.relist_of).title
        and relist.posted > shop.item(relist.relist_of).posted
    )
    prices = [i.price for i in items if i.price]
    assert max(prices) > 10 * statistics.median(prices) and min(prices) <= 1.0
    json_ld_page = pages[next(i.number for i in items if i.json_ld and i.price)]
    product = json.loads(re.search(r'ld\+json">(.*?)</script>', json_ld_page).group(1))
    assert product["@type"] == "Product" and product["offers"]["priceCurrency"] == "EUR"


def test_marketplace_index_and_api_paginate(shop):
    first = body_of(shop, "/listings", {"page": "1"}).decode()
    assert first.count('class="listing-link"') == 25 and 'class="next"' in first  # 24 + the promoted one
    assert shop.handle("/listings", {"page": str(shop.last_page + 1)}) is None
    payload = json.loads(body_of(shop, "/api/listings", {"page": "1"}))
    assert len(payload["data"]["items"]) == 50 and payload["next"].endswith("page=2")


def test_property_listings_show_facts_and_mostly_json_ld(homes):
    listings = [homes.listing(n) for n in range(1, homes.count + 1)]
    page = body_of(homes, listings[0].path).decode()
    for css in ('class="price"', 'class="address"', 'class="beds"', 'class="baths"', 'class="area"'):
        assert css in page
    share = sum(listing.json_ld for listing in listings) / len(listings)
    assert 0.6 <= share < 1.0


def test_three_hosts_on_their_own_loopback_addresses_with_robots():
    with DemoSites.start(seed=2, scale=0.1) as sites:
        hosts = {url.split("//")[1].split(":")[0] for url in sites.base_urls.values()}
        assert hosts == {"127.0.0.1", "127.0.0.2", "127.0.0.3"}
        for url in sites.base_urls.values():
            robots = requests.get(url + "/robots.txt", timeout=5).text
            assert "User-agent: DataBrokerWorkbench\nCrawl-delay: 0\nDisallow: /private/" in robots
        first = requests.get(sites.property_url + "/search", timeout=5)
        again = requests.get(
            sites.property_url + "/search", headers={"If-None-Match": first.headers["ETag"]}, timeout=5
        )
        assert first.status_code == 200 and again.status_code == 304 and again.content == b""
        port = int(sites.news_url.rsplit(":", 1)[1])
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()  # stopped means stopped


def test_configured_faults_apply_to_chosen_paths():
    with DemoSites.start(seed=2, scale=0.1, faults={"marketplace:/item/1.html": "flaky:1:503"}) as sites:
        url = sites.marketplace_url + "/item/1.html"
        assert requests.get(url, timeout=5).status_code == 503
        assert requests.get(url, timeout=5).status_code == 200
        assert requests.get(sites.news_url + "/rss.xml", timeout=5).status_code == 200
    with pytest.raises(ValueError, match="unknown demo fault"):
        DemoSites.start(faults={"/x": "explode"})


def test_demo_configs_are_valid_crawl_configs():
    class Urls:
        news_url, marketplace_url, property_url = (
            "http://127.0.0.1:1",
            "http://127.0.0.2:2",
            "http://127.0.0.3:3",
        )

    configs = demo_source_configs(Urls(), include_extras=True)
    assert [c["kind"] for c in configs[:4]] == ["feed", "sitemap", "listing_index", "listing_index"]
    for config in configs:
        assert "allow_private" not in validate_config(config)  # reachable through the runtime allow-list


def test_detail_pages_are_the_same_bytes_on_any_port_and_a_preferred_port_is_used():
    probe = socket.socket()
    probe.bind(("127.0.0.2", 0))
    free_port = probe.getsockname()[1]
    probe.close()
    with (
        DemoSites.start(seed=4, scale=0.1) as first,
        DemoSites.start(seed=4, scale=0.1, preferred_port=free_port) as second,
    ):
        assert second.marketplace_url == f"http://127.0.0.2:{free_port}" != first.marketplace_url
        for path in ("/item/2.html", "/property/1.html"):
            base_a = first.marketplace_url if path.startswith("/item") else first.property_url
            base_b = second.marketplace_url if path.startswith("/item") else second.property_url
            assert (
                requests.get(base_a + path, timeout=5).content
                == requests.get(base_b + path, timeout=5).content
            )
