"""Post HTML (Mastodon's `content`) as plain text, through the same visible-text reader as web pages.

Scripts, styles, hidden elements and images never reach the text (see core.sources.visible_text); a link's
pieces (`#<span>tag</span>`, `<span class="invisible">https://</span>example.org`) are joined without a
space, so hashtags, mentions and URLs read as they were written; each paragraph becomes a line.
"""

from __future__ import annotations

from core.sources.structured_data import parse_html_tree
from core.sources.visible_text import visible_chunks

_LINK = frozenset({"a"})
_BLOCKS = frozenset({"p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "body"})


def _nearest(element, tags: frozenset[str]):
    while element is not None and isinstance(element.tag, str):
        if element.tag in tags:
            return element
        element = element.getparent()
    return None


def post_html_text(html: str) -> str:
    """The text a reader sees in a post's HTML; empty for empty or unparseable markup."""
    if not html or not html.strip():
        return ""
    tree = parse_html_tree(f"<html><body>{html}</body></html>")
    lines: list[str] = []
    previous_block = previous_link = None
    for chunk in visible_chunks(tree):
        block, link = _nearest(chunk.element, _BLOCKS), _nearest(chunk.element, _LINK)
        if not lines or block is not previous_block:
            lines.append(chunk.text)
        elif link is not None and link is previous_link:
            lines[-1] += chunk.text
        else:
            lines[-1] += " " + chunk.text
        previous_block, previous_link = block, link
    return "\n".join(lines)
