"""The text a visitor sees on a page, as ordered chunks that remember the element they came from."""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

_INVISIBLE_TAGS = frozenset({
    "script", "style", "noscript", "template", "svg", "head", "iframe", "object", "canvas", "select",
    "option", "datalist", "textarea", "button",
})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")
_WIDE_CHARACTERS = re.compile(r"[\u1100-\u11ff\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\uff00-\uffef]")
# Containers that hold other products than the one the page is about, or site chrome.
_ELSEWHERE_TOKENS = frozenset({
    "related", "recommend", "recommended", "recommendations", "similar", "upsell", "crosssell", "cross",
    "recent", "recently", "viewed", "also", "bought", "sponsored", "footer", "nav", "navbar", "navigation",
    "menu", "breadcrumb", "breadcrumbs", "minicart", "megamenu", "sidebar", "reviews", "review", "comments",
    "accessories", "bundle", "carousel", "others", "complementary", "suggestions",
})
# <header> is left out: product pages often wrap the title and price block in one.
_ELSEWHERE_TAGS = frozenset({"footer", "nav", "aside"})


@dataclass(frozen=True)
class Chunk:
    text: str
    element: etree._Element  # the element whose own text (or child's tail) this is
    position: int


def _is_hidden(element) -> bool:
    return element.get("hidden") is not None or bool(_HIDDEN_STYLE.search(element.get("style") or ""))


def visible_chunks(tree) -> list[Chunk]:
    """Whitespace-normalised visible text pieces of the <body> in document order.

    Buttons and form options are left out on purpose: their labels ("Add to cart", sizes with
    prices) are read separately where they matter, and would otherwise pollute label/value pairs.
    """
    if tree is None:
        return []
    body = tree.find(".//body")
    root = body if body is not None else tree
    chunks: list[Chunk] = []
    parents: list = []
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        is_element = isinstance(element.tag, str)
        if event == "start":
            if not is_element or element.tag in _INVISIBLE_TAGS or _is_hidden(element):
                walker.skip_subtree()
                parents.append(None)  # marks a skipped subtree so its text is not read
                continue
            parents.append(element)
            text = " ".join((element.text or "").split())
            if text:
                chunks.append(Chunk(text, element, len(chunks)))
        else:
            parents.pop()
            tail = " ".join((element.tail or "").split())
            owner = next((p for p in reversed(parents) if p is not None), None)
            if tail and owner is not None and element is not root:
                chunks.append(Chunk(tail, owner, len(chunks)))
    return chunks


def display_width(text: str) -> int:
    """Length with East Asian characters counted double: a CJK sentence is short in characters."""
    return len(text) + len(_WIDE_CHARACTERS.findall(text))


def attribute_tokens(element) -> set[str]:
    """Lower-case word tokens of an element's id and class ("product-price__old" -> {product, price, old})."""
    raw = f"{element.get('id') or ''} {element.get('class') or ''}".lower()
    return {token for token in _TOKEN_SPLIT.split(raw) if token}


class AncestryCache:
    """Per-page memo of "is this element inside related-products/chrome?" (one instance per page)."""

    def __init__(self) -> None:
        # Keyed by the element proxies themselves: holding them keeps lxml from recycling them.
        self._elsewhere: dict = {}

    def is_elsewhere(self, element) -> bool:
        path = []
        current = element
        verdict = False
        while current is not None and isinstance(current.tag, str):
            if current in self._elsewhere:
                verdict = self._elsewhere[current]
                break
            path.append(current)
            if current.tag in _ELSEWHERE_TAGS or attribute_tokens(current) & _ELSEWHERE_TOKENS:
                verdict = True
                break
            current = current.getparent()
        for visited in path:
            self._elsewhere[visited] = verdict
        return verdict
