"""The demo news site: articles in six languages, RSS and Atom feeds, a sitemap index.

Planted for refinement: partner near-copies of some articles (/partner/...), keyword-stuffed
spam pages, very short pages, articles with an e-mail address and phone number, and pages
served in cp1252 (declared) or latin-1 (charset declared nowhere).
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from xml.sax.saxutils import escape as xml_escape

from core.sources.demo_web import prose, responses
from core.sources.demo_web.pages import link_list, page, paragraphs_html
from core.sources.demo_web.responses import Response

SITE_NAME = "Demo Daily"
LANGUAGE_ORDER = ("en", "de", "fr", "es", "it", "nl")
SITEMAP_CHUNK = 500
_ARTICLE_PATH = re.compile(r"^/(articles|partner)/(\d+)-[a-z0-9-]*\.html$")
_SITEMAP_PATH = re.compile(r"^/sitemaps/articles-(\d+)\.xml$")
EPOCH = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
PRIVATE_DRAFTS = ("/private/drafts/1.html", "/private/drafts/2.html")


@dataclass(frozen=True)
class Article:
    number: int
    language: str
    variant: str  # "normal", "spam" or "short"
    title: str
    author: str
    published: datetime
    section: str
    paragraphs: tuple[str, ...]
    comments: tuple[tuple[str, str], ...]
    encoding: str  # "utf-8", "cp1252" (declared) or "latin-1" (undeclared)
    syndicated: bool  # a partner republishes it under /partner/

    @property
    def path(self) -> str:
        return f"/articles/{self.number}-{prose.ascii_slug(self.title)}.html"

    @property
    def partner_path(self) -> str:
        return f"/partner/{self.number}-{prose.ascii_slug(self.title)}.html"


class NewsSite:
    name = "news"

    def __init__(self, seed: int, scale: float):
        self.seed = seed
        self.count = max(12, round(60 * scale))
        self.base_url = ""
        self.article = functools.lru_cache(maxsize=4096)(self._make_article)

    # -- content -----------------------------------------------------------------------------
    def _make_article(self, number: int) -> Article:
        rng = random.Random(f"{self.seed}:news:{number}")
        language = LANGUAGE_ORDER[number % len(LANGUAGE_ORDER)]
        bank = prose.LANGUAGES[language]
        roll = rng.random()
        variant = "spam" if roll < 0.04 else "short" if roll < 0.08 else "normal"
        author = prose.person(bank, rng)
        if variant == "spam":
            title, texts = prose.spam_paragraphs(rng)
        elif variant == "short":
            title, texts = prose.headline(bank, rng), [prose.sentence(bank, rng)]
        else:
            title, texts = prose.headline(bank, rng), prose.paragraphs(bank, rng, rng.randint(4, 8))
            if rng.random() < 0.12:
                texts.append(prose.contact_line(language, author, "demo-daily.example", rng))
        comments = tuple(
            (prose.person(bank, rng), rng.choice(bank["comments"])) for _ in range(rng.randint(1, 4))
        )
        encoding = "cp1252" if number % 13 == 3 else "latin-1" if number % 17 == 4 else "utf-8"
        return Article(
            number=number,
            language=language,
            variant=variant,
            title=title,
            author=author,
            published=EPOCH - timedelta(hours=5 * number + rng.randint(0, 4)),
            section=rng.choice(bank["ui"]["sections"]),
            paragraphs=tuple(texts),
            comments=comments,
            encoding=encoding,
            syndicated=variant == "normal" and number % 12 == 5,
        )

    def articles(self) -> list[Article]:
        return [self.article(number) for number in range(1, self.count + 1)]

    def entries(self) -> list[tuple[str, Article]]:
        """(path, article) of every public page, originals and partner copies, newest first."""
        found = []
        for article in self.articles():
            found.append((article.path, article))
            if article.syndicated:
                found.append((article.partner_path, article))
        return found

    # -- pages -------------------------------------------------------------------------------
    def handle(self, path: str, query: dict[str, str]) -> Response | None:
        if path in ("/", "/index.html"):
            return self._home()
        if path == "/rss.xml":
            return responses.xml(self._rss(), "application/rss+xml; charset=utf-8")
        if path == "/atom.xml":
            return responses.xml(self._atom(), "application/atom+xml; charset=utf-8")
        if path == "/sitemap.xml":
            return responses.xml(self._sitemap_index())
        match = _SITEMAP_PATH.match(path)
        if match:
            return self._sitemap(int(match.group(1)))
        if path in PRIVATE_DRAFTS:
            return responses.html(
                f"<html><body><h1>Unpublished draft</h1><p>{escape(path)}</p></body></html>"
            )
        match = _ARTICLE_PATH.match(path)
        if match and 1 <= int(match.group(2)) <= self.count:
            article = self.article(int(match.group(2)))
            if match.group(1) == "partner":
                return self._partner_page(article) if article.syndicated else None
            return self._article_page(article) if path == article.path else None
        return None

    def _nav(self, ui: dict) -> list[tuple[str, str]]:
        return [("/", ui["home"])] + [(f"/section/{name.lower()}", name) for name in ui["sections"]]

    def _article_html(
        self, article: Article, texts: tuple[str, ...] | list[str], site_name: str, extra_intro: str = ""
    ) -> str:
        bank = prose.LANGUAGES[article.language]
        ui = bank["ui"]
        neighbours = [self.article(1 + (article.number + step) % self.count) for step in (1, 2, 3, 5)]
        comments = "".join(
            f'<li class="comment"><b>{escape(name)}</b><p>{escape(text)}</p></li>'
            for name, text in article.comments
        )
        main = (
            f'<article><p class="section">{escape(article.section)}</p><h1>{escape(article.title)}</h1>'
            f'<p class="byline">{escape(ui["by"])} <span class="author">{escape(article.author)}</span> '
            f'<time datetime="{article.published.isoformat()}">{article.published:%d.%m.%Y %H:%M}</time></p>'
            f"{extra_intro}{paragraphs_html(list(texts))}"
            f'<div class="share">{escape(ui["share"])}: <a href="#">Facebook</a> <a href="#">X</a></div>'
            "</article>"
            f'<section class="comments"><h2>{escape(ui["comments"])}</h2><ul>{comments}</ul></section>'
        )
        head = (
            f'<meta name="author" content="{escape(article.author)}">'
            f'<meta property="article:published_time" content="{article.published.isoformat()}">'
            f'<meta property="og:title" content="{escape(article.title)}">'
        )
        aside = link_list("related", ui["related"], [(other.path, other.title) for other in neighbours])
        meta_charset = {"utf-8": "utf-8", "cp1252": "windows-1252", "latin-1": None}[article.encoding]
        return page(
            lang=article.language,
            title=article.title,
            site_name=site_name,
            nav=self._nav(ui),
            main=main,
            ui=ui,
            head_extra=head,
            meta_charset=meta_charset,
            aside=aside,
        )

    def _article_page(self, article: Article) -> Response:
        text = self._article_html(article, article.paragraphs, SITE_NAME)
        if article.encoding == "latin-1":
            return responses.html(text, "latin-1", declare_charset=False)
        return responses.html(text, article.encoding)

    def _partner_page(self, article: Article) -> Response:
        rng = random.Random(f"{self.seed}:partner:{article.number}")
        texts = prose.near_copy(list(article.paragraphs), article.language, rng)
        intro = f'<p class="wire">Wire partner edition &mdash; originally published by {SITE_NAME}.</p>'
        return responses.html(self._article_html(article, texts, "Partner Wire", intro))

    def _home(self) -> Response:
        ui = prose.LANGUAGES["en"]["ui"]
        latest = [(article.path, article.title) for article in self.articles()[:30]]
        main = link_list("latest", "Latest news", latest)
        return responses.html(
            page(lang="en", title="Latest news", site_name=SITE_NAME, nav=self._nav(ui), main=main, ui=ui)
        )

    # -- feeds and sitemaps ------------------------------------------------------------------
    def _rss(self) -> str:
        items = "".join(
            f"<item><title>{xml_escape(article.title)}</title><link>{self.base_url}{path}</link>"
            f"<guid>{self.base_url}{path}</guid>"
            f"<pubDate>{article.published:%a, %d %b %Y %H:%M:%S +0000}</pubDate>"
            f"<dc:creator>{xml_escape(article.author)}</dc:creator>"
            f"<description>{xml_escape(article.paragraphs[0][:200])}</description></item>"
            for path, article in self.entries()
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f"<title>{SITE_NAME}</title><link>{self.base_url}/</link><description>Demo news</description>"
            f"{items}</channel></rss>"
        )

    def _atom(self) -> str:
        entries = "".join(
            f'<entry><title>{xml_escape(article.title)}</title><link href="{self.base_url}{path}"/>'
            f"<id>{self.base_url}{path}</id><updated>{article.published.isoformat()}</updated>"
            f"<author><name>{xml_escape(article.author)}</name></author></entry>"
            for path, article in self.entries()
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{SITE_NAME}</title><id>{self.base_url}/</id><updated>{EPOCH.isoformat()}</updated>"
            f"{entries}</feed>"
        )

    def _sitemap_index(self) -> str:
        chunks = max(1, -(-len(self.entries()) // SITEMAP_CHUNK))
        maps = "".join(
            f"<sitemap><loc>{self.base_url}/sitemaps/articles-{n}.xml</loc></sitemap>"
            for n in range(1, chunks + 1)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{maps}</sitemapindex>'
        )

    def _sitemap(self, number: int) -> Response | None:
        entries = self.entries()[(number - 1) * SITEMAP_CHUNK : number * SITEMAP_CHUNK]
        if not entries:
            return None
        paths = [(path, article.published) for path, article in entries]
        if number == 1:
            paths += [(draft, EPOCH) for draft in PRIVATE_DRAFTS]  # robots.txt disallows these
        urls = "".join(
            f"<url><loc>{self.base_url}{path}</loc><lastmod>{when:%Y-%m-%d}</lastmod></url>"
            for path, when in paths
        )
        return responses.xml(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        )
