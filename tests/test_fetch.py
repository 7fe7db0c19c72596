"""Polite fetching against real local servers: SSRF guard, robots, retries, caps, redirects, 304s."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from core.sources import netguard
from core.sources.demo_web import DemoSites
from core.sources.fetch import FetchPolicy, PageFetchError, PoliteFetcher, fetch, fetch_page_html
from core.sources.netguard import URLRefused, check_peer, check_url, parse_ip_literal
from core.sources.politeness import ConditionalCache, backoff_delay, parse_retry_after
from core.sources.robots import rules_from_response


@pytest.fixture(scope="module")
def sites():
    with DemoSites.start(seed=3, scale=0.2) as running:
        yield running


def quick_policy(**overrides) -> FetchPolicy:
    """Fast retries and short timeouts; the running demo sites' own host:port pairs are the only private
    addresses allowed (they register them at start-up)."""
    values = dict(per_host_delay_s=0, retries=2, backoff_base_s=0.01, backoff_max_s=0.05, timeout_s=2, deadline_s=6)
    return FetchPolicy(**{**values, **overrides})


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# -- SSRF guard ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://10.1.2.3/admin", "private"),
        ("http://192.168.0.10/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]:8080/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://0x7f000001/", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://0177.0.0.1/", "loopback"),
        ("http://127.1/", "loopback"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.251/", "multicast"),
        ("http://localhost:8501/", "loopback"),
        ("http://api.localhost/", "loopback"),
        ("file:///etc/passwd", "scheme 'file'"),
        ("gopher://example.com/", "scheme 'gopher'"),
        ("http://user:pass@example.com/", "credentials"),
        ("http://:80/", "no host"),
        ("http://example.com:99999/", "Port out of range"),
    ],
)
def test_ssrf_guard_refuses_with_a_clear_reason(url, reason):
    with pytest.raises(URLRefused, match=reason):
        check_url(url)


def test_inet_aton_spellings_decode_to_the_address_sockets_would_use():
    assert str(parse_ip_literal("2130706433")) == "127.0.0.1"
    assert str(parse_ip_literal("0x7f000001")) == "127.0.0.1"
    assert str(parse_ip_literal("0x7f.1")) == "127.0.0.1"
    assert str(parse_ip_literal("[::ffff:169.254.169.254]")) == "::ffff:a9fe:a9fe"
    assert parse_ip_literal("example.com") is None
    assert parse_ip_literal("256.1.1.1") is None


def test_public_addresses_and_allowed_hosts_pass():
    check_url("http://93.184.216.34/page")  # a literal public address: no DNS, no connection
    check_url("http://127.0.0.2:8000/", allowed_endpoints=frozenset({("127.0.0.2", 8000)}))
    check_url("http://10.0.0.5/", allowed_endpoints=frozenset({("10.0.0.5", 80)}))  # the default port counts
    with pytest.raises(URLRefused):
        check_url("http://127.0.0.3:8000/", allowed_endpoints=frozenset({("127.0.0.2", 8000)}))
    with pytest.raises(URLRefused):
        check_url("http://127.0.0.2:8001/", allowed_endpoints=frozenset({("127.0.0.2", 8000)}))


def test_refused_url_is_an_error_value_and_never_reaches_the_server(sites):
    before = len(sites.requests("news"))
    port = sites.news_url.rsplit(":", 1)[1]
    # The demo site allows 127.0.0.1:port only; "localhost" on the same port is not that pair.
    result = fetch(f"http://localhost:{port}/rss.xml", FetchPolicy(per_host_delay_s=0))
    assert result.error and "loopback" in result.error and result.status == 0
    assert len(sites.requests("news")) == before


def test_redirect_hops_are_checked_by_the_guard(sites):
    target = "http://169.254.169.254/latest/meta-data/"
    with PoliteFetcher(quick_policy()) as fetcher:
        result = fetcher.fetch(f"{sites.news_url}/faults/redirect-to?url={target}")
    assert result.error.startswith("refused:") and "link-local" in result.error
    assert result.redirects == [target]


def test_connected_peer_is_rechecked_against_dns_rebinding(sites, monkeypatch):
    # The name check passes (as if DNS answered with a public address), the socket lands on loopback.
    monkeypatch.setattr(netguard, "check_host", lambda host, port: None)
    port = sites.news_url.rsplit(":", 1)[1]
    with PoliteFetcher(FetchPolicy(per_host_delay_s=0, retries=0, obey_robots=False)) as fetcher:
        result = fetcher.fetch(f"http://localhost:{port}/")
    assert result.error and "connected to 127.0.0.1" in result.error
    with pytest.raises(URLRefused, match="DNS rebinding"):
        check_peer("evil.example", 80, "10.0.0.7", allowed_endpoints=frozenset())


def test_fetch_never_raises_on_network_problems():
    with PoliteFetcher(quick_policy(retries=1, allowed_endpoints={("127.0.0.1", 9)})) as fetcher:
        closed_port = fetcher.fetch("http://127.0.0.1:9/")  # discard port: nothing listens
        garbage = fetcher.fetch("http://")
    assert closed_port.error and "connection error" in closed_port.error and closed_port.attempts == 2
    assert garbage.error and garbage.status == 0


# -- robots.txt ---------------------------------------------------------------------------------
def test_robots_disallow_is_obeyed_and_the_page_never_requested(sites):
    with PoliteFetcher(quick_policy()) as fetcher:
        result = fetcher.fetch(f"{sites.news_url}/private/drafts/1.html")
    assert result.from_robots_block and "robots.txt" in result.error
    assert not any(r.path.startswith("/private/") for r in sites.requests("news"))


def test_ignoring_robots_is_recorded_on_the_result(sites):
    with PoliteFetcher(quick_policy(obey_robots=False)) as fetcher:
        result = fetcher.fetch(f"{sites.marketplace_url}/private/promoted/1.html")
    assert result.status == 200 and result.robots_overridden and not result.from_robots_block


def test_robots_crawl_delay_overrides_a_smaller_policy_delay(sites):
    with PoliteFetcher(quick_policy(user_agent="OtherBot/2.0")) as fetcher:
        fetcher.fetch(f"{sites.property_url}/search")
        assert fetcher.host_delay(sites.property_url + "/x") == 2.0  # "User-agent: *" asks for 2 s
    with PoliteFetcher(quick_policy(per_host_delay_s=0.3)) as fetcher:
        fetcher.fetch(f"{sites.property_url}/search")
        assert fetcher.host_delay(sites.property_url + "/x") == 0.3  # robots' 0 does not lower ours


def test_robots_fetched_once_per_host_for_concurrent_requests(sites):
    with PoliteFetcher(quick_policy(per_host_concurrency=4)) as fetcher:
        threads = [
            threading.Thread(target=fetcher.fetch, args=(f"{sites.property_url}/property/{n}.html",))
            for n in range(1, 7)
        ]
        before = sum(r.path == "/robots.txt" for r in sites.requests("property"))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sum(r.path == "/robots.txt" for r in sites.requests("property")) == before + 1


def test_robots_answers_decide_as_google_does():
    assert rules_from_response("http://a", 404, b"", None).allowed("http://a/x", "Bot")
    assert rules_from_response("http://a", None, b"", "timed out").allowed("http://a/x", "Bot")
    assert not rules_from_response("http://a", 503, b"", None).allowed("http://a/x", "Bot")
    rules = rules_from_response("http://a", 200, b"User-agent: *\nDisallow: /no/\n", None)
    assert rules.allowed("http://a/yes", "Bot") and not rules.allowed("http://a/no/1", "Bot")


def test_robots_server_error_disallows_and_client_error_allows():
    faults = {"news:/robots.txt": "error:503", "marketplace:/robots.txt": "error:404"}
    policy = quick_policy(retries=0)
    with DemoSites.start(seed=1, scale=0.1, faults=faults) as faulty, PoliteFetcher(policy) as f:
        blocked = f.fetch(faulty.news_url + "/")
        allowed = f.fetch(faulty.marketplace_url + "/private/promoted/1.html")
    assert blocked.from_robots_block and "503" in blocked.error
    assert allowed.status == 200 and not allowed.from_robots_block


# -- politeness ---------------------------------------------------------------------------------
def test_per_host_delay_spaces_requests_across_threads(sites):
    key = unique("delay")
    with PoliteFetcher(quick_policy(per_host_delay_s=0.25, per_host_concurrency=4)) as fetcher:
        fetcher.fetch(f"{sites.news_url}/")  # robots.txt first, so only page requests are timed below
        threads = [
            threading.Thread(target=fetcher.fetch, args=(f"{sites.news_url}/faults/flaky/{key}{n}?fails=0",))
            for n in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    arrivals = sorted(r.at for r in sites.requests("news") if key in r.path)
    assert len(arrivals) == 4
    # Arrival times at the server carry scheduling jitter (a loaded machine delays one request's arrival, so
    # the next gap looks shorter); the span of four requests does not accumulate it. Without spacing, all four
    # would arrive within a few milliseconds.
    assert min(b - a for a, b in zip(arrivals, arrivals[1:], strict=False)) >= 0.15
    assert arrivals[-1] - arrivals[0] >= 3 * 0.25 - 0.1


def test_per_host_concurrency_caps_parallel_requests(sites):
    with PoliteFetcher(quick_policy(per_host_concurrency=2)) as fetcher:
        fetcher.fetch(f"{sites.marketplace_url}/")
        started = time.monotonic()
        threads = [
            threading.Thread(
                target=fetcher.fetch, args=(f"{sites.marketplace_url}/faults/slow?seconds=0.3&n={n}",)
            )
            for n in range(6)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert time.monotonic() - started >= 0.85  # 6 requests, 2 at a time, 0.3 s each


# -- retries, timeouts, caps ---------------------------------------------------------------------
def test_retries_on_server_errors_then_succeeds(sites):
    with PoliteFetcher(quick_policy(retries=3)) as fetcher:
        result = fetcher.fetch(f"{sites.news_url}/faults/flaky/{unique('flaky')}?fails=2&status=503")
    assert result.ok and result.attempts == 3


def test_gives_up_after_the_configured_retries(sites):
    with PoliteFetcher(quick_policy(retries=1)) as fetcher:
        result = fetcher.fetch(f"{sites.news_url}/faults/flaky/{unique('flaky')}?fails=5&status=500")
    assert result.status == 500 and result.attempts == 2 and result.problem == "HTTP 500 after 2 attempts"


def test_retry_after_is_honoured_on_429(sites):
    with PoliteFetcher(quick_policy()) as fetcher:
        started = time.monotonic()
        result = fetcher.fetch(f"{sites.news_url}/faults/rate-limited/{unique('rl')}?fails=1&retry_after=1")
        waited = time.monotonic() - started
    assert result.ok and result.attempts == 2 and waited >= 0.95


def test_retry_after_beyond_the_limit_is_reported_not_slept(sites):
    with PoliteFetcher(quick_policy(max_retry_after_s=5)) as fetcher:
        result = fetcher.fetch(
            f"{sites.news_url}/faults/rate-limited/{unique('rl')}?fails=3&retry_after=3600"
        )
    assert result.status == 429 and result.attempts == 1 and "3600" in result.error


def test_slow_response_times_out_and_is_retried(sites):
    with PoliteFetcher(quick_policy(timeout_s=0.4, retries=1)) as fetcher:
        result = fetcher.fetch(f"{sites.property_url}/faults/slow?seconds=1.5")
    assert result.error and "timed out" in result.error and result.attempts == 2 and result.status == 0


def test_body_shorter_than_content_length_is_an_incomplete_page(sites):
    with PoliteFetcher(quick_policy(retries=0)) as fetcher:
        result = fetcher.fetch(f"{sites.news_url}/faults/truncated")
    assert result.truncated and "incomplete body" in result.error and 0 < len(result.body) < 5000


def test_oversized_page_is_streamed_and_cut_at_the_cap(sites):
    cap = 256 * 1024
    with PoliteFetcher(quick_policy(max_page_bytes=cap)) as fetcher:
        result = fetcher.fetch(f"{sites.news_url}/faults/oversized?mb=6")
    assert result.status == 200 and result.truncated and result.error is None and len(result.body) == cap


def test_redirect_loop_is_detected(sites):
    with PoliteFetcher(quick_policy()) as fetcher:
        result = fetcher.fetch(f"{sites.news_url}/faults/redirect-loop/a")
    assert result.error.startswith("redirect loop:") and result.error.count("->") == 2


def test_redirect_limit(sites):
    with PoliteFetcher(quick_policy(max_redirects=5)) as fetcher:
        followed = fetcher.fetch(f"{sites.news_url}/faults/redirect-chain/3")
        too_many = fetcher.fetch(f"{sites.news_url}/faults/redirect-chain/7")
    assert (
        followed.ok
        and followed.final_url.endswith("/faults/redirect-chain/0")
        and len(followed.redirects) == 3
    )
    assert too_many.error.startswith("too many redirects")


# -- conditional requests -----------------------------------------------------------------------
def test_second_fetch_is_conditional_and_unchanged(sites):
    store: dict = {}
    url = f"{sites.news_url}/rss.xml"
    with PoliteFetcher(quick_policy(), ConditionalCache(store)) as fetcher:
        first = fetcher.fetch(url)
        second = fetcher.fetch(url)
        unconditional = fetcher.fetch(url, conditional=False)
    assert first.status == 200 and first.etag and store[url]["etag"] == first.etag
    assert second.status == 304 and second.not_modified and second.body == b"" and second.problem is None
    assert unconditional.status == 200
    conditional_flags = [r.conditional for r in sites.requests("news") if r.path == "/rss.xml"][-3:]
    assert conditional_flags == [False, True, False]


def test_conditional_cache_round_trips_as_a_plain_dict():
    cache = ConditionalCache()
    cache.remember("http://a/1", '"x"', "Sat, 01 Jun 2024 08:00:00 GMT")
    restored = ConditionalCache(dict(cache.as_dict()))
    assert restored.request_headers("http://a/1") == {
        "If-None-Match": '"x"',
        "If-Modified-Since": "Sat, 01 Jun 2024 08:00:00 GMT",
    }
    cache.remember("http://a/1", None, None)
    assert cache.request_headers("http://a/1") == {}


# -- pure helpers -------------------------------------------------------------------------------
def test_backoff_grows_exponentially_with_jitter_and_a_ceiling():
    import random

    rng = random.Random(1)
    delays = [backoff_delay(attempt, 1.0, 8.0, rng) for attempt in (1, 2, 3, 4, 5)]
    assert 0.5 <= delays[0] <= 1.5 and 2.0 <= delays[2] <= 6.0 and delays[4] <= 12.0


def test_retry_after_parsing():
    from datetime import UTC, datetime

    now = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Sat, 01 Jun 2024 08:00:30 GMT", now) == 30.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_policy_rejects_nonsense_values_naming_each():
    with pytest.raises(ValueError, match="timeout_s.*retries|retries.*timeout_s"):
        FetchPolicy(timeout_s=0, retries=-1)


# -- one page for the CLI and the recipe tester -------------------------------------------------------
def test_fetch_page_html_returns_decoded_html_and_the_final_url(sites):
    html, final_url = fetch_page_html(f"{sites.news_url}/")  # the running demo site allows its own port
    assert "<html" in html.lower() and final_url.startswith(sites.news_url)


def test_fetch_page_html_says_why_a_page_cannot_be_had(sites):
    with pytest.raises(PageFetchError, match="HTTP 404"):
        fetch_page_html(f"{sites.news_url}/no-such-page-{unique('missing')}")
    port = int(sites.news_url.rsplit(":", 1)[1])
    with pytest.raises(PageFetchError, match="loopback"):
        fetch_page_html(f"http://127.0.0.1:{port + 1}/")  # another port on the same host is not allowed
