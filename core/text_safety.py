"""Showing user-written text as Markdown without letting it load anything into the viewer's browser.

A listing description, a dataset card, a reviewer's name or a scraped URL is written by someone other than
the person reading it. Markdown images (`![x](https://tracker.example/p.gif)`, reference-style
`![x][ref]`, `![ref]`) make the reader's browser fetch the author's URL, which leaks the reader's IP
address and the page they were on (Referer). Raw HTML tags (`<img src=...>`, `<iframe>`) are the other way
in wherever HTML gets rendered. Links stay: nothing loads until the reader clicks one.

The neutraliser puts an invisible ZERO WIDTH SPACE after "!" in "![" and after "<" in "<tag": an image
needs "![" adjacent and a tag needs "<" right before its name, so neither forms. Unlike a backslash
escape this looks the same inside code spans and fenced blocks, so no Markdown parsing (which an author
could try to confuse) is needed to tell code from text.
"""

from __future__ import annotations

import re

ZERO_WIDTH_SPACE = "\u200b"
_IMAGE_OPENER = re.compile(r"!(?=\[)")
# "<" followed by a tag name, "/", "!" or "?" could open raw HTML (a tag, a closing tag, a comment, a declaration).
_HTML_OPENER = re.compile(r"<(?=[A-Za-z/!?])")


def markdown_without_remote_images(text: str | None) -> str:
    """The same Markdown with no image and no raw HTML tag left in it; bold, lists, headings, tables and
    links render as before, and "![x](url)" shows as "!" followed by an ordinary link."""
    if not text:
        return ""
    text = _IMAGE_OPENER.sub("!" + ZERO_WIDTH_SPACE, str(text))
    return _HTML_OPENER.sub("<" + ZERO_WIDTH_SPACE, text)
