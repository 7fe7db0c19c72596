"""What a demo site hands the HTTP server: status, headers and a body (or a stream of chunks)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Iterable[bytes] | None = None  # streamed instead of body (large pages)
    declared_length: int | None = None  # Content-Length to announce when it differs from what is sent
    close_after: bool = False  # drop the connection after sending (a cut-off body)
    delay_s: float = 0.0  # sleep before answering (a slow server)
    cacheable: bool = True  # gets an ETag and Last-Modified, answers conditional requests with 304


def html(text: str, encoding: str = "utf-8", declare_charset: bool = True) -> Response:
    content_type = f"text/html; charset={encoding}" if declare_charset else "text/html"
    return Response(body=text.encode(encoding, errors="xmlcharrefreplace"), content_type=content_type)


def xml(text: str, content_type: str = "application/xml; charset=utf-8") -> Response:
    return Response(body=text.encode("utf-8"), content_type=content_type)


def json_body(value) -> Response:
    return Response(
        body=json.dumps(value, ensure_ascii=False).encode("utf-8"),
        content_type="application/json; charset=utf-8",
    )


def plain(text: str, status: int = 200) -> Response:
    return Response(status=status, body=text.encode("utf-8"), content_type="text/plain; charset=utf-8")


def redirect(location: str, status: int = 302) -> Response:
    return Response(status=status, body=b"", headers={"Location": location}, cacheable=False)


def not_found(path: str) -> Response:
    page = (
        "<!doctype html><html><head><title>Not found</title></head><body><h1>Not found</h1>"
        f"<p>{escape(path)}</p>"
    )
    return Response(status=404, body=(page + "</body></html>").encode("utf-8"), cacheable=False)
