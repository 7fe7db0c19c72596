"""Polite HTTP fetching: robots.txt, per-host delays, retries, size caps, redirects, SSRF checks.

`PoliteFetcher(policy).fetch(url)` never raises for network trouble: every failure comes back
as `FetchResult.error`. Each attempt is cut hard at `timeout_s` and the whole fetch (redirects,
retries, backoff) at `policy.fetch_deadline_s`, headers included (see `deadline`).
One fetcher is shared by the threads of a crawl; it keeps a pooled
requests Session, the robots.txt cache, per-host throttles and the conditional-request cache.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from core.sources.deadline import ExchangeWatchdog, FetchDeadline
from core.sources.fetch_policy import REDIRECT_STATUSES, RETRYABLE_STATUSES, FetchPolicy, FetchResult
from core.sources.html_text import decode_html
from core.sources.netguard import GuardedAdapter, URLRefused, check_url
from core.sources.politeness import (
    ConditionalCache,
    FetchCancelled,
    HostThrottle,
    backoff_delay,
    parse_retry_after,
    pause,
)
from core.sources.robots import MAX_ROBOTS_BYTES, RobotsCache, origin_of

__all__ = ["FetchPolicy", "FetchResult", "PoliteFetcher", "fetch"]

_CHUNK = 64 * 1024
_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
_TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    urllib3.exceptions.HTTPError,
)


@dataclass
class _Answer:
    """One HTTP exchange: a response (status > 0) or the transient error that prevented one."""

    status: int = 0
    headers: dict[str, str] | None = None
    body: bytes = b""
    truncated: bool = False
    error: str | None = None
    transient: bool = False


class PoliteFetcher:
    def __init__(self, policy: FetchPolicy | None = None, conditional_cache: ConditionalCache | None = None):
        self.policy = policy or FetchPolicy()
        self.conditional = conditional_cache or ConditionalCache()
        self.throttle = HostThrottle(self.policy.per_host_concurrency)
        self.robots = RobotsCache(self._download_robots, self.policy.user_agent)
        self._slots = threading.BoundedSemaphore(self.policy.total_concurrency)
        self._cancelled = threading.Event()
        self._page_deadline = threading.local()  # the page a robots.txt download on this thread is for
        self._rng = random.Random()
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy or .netrc from the environment slips past the guard
        self.session.headers.update({"User-Agent": self.policy.user_agent, "Accept": _ACCEPT})
        adapter = GuardedAdapter(
            self.policy.allowed_endpoints,
            pool_connections=32,
            pool_maxsize=self.policy.total_concurrency,
            max_retries=0,
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def __enter__(self) -> PoliteFetcher:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    def cancel(self) -> None:
        """Make waiting and future fetches return at once with an error (a crawl was stopped)."""
        self._cancelled.set()

    # -- public ------------------------------------------------------------------------------
    def fetch(self, url: str, conditional: bool = True) -> FetchResult:
        """GET `url` following the policy. `conditional=False` skips If-None-Match/If-Modified-Since."""
        return self._fetch(
            url,
            conditional and self.policy.conditional_requests,
            check_robots=True,
            max_bytes=self.policy.max_page_bytes,
        )

    def host_delay(self, url: str) -> float:
        """Seconds between requests to this URL's host: the policy's, or robots' Crawl-delay if larger."""
        delay = self.policy.per_host_delay_s
        if self.policy.obey_robots:
            rules = self.robots.known().get(origin_of(url))
            robots_delay = rules.crawl_delay(self.policy.user_agent) if rules else None
            if robots_delay is not None:
                delay = max(delay, robots_delay)
        return delay

    # -- the fetch loop ----------------------------------------------------------------------
    def _fetch(self, url: str, conditional: bool, check_robots: bool, max_bytes: int) -> FetchResult:
        started = time.monotonic()
        result = FetchResult(url=url, final_url=url)
        try:
            if self._cancelled.is_set():
                raise FetchCancelled("cancelled")
            self._follow(url, result, conditional, check_robots, max_bytes)
        except FetchCancelled:
            result.error = "cancelled: the fetcher was stopped"
        except URLRefused as refused:
            result.error = f"refused: {refused}"
        except (requests.RequestException, ValueError) as error:  # e.g. an invalid URL requests rejects
            result.error = f"{type(error).__name__}: {error}"
        result.elapsed_s = round(time.monotonic() - started, 4)
        return result

    def _follow(
        self, url: str, result: FetchResult, conditional: bool, check_robots: bool, max_bytes: int
    ) -> None:
        current, chain = url, [url]
        deadline = FetchDeadline(self.policy.fetch_deadline_s, getattr(self._page_deadline, "current", None))
        for _hop in range(self.policy.max_redirects + 1):
            check_url(current, self.policy.allowed_endpoints)
            result.final_url = current
            # A slow robots.txt counts against the page that needed it: the fetch as a whole stays bounded.
            robots_allowed = True
            if check_robots:
                self._page_deadline.current = deadline
                try:
                    robots_allowed = self.robots.allowed(current)
                finally:
                    self._page_deadline.current = None
            if not robots_allowed:
                if self.policy.obey_robots:
                    result.from_robots_block = True
                    note = self.robots.rules_for(current).note
                    result.error = f"disallowed by robots.txt: {current} ({note})"
                    return
                result.robots_overridden = True
            headers = self.conditional.request_headers(current) if conditional else {}
            answer = self._with_retries(current, headers, result, max_bytes, deadline)
            if answer.status == 0:
                result.error = answer.error
                result.body, result.truncated = answer.body, answer.truncated
                return
            location = answer.headers.get("location") if answer.status in REDIRECT_STATUSES else None
            if not location:
                self._finish(result, current, answer, conditional)
                return
            target = urljoin(current, location.strip())
            if target in chain:
                result.status = answer.status
                result.error = "redirect loop: " + " -> ".join(chain + [target])
                return
            chain.append(target)
            result.redirects.append(target)
            current = target
        result.error = f"too many redirects (more than {self.policy.max_redirects}): " + " -> ".join(chain)

    def _finish(self, result: FetchResult, url: str, answer: _Answer, conditional: bool) -> None:
        result.status, result.headers = answer.status, answer.headers
        result.body, result.truncated = answer.body, answer.truncated
        result.content_type = answer.headers.get("content-type")
        result.not_modified = answer.status == 304
        if answer.error:  # the connection broke mid-body: keep what arrived, but say so
            result.error = answer.error
        elif conditional and 200 <= answer.status < 300 and not answer.truncated:
            self.conditional.remember(url, result.etag, result.last_modified)

    def _with_retries(
        self, url: str, headers: dict, result: FetchResult, max_bytes: int, deadline: FetchDeadline
    ) -> _Answer:
        host = urlsplit(url).hostname or ""
        for attempt in range(1, self.policy.retries + 2):
            result.attempts += 1
            asked = time.monotonic()
            with self.throttle.turn(host, self.host_delay(url), self._cancelled), self._slots:
                deadline.exclude(time.monotonic() - asked)  # queueing for a polite turn is not the server's time
                answer = self._exchange(url, headers, max_bytes, deadline)
            retryable = answer.transient or answer.status in RETRYABLE_STATUSES
            if not retryable or attempt > self.policy.retries or deadline.remaining() <= 0:
                return answer
            retry_after = parse_retry_after((answer.headers or {}).get("retry-after"))
            if retry_after is not None and retry_after > self.policy.max_retry_after_s:
                answer.error = (
                    f"HTTP {answer.status}: server asked to retry after {retry_after:.0f}s, "
                    f"more than max_retry_after_s={self.policy.max_retry_after_s:.0f}"
                )
                return answer
            if retry_after is not None:
                self.throttle.push_back(host, retry_after)  # every thread waits, not only this one
                pause(retry_after, self._cancelled)
                deadline.exclude(retry_after)  # the server asked for it, bounded by max_retry_after_s
            else:
                backoff = backoff_delay(
                    attempt, self.policy.backoff_base_s, self.policy.backoff_max_s, self._rng
                )
                if backoff >= deadline.remaining():
                    return answer  # no time left for another attempt after the pause
                pause(backoff, self._cancelled)
        raise AssertionError("unreachable: the loop returns on its last attempt")

    def _exchange(self, url: str, headers: dict, max_bytes: int, deadline: FetchDeadline) -> _Answer:
        limit = min(self.policy.timeout_s, deadline.remaining())
        if limit <= 0:
            stage = "before the request was sent (robots.txt, redirects or retries used the time)"
            return _Answer(error=self._timeout_message(limit, stage), transient=True)
        # The socket timeouts bound connect and each read; the watchdog bounds the exchange as a whole.
        with ExchangeWatchdog(limit) as watchdog:
            try:
                response = self.session.get(
                    url, headers=headers, stream=True, allow_redirects=False, timeout=(limit, limit)
                )
            except _TRANSIENT_ERRORS as error:
                if watchdog.fired or isinstance(error, requests.Timeout):
                    return _Answer(error=self._timeout_message(limit, "waiting for the response headers"),
                                   transient=True)
                return _Answer(error=f"connection error: {_short(error)}", transient=True)
            with response:
                if watchdog.fired:  # the cut socket read as the end of the headers: they are incomplete
                    return _Answer(error=self._timeout_message(limit, "waiting for the response headers"),
                                   transient=True)
                headers = {name.lower(): value for name, value in response.headers.items()}
                answer = _Answer(status=response.status_code, headers=headers)
                if response.status_code in REDIRECT_STATUSES or response.status_code == 304:
                    return answer
                self._read_body(response, answer, max_bytes, watchdog)
        return answer

    def _timeout_message(self, limit: float, stage: str) -> str:
        whole = self.policy.fetch_deadline_s
        scope = f"the {whole:g}s deadline of this fetch" if limit < self.policy.timeout_s else (
            f"the {self.policy.timeout_s:g}s timeout")
        return f"timed out {stage}: no complete answer within {scope}"

    def _read_body(
        self, response: requests.Response, answer: _Answer, max_bytes: int, watchdog: ExchangeWatchdog
    ) -> None:
        body = bytearray()
        try:
            # read1 hands over whatever arrived, so the part before a dropped connection is kept.
            while chunk := response.raw.read1(_CHUNK, decode_content=True):
                body += chunk
                if len(body) > max_bytes:
                    del body[max_bytes:]
                    answer.truncated = True  # capped: stop reading, the rest never enters memory
                    break
            if watchdog.fired and not answer.truncated:  # the cut socket read as an early end of body
                raise requests.Timeout("deadline")
        except _TRANSIENT_ERRORS as error:
            if watchdog.fired or isinstance(error, requests.Timeout):
                answer.error = self._timeout_message(watchdog.seconds, "reading the body")
                answer.truncated = answer.transient = True
                answer.body = bytes(body)
                return
            declared = answer.headers.get("content-length")
            expected = f" of {declared} declared" if declared else ""
            answer.error = (
                f"incomplete body: connection closed after {len(body)} bytes{expected} ({_short(error)})"
            )
            answer.truncated = answer.transient = True
        answer.body = bytes(body)

    def _download_robots(self, robots_url: str) -> tuple[int | None, bytes, str | None]:
        result = self._fetch(robots_url, conditional=False, check_robots=False, max_bytes=MAX_ROBOTS_BYTES)
        if result.error and not result.status:
            return None, b"", result.error
        return result.status, result.body, None


def _short(error: Exception) -> str:
    text = str(error)
    return text if len(text) < 200 else text[:200] + "..."


class PageFetchError(ValueError):
    """One page could not be fetched; the message says why in words a user can act on."""


def fetch_page_html(
    url: str, *, allowed_endpoints: frozenset[tuple[str, int]] = frozenset(), retries: int | None = None
) -> tuple[str, str]:
    """(decoded HTML, final URL) of one page, fetched politely (robots.txt, size and time limits) without a
    per-host delay; raises PageFetchError when the page cannot be had. Private hosts pass only when on
    `allowed_endpoints` (the workbench allow-list) or run by this process (the demo sites)."""
    overrides = {} if retries is None else {"retries": retries}
    result = fetch(url, FetchPolicy(allowed_endpoints=allowed_endpoints, per_host_delay_s=0, **overrides))
    if result.error:
        raise PageFetchError(result.error)
    if result.status >= 400:
        raise PageFetchError(f"The page answered HTTP {result.status}.")
    return decode_html(result.body, result.content_type), result.final_url


def fetch(url: str, policy: FetchPolicy | None = None) -> FetchResult:
    """Fetch one URL with a throwaway fetcher; use PoliteFetcher to share robots and delays across URLs."""
    with PoliteFetcher(policy) as fetcher:
        return fetcher.fetch(url)
