"""Fault injection for the demo sites: the ways real servers misbehave, on demand.

Two ways in. Paths under /faults/ on every host:
    /faults/flaky/KEY?fails=2&status=503     fail N times per KEY, then succeed
    /faults/rate-limited/KEY?fails=1&retry_after=1
    /faults/slow?seconds=3                   answer only after a sleep (past a client timeout)
    /faults/truncated                        Content-Length larger than the body sent
    /faults/oversized?mb=6                   a page larger than the fetch size cap (streamed)
    /faults/redirect-loop/a                  a -> b -> a
    /faults/redirect-chain/N                 N redirects before the page
    /faults/redirect-to?url=URL              one redirect to any URL (SSRF checks on hops)
    /faults/error/STATUS                     always that status
    /faults/malformed-feed.xml               an RSS feed that is not well-formed XML
    /faults/entity-sitemap.xml               a sitemap with a DTD and entities (must be refused)
    /faults/non-utf8                         cp1252 bytes served as charset=utf-8
And a `faults` mapping given to DemoSites.start: {"/articles/3-x.html": "flaky:2:503"} or
{"news:/robots.txt": "error:503"}, with specs flaky:N:STATUS, rate-limited:N:SECONDS, slow:SECONDS,
truncated, oversized:MB, error:STATUS; flaky and rate-limited fall through to the real page.
"""

from __future__ import annotations

import threading
from collections import Counter

from core.sources.demo_web import responses
from core.sources.demo_web.responses import Response

_FILLER = b"<p>" + b"Oversized page filler text that keeps going and going. " * 18 + b"</p>\n"


class FaultState:
    """Request counters per fault key, shared by the server's threads."""

    def __init__(self):
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def hit(self, key: str) -> int:
        """Count one request for `key`; returns how many came before it."""
        with self._lock:
            self._counts[key] += 1
            return self._counts[key] - 1


def _ok_page(title: str) -> Response:
    return responses.html(
        f"<!DOCTYPE html><html><head><title>{title}</title></head>"
        f"<body><h1>{title}</h1><p>The server recovered and sent this page.</p></body></html>"
    )


def _number(text: str | None, default: float) -> float:
    try:
        return float(text) if text is not None else default
    except ValueError:
        return default


def failing(
    state: FaultState, key: str, fails: int, status: int, retry_after: float | None = None
) -> Response | None:
    """The failure response while `key` has failed fewer than `fails` times, then None."""
    if state.hit(key) >= fails:
        return None
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
    return Response(
        status=status,
        body=f"Temporary failure {status}".encode(),
        content_type="text/plain",
        headers=headers,
        cacheable=False,
    )


def slow(seconds: float) -> Response:
    response = _ok_page("Slow page")
    response.delay_s, response.cacheable = seconds, False
    return response


def truncated() -> Response:
    body = b"<!DOCTYPE html><html><body><h1>Cut short</h1><p>" + b"x" * 900
    return Response(body=body, declared_length=len(body) + 4000, close_after=True, cacheable=False)


def oversized(megabytes: float) -> Response:
    total_chunks = max(1, int(megabytes * 1024 * 1024 / len(_FILLER)))
    head = b"<!DOCTYPE html><html><body><h1>Huge page</h1>"
    chunks = (head if n == 0 else _FILLER for n in range(total_chunks + 1))
    return Response(chunks=chunks, declared_length=len(head) + total_chunks * len(_FILLER), cacheable=False)


def from_spec(spec: str, key: str, state: FaultState) -> Response | None:
    """The response a configured fault spec gives for this request; None to serve the page itself."""
    name, _, rest = spec.partition(":")
    args = rest.split(":") if rest else []
    if name == "flaky":
        return failing(
            state, key, int(_number(args[0] if args else None, 2)), int(_number(args[1:2] and args[1], 503))
        )
    if name == "rate-limited":
        return failing(
            state,
            key,
            int(_number(args[0] if args else None, 1)),
            429,
            retry_after=_number(args[1:2] and args[1], 1),
        )
    if name == "slow":
        return slow(_number(args[0] if args else None, 3))
    if name == "truncated":
        return truncated()
    if name == "oversized":
        return oversized(_number(args[0] if args else None, 6))
    if name == "error":
        status = int(_number(args[0] if args else None, 500))
        return Response(
            status=status, body=f"Error {status}".encode(), content_type="text/plain", cacheable=False
        )
    raise ValueError(f"unknown demo fault spec {spec!r}")


def fault_route(path: str, query: dict[str, str], state: FaultState, host_name: str) -> Response | None:
    """The response for a /faults/... path, or None when the path is not a fault."""
    parts = path.strip("/").split("/")
    kind, rest = parts[1] if len(parts) > 1 else "", parts[2:]
    key = f"{host_name}:{path}"
    if kind == "flaky":
        return failing(
            state, key, int(_number(query.get("fails"), 2)), int(_number(query.get("status"), 503))
        ) or _ok_page("Flaky page")
    if kind == "rate-limited":
        return failing(
            state,
            key,
            int(_number(query.get("fails"), 1)),
            429,
            retry_after=_number(query.get("retry_after"), 1),
        ) or _ok_page("Rate-limited page")
    if kind == "slow":
        return slow(_number(query.get("seconds"), 3))
    if kind == "truncated":
        return truncated()
    if kind == "oversized":
        return oversized(_number(query.get("mb"), 6))
    if kind == "redirect-loop":
        return responses.redirect("/faults/redirect-loop/" + ("b" if rest[:1] == ["a"] else "a"))
    if kind == "redirect-chain":
        remaining = int(_number(rest[0] if rest else None, 0))
        return (
            responses.redirect(f"/faults/redirect-chain/{remaining - 1}")
            if remaining > 0
            else _ok_page("End of the redirect chain")
        )
    if kind == "redirect-to" and query.get("url"):
        return responses.redirect(query["url"])
    if kind == "error" and rest:
        return from_spec(f"error:{rest[0]}", key, state)
    if kind == "malformed-feed.xml":
        return responses.xml(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Broken & unescaped'
            "<item><title>Only item</title><link>/faults/flaky/feed?fails=0</link></item>"
            "</channel>",
            "application/rss+xml",
        )
    if kind == "entity-sitemap.xml":
        return responses.xml(
            '<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            "<url><loc>&b;</loc></url></urlset>"
        )
    if kind == "non-utf8":
        text = "<html><body><h1>Café “Zürich” – Ausgabe €5</h1><p>Crème brûlée für 5 €.</p></body></html>"
        return Response(body=text.encode("cp1252"), content_type="text/html; charset=utf-8", cacheable=False)
    return None
