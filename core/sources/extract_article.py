"""Main text and metadata of news and blog pages, through trafilatura.

Settings measured on the articles benchmark (bench/bench_extract.py, 46 dev pages, F1):
default 0.970, favor_recall 0.965, favor_precision 0.975, favor_precision without comments 0.976.
Precision mode can keep too little of a page whose article is split into many small blocks, so a
result under 250 characters is retried in recall mode (the longer text wins), and an empty one
falls back to trafilatura's baseline (JSON-LD articleBody, then all paragraphs). No dev page is
that short, so the retry leaves the dev score unchanged; retrying below 1,000 characters instead
lowered it to 0.972 (precision drops on short pages), which is why the threshold is low.
"""
from __future__ import annotations

import contextlib
import logging
import re

import py3langid
import trafilatura

from core.sources.html_text import as_html_text
from core.sources.structured_data import parse_html_tree

log = logging.getLogger(__name__)

ARTICLE_FIELDS = (
    "title", "author", "date", "language", "text", "description", "sitename", "tags", "url", "image", "section",
)
# Below this many characters a precision-mode result is suspicious enough to try recall mode.
_SHORT_TEXT_CHARS = 250
# Detection beats the declared language once there is this much text (templates often declare "en").
_DETECTION_MIN_CHARS = 200
_LANGUAGE_SAMPLE_CHARS = 1000
_LANGUAGE_CODE = re.compile(r"^([a-z]{2})(?:[-_][a-z0-9]+)*$", re.IGNORECASE)
# A section label ("Sport", "Politik", "World › Europe") is a few words at most.
_MAX_LABEL_CHARS, _MAX_LABEL_WORDS = 40, 4
_BREADCRUMB_SEPARATORS = re.compile(r"\s*[›>»/|·•]\s*")
# Where a page names the section an article belongs to: section meta tags, breadcrumbs, kicker/category
# elements and the site's navigation links (a label that repeats a menu entry is the menu's, not prose).
_CLASS_OR_ID = "translate(concat(@class, ' ', @id), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
_SECTION_LABEL_XPATH = " | ".join([
    "//meta[@property='article:section' or @name='article:section' or @name='section' "
    "or @property='og:section' or @name='category']/@content",
    f"//*[contains({_CLASS_OR_ID}, 'breadcrumb')]//text()",
    "//*[@itemtype and contains(@itemtype, 'BreadcrumbList')]//text()",
    *(f"//*[not(self::section) and not(self::body) and not(self::article) and contains({_CLASS_OR_ID}, '{word}')]"
      "//text()" for word in ("section", "category", "kicker", "rubric", "eyebrow", "ressort", "overline")),
    "//nav//a//text()",
])


def empty_article() -> dict:
    article = dict.fromkeys(ARTICLE_FIELDS)
    article["text"] = ""
    article["tags"] = []
    return article


def _run_trafilatura(html: str, url: str | None, **options):
    try:
        return trafilatura.bare_extraction(
            html, url=url, with_metadata=True, include_comments=False, include_tables=True, **options
        )
    except Exception as error:  # trafilatura/lxml can fail on pathological markup; a batch must go on
        log.warning("trafilatura failed on %s: %s", url or "page", error)
        return None


def _baseline_text(html: str) -> str:
    try:
        _, text, _ = trafilatura.baseline(html)
    except Exception as error:
        log.warning("trafilatura baseline failed: %s", error)
        return ""
    return text or ""


def _declared_language(html: str) -> str | None:
    tree = parse_html_tree(html[:20000])
    if tree is None:
        return None
    candidates = [tree.get("lang"), tree.get("xml:lang")]
    candidates += tree.xpath("//meta[@http-equiv and translate(@http-equiv,'CONTENT-LANGUAGE',"
                             "'content-language')='content-language']/@content")
    candidates += tree.xpath("//meta[@property='og:locale']/@content")
    for candidate in candidates:
        match = _LANGUAGE_CODE.match((candidate or "").strip())
        if match:
            return match.group(1).lower()
    return None


def language_hint(text: str, html: str = "") -> str | None:
    """ISO 639-1 code: detected from the text when there is enough of it, else as the page declares."""
    if len(text) >= _DETECTION_MIN_CHARS:
        code, _ = py3langid.classify(text[:_LANGUAGE_SAMPLE_CHARS])
        return code
    return _declared_language(html) if html else None


def _label_key(text: str) -> str:
    return " ".join(text.split()).casefold()


def page_section_labels(html: str, known: list[str] | tuple[str, ...] = ()) -> dict[str, str]:
    """Short labels the page gives its sections (casefolded -> as written), plus the `known` ones."""
    tree = parse_html_tree(html)
    found = list(known)
    if tree is not None:
        # lxml refuses some broken markup: no labels then, and the text stays as it is.
        with contextlib.suppress(ValueError):
            found += [str(value) for value in tree.xpath(_SECTION_LABEL_XPATH)]
    labels: dict[str, str] = {}
    for value in found:
        label = " ".join(value.split())
        if label and len(label) <= _MAX_LABEL_CHARS and len(label.split()) <= _MAX_LABEL_WORDS:
            labels.setdefault(_label_key(label), label)
    return labels


def strip_section_label(text: str, labels: dict[str, str]) -> tuple[str, str | None]:
    """(text without a leading section label line, the label) when the first line is only a label the page
    names as a section (or a breadcrumb of them); otherwise the text unchanged and None.

    Only a whole first line followed by more text goes: prose that merely starts with "Sport" stays.
    """
    first, newline, rest = text.partition("\n")
    if not newline or not rest.strip() or len(first.strip()) > 3 * _MAX_LABEL_CHARS:
        return text, None
    parts = [part for part in _BREADCRUMB_SEPARATORS.split(first.strip()) if part]
    if not parts or any(_label_key(part) not in labels for part in parts):
        return text, None
    return rest.lstrip(), labels[_label_key(parts[-1])]


def with_section_label_stripped(extracted: dict, html: str | bytes) -> dict:
    """An article extracted before section labels were stripped (it has no "section" key), with the
    leading label stripped now from its stored page; a newer extraction is returned as it is."""
    if "section" in extracted or not isinstance(extracted.get("text"), str):
        return extracted
    labels = page_section_labels(as_html_text(html), list(extracted.get("tags") or []))
    text, section = strip_section_label(extracted["text"], labels)
    return {**extracted, "text": text, "section": section}


def extract_article(html: str, url: str | None = None) -> dict:
    """Title, author, date (ISO), language, main text and metadata of an article page.

    `html` may also be the raw response bytes. Never raises on bad markup: an empty or
    unparseable page gives empty text and None fields.
    """
    article = empty_article()
    html = as_html_text(html)
    if not html.strip():
        article["url"] = url
        return article
    document = _run_trafilatura(html, url, favor_precision=True)
    text = (document.text if document else "") or ""
    if len(text) < _SHORT_TEXT_CHARS:
        recall_document = _run_trafilatura(html, url, favor_recall=True)
        if recall_document is not None and len(recall_document.text or "") > len(text):
            document, text = recall_document, recall_document.text
    if not text.strip():
        text = _baseline_text(html)
    known_sections = list((document.categories or []) if document is not None else [])
    article["text"], article["section"] = strip_section_label(
        text.strip(), page_section_labels(html, known_sections)
    )
    if document is not None:
        article.update(
            title=document.title, author=document.author, date=document.date,
            description=document.description, sitename=document.sitename,
            url=document.url or url, image=document.image,
            tags=list(dict.fromkeys((document.tags or []) + (document.categories or []))),
        )
    else:
        article["url"] = url
    article["language"] = language_hint(article["text"], html)
    return article
