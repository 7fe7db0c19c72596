"""Links out of RSS/Atom feeds (feedparser) and XML sitemaps (lxml), from fetched bytes.

Any XML carrying a DTD is refused before a parser sees it: feeds and sitemaps never need one,
and DTDs are how entity-expansion ("billion laughs") and external-entity attacks get in.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from urllib.parse import urljoin

import feedparser
from lxml import etree

# Sitemaps are at most 50 MB uncompressed (sitemaps.org); more is a decompression bomb.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
_PROLOG_SKIP = re.compile(r"\A(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
_SITEMAP_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class UnsafeXML(ValueError):
    """The document declares a DTD or entities, which feeds and sitemaps never need."""


@dataclass
class FeedLinks:
    entries: list[dict] = field(default_factory=list)  # {"url", "title", "published", "author"}
    error: str | None = None  # set when the feed was unusable or only partly readable


@dataclass
class SitemapLinks:
    pages: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)  # child sitemaps of a sitemap index
    error: str | None = None


def refuse_dtd(body: bytes) -> None:
    """Raise UnsafeXML if the XML prolog declares a DOCTYPE (and with it, possibly, entities)."""
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = body[:65536].decode("utf-16", errors="replace").lstrip("\ufeff")
    else:
        text = body[:65536].decode("latin-1").lstrip("\ufeff\xef\xbb\xbf")
    rest = text[_PROLOG_SKIP.match(text).end() :]
    if rest[:9].upper() == "<!DOCTYPE" or rest[:8].upper() == "<!ENTITY":
        raise UnsafeXML("XML with a DTD/entity declarations is refused (possible entity-expansion attack)")


def parse_feed(body: bytes, base_url: str) -> FeedLinks:
    """Entry links of an RSS or Atom feed, made absolute against `base_url`."""
    try:
        refuse_dtd(body)
    except UnsafeXML as error:
        return FeedLinks(error=str(error))
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    entries = []
    for entry in parsed.entries:
        link = entry.get("link") or next(
            (ln.get("href") for ln in entry.get("links", []) if ln.get("href")), None
        )
        if not link:
            continue
        entries.append(
            {
                "url": urljoin(base_url, link.strip()),
                "title": entry.get("title"),
                "published": entry.get("published") or entry.get("updated"),
                "author": entry.get("author"),
            }
        )
    error = None
    if parsed.get("bozo"):
        problem = parsed.get("bozo_exception")
        if not entries:
            error = f"not a readable RSS/Atom feed: {problem}"
        else:
            error = f"malformed feed ({problem}); {len(entries)} entries recovered"
    elif not parsed.get("version") and not entries:
        error = "not an RSS/Atom feed (no feed elements found)"
    return FeedLinks(entries=entries, error=error)


def _gunzip_capped(body: bytes) -> bytes:
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    data = decompressor.decompress(body, MAX_SITEMAP_BYTES + 1)
    if len(data) > MAX_SITEMAP_BYTES:
        raise ValueError(f"gzipped sitemap expands past {MAX_SITEMAP_BYTES // (1024 * 1024)} MB")
    return data


def parse_sitemap(body: bytes, base_url: str) -> SitemapLinks:
    """<loc> URLs of a sitemap (pages) or sitemap index (child sitemaps); gzip accepted."""
    try:
        if body[:2] == b"\x1f\x8b":
            body = _gunzip_capped(body)
        refuse_dtd(body)
        root = etree.fromstring(body, _SITEMAP_PARSER)
    except UnsafeXML as error:
        return SitemapLinks(error=str(error))
    except (etree.XMLSyntaxError, ValueError, zlib.error) as error:
        return SitemapLinks(error=f"malformed sitemap: {error}")
    kind = etree.QName(root).localname
    if kind not in ("urlset", "sitemapindex"):
        return SitemapLinks(
            error=f"not a sitemap: root element is <{kind}>, expected <urlset> or <sitemapindex>"
        )
    locations = []
    for element in root.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname == "loc" and element.text:
            locations.append(urljoin(base_url, element.text.strip()))
    if kind == "sitemapindex":
        return SitemapLinks(sitemaps=locations)
    return SitemapLinks(pages=locations)
