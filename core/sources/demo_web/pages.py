"""The page chrome every demo site shares: header, navigation, cookie banner, footer.

Real sites wrap their content in this boilerplate, and extraction has to see past it, so the
demo pages carry all of it (and related links and comments on articles).
"""

from __future__ import annotations

from html import escape


def page(
    *,
    lang: str,
    title: str,
    site_name: str,
    nav: list[tuple[str, str]],
    main: str,
    ui: dict,
    head_extra: str = "",
    meta_charset: str | None = "utf-8",
    aside: str = "",
) -> str:
    """A full HTML document. `main` is trusted HTML built by the site; every other text is escaped."""
    nav_links = "".join(f'<li><a href="{escape(href)}">{escape(label)}</a></li>' for href, label in nav)
    charset = f'<meta charset="{meta_charset}">' if meta_charset else ""
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head>{charset}'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} | {escape(site_name)}</title>{head_extra}"
        '<link rel="stylesheet" href="/static/site.css"></head><body>'
        f'<div class="cookie-banner" role="dialog"><p>{escape(ui["cookie"])}</p>'
        f'<button type="button">{escape(ui["accept"])}</button></div>'
        f'<header class="site-header"><a class="logo" href="/">{escape(site_name)}</a>'
        f'<nav class="main-nav"><ul>{nav_links}</ul></nav>'
        f'<form class="search" action="/search"><input name="q" placeholder="Search"></form></header>'
        f'<main id="content">{main}</main>{aside}'
        f'<footer class="site-footer"><p>{escape(ui["newsletter"])}: <input type="email"></p>'
        f'<ul><li><a href="/privacy">{escape(ui["privacy"])}</a></li>'
        f'<li><a href="/imprint">{escape(ui["imprint"])}</a></li>'
        f'<li><a href="/contact">{escape(ui["contact"])}</a></li></ul>'
        f"<p>&copy; 2024 {escape(site_name)}. {escape(ui['rights'])}</p></footer>"
        "</body></html>"
    )


def paragraphs_html(texts: list[str]) -> str:
    return "".join(f"<p>{escape(text)}</p>" for text in texts)


def link_list(css_class: str, heading: str, links: list[tuple[str, str]]) -> str:
    items = "".join(f'<li><a href="{escape(href)}">{escape(label)}</a></li>' for href, label in links)
    return f'<aside class="{css_class}"><h2>{escape(heading)}</h2><ul>{items}</ul></aside>'


def pager(current: int, last_page: int, path: str) -> str:
    """Previous/next links; the next link has class "next" (what the crawl configs select)."""
    parts = []
    if current > 1:
        parts.append(f'<a class="prev" rel="prev" href="{path}?page={current - 1}">&laquo; Previous</a>')
    parts.append(f'<span class="current">Page {current} of {last_page}</span>')
    if current < last_page:
        parts.append(f'<a class="next" rel="next" href="{path}?page={current + 1}">Next &raquo;</a>')
    return f'<nav class="pagination">{"".join(parts)}</nav>'


def page_number(query: dict[str, str]) -> int:
    """The ?page= number of an index request; anything unusable means the first page."""
    try:
        return max(1, int(query.get("page", "1")))
    except ValueError:
        return 1
