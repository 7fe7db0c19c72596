"""A section label scraped above an article ("Sport") is not part of its text; real text is never cut."""

from __future__ import annotations

import pytest

from core.sources.demo_web.news import NewsSite
from core.sources.extract_article import extract_article, page_section_labels, strip_section_label
from core.sources.standardize import standardize_document

BODY = (
    "The city council approved the new riverside park on Tuesday after two years of public hearings and a "
    "long debate about how the old warehouses along the water should be reused by the neighbourhood.",
    "Construction is expected to begin next spring, and the first part of the park, including a playground "
    "and a footbridge, should open to visitors before the end of next year, the council said.",
    "Residents who spoke at the final hearing mostly welcomed the plan, although several asked the council "
    "to keep the historic crane that has stood on the quay for more than a century.",
)


def article_page(before_title: str = "", nav: str = "", head: str = "", first_paragraph: str = "") -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in ((first_paragraph,) if first_paragraph else ()) + BODY)
    return (f"<html><head><title>Park approved</title>{head}</head><body><nav>{nav}</nav>"
            f"<article>{before_title}<h1>Council approves riverside park</h1>{paragraphs}</article></body></html>")


NAV = '<a href="/">Home</a> <a href="/sport">Sport</a> <a href="/city">City</a> <a href="/world">World</a>'


def test_demo_news_text_no_longer_starts_with_its_section():
    site = NewsSite(seed=5, scale=0.2)
    for article in site.articles()[:6]:
        extracted = extract_article(site.handle(article.path, {}).body, article.path)
        first_line = extracted["text"].split("\n")[0]
        assert first_line != article.section, extracted["text"][:80]
        if article.variant == "normal":
            assert extracted["section"] == article.section
            assert article.paragraphs[0][:40] in extracted["text"]


def test_label_named_in_navigation_kicker_or_meta_is_stripped():
    kicker = '<p class="kicker">City</p>'
    extracted = extract_article(article_page(before_title=kicker, nav=NAV))
    assert extracted["section"] == "City" and not extracted["text"].startswith("City")
    assert all(paragraph in extracted["text"] for paragraph in BODY)
    meta = '<meta property="article:section" content="Local news">'
    extracted = extract_article(article_page(before_title="<p>Local news</p>", head=meta))
    assert extracted["section"] == "Local news" and not extracted["text"].startswith("Local news")


def test_breadcrumb_line_is_stripped():
    crumbs = '<ol class="breadcrumb"><li>Home</li><li>World</li><li>Europe</li></ol>'
    labels = page_section_labels(f"<html><body>{crumbs}</body></html>")
    text, section = strip_section_label("Home › World › Europe\nThe council approved the park.", labels)
    assert text == "The council approved the park." and section == "Europe"


@pytest.mark.parametrize("text", [
    "Sport clubs in the city will get new pitches next year.\nThe council said so.",  # prose starting "Sport"
    "Sport",  # nothing after the label: the label is all there is, keep it
    "Weather\nThe council approved the park.",  # a short first line the page never names as a section
])
def test_real_text_is_left_alone(text):
    labels = page_section_labels(f"<html><body><nav>{NAV}</nav></body></html>")
    assert strip_section_label(text, labels) == (text, None)


def test_stored_extraction_from_before_the_fix_is_cleaned_when_standardized():
    page = article_page(before_title='<p class="section">Sport</p>', nav=NAV)
    old = extract_article(page)
    old.pop("section")
    old["text"] = "Sport\n" + old["text"]  # as extraction stored it before labels were stripped
    doc = {"raw_content": page, "url": "http://127.0.0.1/a.html",
           "metadata": {"kind": "article", "format": "html", "extracted": old}}
    item = standardize_document(doc, "news")
    assert item["text"].startswith("Council approves riverside park") or item["text"].startswith(BODY[0][:30])
    assert item["fields"]["section"] == "Sport"
