"""robots.txt rules per origin, fetched once and cached, parsed with protego.

Failure handling follows Google's documented behaviour: an unreachable robots.txt or a 4xx
answer means no rules (allow), a 5xx answer means the site is in trouble (disallow for now).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

# Google reads the first 500 KiB of a robots.txt and ignores the rest.
MAX_ROBOTS_BYTES = 500 * 1024

# (status or None, body, error or None) for the robots.txt URL given.
RobotsDownloader = Callable[[str], tuple[int | None, bytes, str | None]]


@dataclass(frozen=True)
class RobotsRules:
    origin: str
    status: int | None
    note: str  # how the rules were decided, shown when a page is skipped
    parser: Protego | None = None
    disallow_all: bool = False

    def allowed(self, url: str, user_agent: str) -> bool:
        if self.disallow_all:
            return False
        return True if self.parser is None else bool(self.parser.can_fetch(url, user_agent))

    def crawl_delay(self, user_agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(user_agent)
        return None if delay is None else float(delay)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def rules_from_response(origin: str, status: int | None, body: bytes, error: str | None) -> RobotsRules:
    if error is not None or status is None:
        return RobotsRules(origin, status, f"robots.txt unreachable ({error}): all allowed")
    if 200 <= status < 300:
        text = body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
        try:
            parser = Protego.parse(text)
        except Exception as error:  # an unparseable file states no rules we could follow
            return RobotsRules(origin, status, f"robots.txt unparseable ({error}): all allowed")
        return RobotsRules(origin, status, "robots.txt rules", parser=parser)
    if 400 <= status < 500:
        return RobotsRules(origin, status, f"robots.txt answered {status}: all allowed")
    if status >= 500:
        return RobotsRules(
            origin,
            status,
            f"robots.txt answered {status}: all disallowed until it recovers",
            disallow_all=True,
        )
    return RobotsRules(origin, status, f"robots.txt answered {status}: all allowed")


class RobotsCache:
    """Rules per origin; concurrent callers for a new origin wait for one download."""

    def __init__(self, download: RobotsDownloader, user_agent: str):
        self._download = download
        self.user_agent = user_agent
        self._rules: dict[str, RobotsRules] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def rules_for(self, url: str) -> RobotsRules:
        origin = origin_of(url)
        rules = self._rules.get(origin)
        if rules is not None:
            return rules
        with self._guard:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock:
            rules = self._rules.get(origin)
            if rules is None:
                status, body, error = self._download(origin + "/robots.txt")
                rules = self._rules[origin] = rules_from_response(origin, status, body, error)
        return rules

    def allowed(self, url: str) -> bool:
        return self.rules_for(url).allowed(url, self.user_agent)

    def crawl_delay(self, url: str) -> float | None:
        return self.rules_for(url).crawl_delay(self.user_agent)

    def known(self) -> dict[str, RobotsRules]:
        return dict(self._rules)
