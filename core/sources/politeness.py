"""The pieces of polite fetching that hold state across requests.

`HostThrottle` spaces requests to one host and caps how many run at once; `ConditionalCache`
remembers validators (ETag, Last-Modified) so an unchanged page costs a 304; the backoff and
Retry-After helpers decide how long to wait before trying again.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


class FetchCancelled(Exception):
    """The fetcher was cancelled while waiting for its turn or for a retry."""


def pause(seconds: float, cancelled: threading.Event) -> None:
    """Sleep, unless the fetcher is cancelled first (then raise FetchCancelled)."""
    if cancelled.wait(max(0.0, seconds)) or cancelled.is_set():
        raise FetchCancelled("cancelled while waiting")


class HostThrottle:
    """Per-host concurrency slots plus a next-allowed time, so delays hold across threads."""

    def __init__(self, per_host_concurrency: int):
        self._per_host = max(1, per_host_concurrency)
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._next_allowed: dict[str, float] = {}

    def _slot(self, host: str) -> threading.BoundedSemaphore:
        with self._lock:
            slot = self._slots.get(host)
            if slot is None:
                slot = self._slots[host] = threading.BoundedSemaphore(self._per_host)
            return slot

    @contextlib.contextmanager
    def turn(self, host: str, delay_s: float, cancelled: threading.Event) -> Iterator[None]:
        """Hold one of the host's slots, starting no sooner than `delay_s` after the previous start."""
        slot = self._slot(host)
        with slot:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_allowed.get(host, 0.0))
                self._next_allowed[host] = start + max(0.0, delay_s)
            if start > now:
                pause(start - now, cancelled)
            yield

    def push_back(self, host: str, wait_s: float) -> None:
        """Keep every thread off a host for `wait_s` (it answered 429/503 with Retry-After)."""
        with self._lock:
            until = time.monotonic() + max(0.0, wait_s)
            self._next_allowed[host] = max(self._next_allowed.get(host, 0.0), until)


def backoff_delay(attempt: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: base * 2^(attempt-1), scaled by a random 0.5..1.5."""
    exponential = min(max_s, base_s * (2 ** max(0, attempt - 1)))
    return exponential * (0.5 + rng.random())


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class ConditionalCache:
    """ETag / Last-Modified per URL, kept in a plain dict the caller can persist (e.g. as JSON).

    Layout: {url: {"etag": str | None, "last_modified": str | None}}. The dict passed in is
    updated in place, so the caller's copy is current when a crawl ends.
    """

    def __init__(self, store: MutableMapping[str, dict] | None = None):
        self.store: MutableMapping[str, dict] = store if store is not None else {}
        self._lock = threading.Lock()

    def request_headers(self, url: str) -> dict[str, str]:
        with self._lock:
            entry = self.store.get(url)
        if not isinstance(entry, dict):
            return {}
        headers = {}
        if entry.get("etag"):
            headers["If-None-Match"] = str(entry["etag"])
        if entry.get("last_modified"):
            headers["If-Modified-Since"] = str(entry["last_modified"])
        return headers

    def remember(self, url: str, etag: str | None, last_modified: str | None) -> None:
        with self._lock:
            if etag or last_modified:
                self.store[url] = {"etag": etag, "last_modified": last_modified}
            else:
                self.store.pop(url, None)  # the page stopped sending validators: do not send stale ones

    def as_dict(self) -> dict[str, dict]:
        with self._lock:
            return {url: dict(entry) for url, entry in self.store.items()}
