"""User-written Markdown renders without remote images or raw HTML (no IP or Referer leak to its author)."""

from __future__ import annotations

import re
import uuid

import pytest
from apptest_helpers import assert_no_exception
from markdown_it import MarkdownIt
from refine_fixtures import dataset_with_run
from test_pages_marketplace import _open

from core import auth
from core.market.checkout import start_purchase
from core.market.listings import create_listing
from core.market.reviews import add_review
from core.packaging.build import PackageRequest, build_package
from core.text_safety import markdown_without_remote_images

TRACKER = "http://tracker.test"
# The worst case: a CommonMark renderer that passes raw HTML through, stricter than Streamlit's.
_renderer = MarkdownIt("commonmark", {"html": True})
HOSTILE = "\n\n".join([
    f"Inline ![pixel]({TRACKER}/inline.gif) and titled ![t]({TRACKER}/titled.gif \"title\")",
    f"Angle ![a](<{TRACKER}/angle.gif>) and nested [![badge]({TRACKER}/badge.svg)](https://example.org)",
    "Reference ![ref image][pix], collapsed ![pix][] and shortcut ![pix]",
    f"[pix]: {TRACKER}/reference.gif",
    f"Escaped backslash \\\\![x]({TRACKER}/backslash.gif)",
    f'<img src="{TRACKER}/html.gif"> <IMG SRC={TRACKER}/upper.gif> <picture><source srcset="{TRACKER}/s.gif">',
    f'<iframe src="{TRACKER}/frame"></iframe> <svg><image href="{TRACKER}/svg.gif"/></svg>',
    f"<div>\n<img src='{TRACKER}/block.gif'>\n</div>",
])


def remote_loads(markdown: str) -> list[str]:
    """Every element in the rendered HTML that would make a browser fetch something by itself."""
    html = _renderer.render(markdown)
    return re.findall(r"<(?:img|image|iframe|source|picture|video|audio|object|embed|svg)\b[^>]*>", html, re.I)


def test_hostile_markdown_loads_nothing_once_neutralised():
    assert remote_loads(HOSTILE), "the sample must be dangerous before neutralising"
    assert remote_loads(markdown_without_remote_images(HOSTILE)) == []


def test_ordinary_markdown_and_links_render_as_before():
    text = ("# Card\n\n**Bold**, _italic_, a [link](https://example.org) and <https://example.org>.\n\n"
            "- item\n- 3 < 4 and 5 > 2!\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n`code` and\n\n```\nx = 1\n```")
    safe = markdown_without_remote_images(text)
    rendered = _renderer.render(safe)
    assert '<a href="https://example.org">link</a>' in rendered and "<strong>Bold</strong>" in rendered
    assert "<h1>Card</h1>" in rendered and "3 &lt; 4" in rendered
    assert safe.replace("\u200b", "") == text  # only invisible characters were added


@pytest.mark.parametrize("value", [None, "", "plain"])
def test_empty_and_plain_values(value):
    assert markdown_without_remote_images(value) == (value or "")


def _rendered_markdown(at) -> list[str]:
    texts = [e.value for kind in ("markdown", "caption", "subheader", "title", "header", "success", "info",
                                  "warning", "error") for e in getattr(at, kind)]
    return [t for t in texts if isinstance(t, str)]


def test_marketplace_renders_seller_and_reviewer_text_without_remote_images(workbench):
    dataset, _ = dataset_with_run()
    supplier = auth.demo_principal("supplier")
    package = build_package(supplier, PackageRequest(dataset=dataset["name"], title=f"Pixel {dataset['name']}",
                                                     license="CC-BY-4.0", description=HOSTILE))
    listing = create_listing(supplier, package["package_id"], f"Pixel {dataset['name']} ![t]({TRACKER}/title.gif)",
                             HOSTILE, ["energy"], "news", 0, "usd")
    reviewer = auth.sign_up(f"r{uuid.uuid4().hex[:8]}@example.org", "correct horse battery",
                            f"![me]({TRACKER}/reviewer.gif)", "buyer")
    start_purchase(reviewer, listing["id"])
    add_review(reviewer, listing["id"], 5, "Fine.")
    at = _open(listing, "buyer")
    assert_no_exception(at)
    rendered = _rendered_markdown(at)
    assert any("Inline" in text for text in rendered), "the description is shown"
    assert any("reviewer.gif" in text for text in rendered), "the reviewer is shown"
    leaks = [load for text in rendered for load in remote_loads(text)]
    assert leaks == []
