"""Machine-readable data embedded in pages: JSON-LD, microdata, RDFa and <meta> tags.

Everything is returned as plain schema.org-shaped dicts ({"@type": [...], "name": ..., "offers": {...}})
whatever the syntax it came from, so listing extraction reads one shape.
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import lxml.html
from extruct.rdfa import RDFaExtractor
from extruct.utils import parse_xmldom_html
from extruct.w3cmicrodata import LxmlMicrodataExtractor
from lxml import etree

log = logging.getLogger(__name__)

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_JSON_WRAPPERS = re.compile(r"^\s*(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)|(?:-->|//\s*\]\]>|\]\]>)\s*$")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_SCHEMA_PREFIX = re.compile(r"^https?://(?:www\.)?schema\.org/", re.IGNORECASE)
# RDFa is only worth pyRdfa's slow parse when it declares something a listing could be.
_RDFA_LISTING_TYPES = re.compile(
    r"product|offer|listing|residence|accommodation|apartment|house|vehicle|car\b|book|event", re.IGNORECASE)


def parse_html_tree(html: str) -> lxml.html.HtmlElement | None:
    """Parse HTML leniently; None when there is nothing parseable (empty or binary junk)."""
    if not html or not html.strip():
        return None
    # lxml refuses str input that carries an encoding declaration; the text is already decoded.
    html = _XML_DECLARATION.sub("", html, count=1).replace("\x00", "")
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as error:
        log.debug("unparseable HTML: %s", error)
        return None


def short_type_names(node: dict) -> set[str]:
    """Lower-case schema.org type names of a node ("http://schema.org/Product" -> "product")."""
    raw = node.get("@type") or node.get("type") or []
    if isinstance(raw, str):
        raw = [raw]
    return {_SCHEMA_PREFIX.sub("", str(name)).lower() for name in raw if name}


def iter_nodes(value) -> Iterator[dict]:
    """Every dict nested anywhere in a JSON-like value, parents before children."""
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            yield current
            stack.extend(reversed(list(current.values())))
        elif isinstance(current, list):
            stack.extend(reversed(current))


def _loads_lenient(text: str) -> list:
    """All JSON values in a script body, tolerating comment wrappers, trailing commas and raw newlines."""
    text = _JSON_WRAPPERS.sub("", text.strip()).strip()
    if not text:
        return []
    decoder = json.JSONDecoder(strict=False)
    for candidate in (text, _TRAILING_COMMA.sub(r"\1", text)):
        values, position = [], 0
        try:
            while position < len(candidate):
                value, position = decoder.raw_decode(candidate, position)
                values.append(value)
                while position < len(candidate) and candidate[position] in " \t\r\n;,":
                    position += 1
            return values
        except json.JSONDecodeError:
            if values:
                return values
    log.debug("skipping unparseable JSON-LD block of %d characters", len(text))
    return []


def json_ld_nodes(tree: lxml.html.HtmlElement | None) -> list[dict]:
    """Top-level JSON-LD nodes of a page, with @graph containers and arrays unpacked."""
    if tree is None:
        return []
    nodes: list[dict] = []
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        pending = _loads_lenient(script.text)
        while pending:
            value = pending.pop(0)
            if isinstance(value, list):
                pending[:0] = value
            elif isinstance(value, dict):
                graph = value.get("@graph")
                if isinstance(graph, list | dict):
                    pending[:0] = graph if isinstance(graph, list) else [graph]
                    if len(value) <= 2:  # only @context and @graph: a container, not an entity
                        continue
                nodes.append(value)
    return nodes


def _plain_microdata(item):
    if not isinstance(item, dict):
        return item
    if "properties" not in item and "type" not in item:
        return item.get("value", item)
    node = {"@type": item.get("type") or []}
    for name, value in (item.get("properties") or {}).items():
        is_repeated = isinstance(value, list)
        node[name] = [_plain_microdata(v) for v in value] if is_repeated else _plain_microdata(value)
    return node


def microdata_nodes(tree: lxml.html.HtmlElement | None, url: str | None = None) -> list[dict]:
    """Top-level microdata items in document order, as plain dicts."""
    if tree is None or tree.find(".//*[@itemscope]") is None:
        return []
    try:
        items = LxmlMicrodataExtractor(nested=True).extract_items(tree, url)
    except Exception as error:  # extruct walks arbitrary markup; a bad page must not stop the batch
        log.debug("microdata extraction failed: %s", error)
        return []
    return [_plain_microdata(item) for item in items]


def _plain_rdfa_value(value, by_id: dict, depth: int):
    if isinstance(value, dict):
        if "@value" in value:
            return value["@value"]
        if "@id" in value and value["@id"] in by_id and depth < 4:
            return _plain_rdfa_node(by_id[value["@id"]], by_id, depth + 1)
        return value.get("@id")
    return value


def _plain_rdfa_node(node: dict, by_id: dict, depth: int = 0) -> dict:
    plain = {"@type": node.get("@type", [])}
    for key, values in node.items():
        if key.startswith("@") or not _SCHEMA_PREFIX.match(key):
            continue
        converted = [_plain_rdfa_value(v, by_id, depth) for v in values]
        plain[_SCHEMA_PREFIX.sub("", key)] = converted[0] if len(converted) == 1 else converted
    return plain


def rdfa_nodes(html: str, tree: lxml.html.HtmlElement | None, url: str | None = None) -> list[dict]:
    """schema.org RDFa entities as plain dicts.

    pyRdfa needs its own DOM-flavoured parse and is slow, so only pages whose typeof attributes
    name a listing-like type pay for it.
    """
    declared_types = " ".join(tree.xpath("//@typeof")) if tree is not None else ""
    if not _RDFA_LISTING_TYPES.search(declared_types):
        return []
    try:
        dom = parse_xmldom_html(_XML_DECLARATION.sub("", html, count=1), encoding=None)
        expanded = RDFaExtractor().extract_items(dom, base_url=url or "")
    except Exception as error:  # pyRdfa raises many exception types on odd markup
        log.debug("RDFa extraction failed: %s", error)
        return []
    by_id = {node.get("@id"): node for node in expanded if isinstance(node, dict)}
    referenced = {
        value.get("@id")
        for node in by_id.values() for key, values in node.items() if not key.startswith("@")
        for value in (values if isinstance(values, list) else []) if isinstance(value, dict)
    }
    return [
        _plain_rdfa_node(node, by_id)
        for node_id, node in by_id.items()
        if node_id not in referenced and any(_SCHEMA_PREFIX.match(t) for t in node.get("@type", []))
    ]


def meta_values(tree: lxml.html.HtmlElement | None) -> dict[str, list[str]]:
    """<meta> contents keyed by lower-case property/name/itemprop, in document order."""
    values: dict[str, list[str]] = {}
    if tree is None:
        return values
    for meta in tree.iter("meta"):
        content = (meta.get("content") or "").strip()
        if not content:
            continue
        for attribute in ("property", "name", "itemprop"):
            key = (meta.get(attribute) or "").strip().lower()
            if key:
                values.setdefault(key, []).append(content)
    return values


def loose_itemprops(tree: lxml.html.HtmlElement | None, names: set[str]) -> dict[str, list[str]]:
    """itemprop values wherever they sit, including outside any itemscope (common in shop templates)."""
    found: dict[str, list[str]] = {}
    if tree is None:
        return found
    for element in tree.xpath("//*[@itemprop]"):
        name = (element.get("itemprop") or "").strip().lower()
        if name not in names:
            continue
        value = element.get("content") or element.get("value") or element.get("href")
        if value is None:
            value = element.text_content()
        value = " ".join(value.split())
        if value:
            found.setdefault(name, []).append(value)
    return found
