"""Turning fetched HTML bytes into text without ever failing on what a server actually sent.

Order of evidence: a byte-order mark; the bytes themselves when they are valid UTF-8 (legacy text
with non-ASCII bytes is practically never valid UTF-8, while servers often declare the wrong
charset); the HTTP charset, then the <meta>/XML declaration, when the bytes decode cleanly with
it; UTF-8 again when only a few bytes are broken (a truncated download); statistical detection
(charset-normalizer); and windows-1252 as the last resort. Undecodable bytes become U+FFFD.
"""
from __future__ import annotations

import codecs
import gzip
import re
import zlib
from pathlib import Path

import charset_normalizer

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Browsers treat these labels as their superset encodings (WHATWG Encoding Standard); decoding with
# the narrower codec would turn real characters such as curly quotes or extra kanji into errors.
_SUPERSET_ENCODINGS = {
    "ascii": "cp1252", "latin_1": "cp1252", "iso8859_1": "cp1252", "iso8859_9": "cp1254",
    "shift_jis": "cp932", "euc_kr": "cp949", "gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs",
    "iso8859_11": "cp874", "tis_620": "cp874",
}
_WEB_POPULARITY = ("utf_8", "cp1252", "cp1251", "gb18030", "cp932", "cp949", "big5hkscs", "cp1250", "cp1256")
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.IGNORECASE)
_PRESCAN_BYTES = 4096
# A UTF-8 page cut mid-character or with a stray byte is still UTF-8; a legacy page read as UTF-8
# gives an error for most of its non-ASCII characters and hardly ever a valid multi-byte sequence.
_MAX_UTF8_ERROR_SHARE = 0.05
_REPLACEMENT = "\ufffd"
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_NEVER_DECLARED = ("utf_16", "utf_32", "utf_7")
_GUNZIP_SLICE = 8192


def _normalise_encoding(label: str | None) -> str | None:
    """Python codec name for a charset label, or None when the label is unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    name = name.replace("-", "_")
    return _SUPERSET_ENCODINGS.get(name, name)


def _declared_encodings(body: bytes, content_type: str | None) -> list[str]:
    labels = []
    if content_type:
        match = _HTTP_CHARSET.search(content_type)
        if match:
            labels.append(match.group(1))
    head = body[:_PRESCAN_BYTES]
    for pattern in (_XML_ENCODING, _META_CHARSET):
        match = pattern.search(head)
        if match:
            labels.append(match.group(1).decode("ascii", "replace"))
    encodings = []
    for label in labels:
        encoding = _normalise_encoding(label)
        # A page declaring UTF-16/32 in ASCII-compatible bytes is lying about itself; UTF-7 is unsafe.
        if encoding and not encoding.startswith(_NEVER_DECLARED) and encoding not in encodings:
            encodings.append(encoding)
    return encodings


def _looks_like_damaged_utf8(body: bytes) -> bool:
    text = body.decode("utf-8", errors="replace")
    errors = text.count(_REPLACEMENT) - body.count(_REPLACEMENT.encode("utf-8"))
    valid_non_ascii = len(_NON_ASCII.findall(text)) - text.count(_REPLACEMENT)
    return valid_non_ascii > 0 and errors <= max(1.0, _MAX_UTF8_ERROR_SHARE * valid_non_ascii)


def _detected_encoding(body: bytes) -> str | None:
    """Most plausible encoding; among equally plausible ones, the one most used on the web.

    Short Western text scores the same in windows-1250, -1252 and -1257, and the detector's own
    order between them is arbitrary, while windows-1252 is by far the most common legacy charset.
    """
    matches = list(charset_normalizer.from_bytes(body))
    if not matches:
        return None
    best = matches[0]
    tied = {
        _normalise_encoding(match.encoding)
        for match in matches
        if match.chaos == best.chaos and match.coherence == best.coherence
    }
    preferred = next((encoding for encoding in _WEB_POPULARITY if encoding in tied), None)
    return preferred or _normalise_encoding(best.encoding)


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode an HTML response body to text; never raises on bad bytes (they become U+FFFD)."""
    if isinstance(body, str):
        return body
    if not body:
        return ""
    body = bytes(body)  # bytearray/memoryview from streaming clients
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(encoding, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _declared_encodings(body, content_type)
    for encoding in declared:
        if encoding == "utf_8":
            continue  # the strict UTF-8 attempt above already failed
        try:
            return body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    if _looks_like_damaged_utf8(body):
        return body.decode("utf-8", errors="replace")
    try:
        return body.decode(_detected_encoding(body) or "cp1252", errors="replace")
    except (LookupError, UnicodeError):  # a detector answer Python cannot decode with
        return body.decode("cp1252", errors="replace")


def as_html_text(html: str | bytes | None) -> str:
    """The page as text whether it arrives decoded, as raw bytes, or missing."""
    if html is None:
        return ""
    if isinstance(html, bytes | bytearray | memoryview):
        return decode_html(bytes(html))
    if not isinstance(html, str):
        raise TypeError(f"expected HTML as str or bytes, got {type(html).__name__}")
    return html


def _gunzip_what_is_readable(data: bytes) -> bytes:
    """Decompress gzip data, keeping whatever precedes a truncation or corruption."""
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        pass
    # Feed slices to a raw decompressor so the output produced before the damage survives.
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    recovered = bytearray()
    for start in range(0, len(data), _GUNZIP_SLICE):
        try:
            recovered += decompressor.decompress(data[start:start + _GUNZIP_SLICE])
        except zlib.error:
            break
    return bytes(recovered)


def read_html_file(path: str | Path) -> str:
    """Read a saved page (.html, .htm or .html.gz; gzip is recognised by its magic bytes) as text."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"HTML file not found: {path}")
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = _gunzip_what_is_readable(data)
    return decode_html(data)
