"""Issue 11, "SSRF that users can switch off": one allow-list of exact host:port pairs, set only by
settings or an admin, and a deadline that bounds a whole fetch, headers included.

Every server here is real and listens on 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from principals import as_admin, as_buyer, as_supplier

from core import audit
from core.auth import PermissionDenied
from core.cli import main as cli_main
from core.config import SettingsError, load_settings, reset_settings_cache
from core.sources import allowlist_admin, jobs
from core.sources.allowlist import AllowListError, parse_endpoint
from core.sources.crawl import CrawlConfigError, crawl_source
from core.sources.fetch import FetchPolicy, PoliteFetcher
from core.sources.netguard import URLRefused, check_peer, check_url
from core.sources.registry import SourceError, save_source

ROOT = Path(__file__).resolve().parent.parent
SECRET = b"internal-only: db password hunter2"


class _SecretHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the name http.server dispatches to
        self.server.paths.append(self.path)
        body = b"User-agent: *\nAllow: /\n" if self.path == "/robots.txt" else SECRET
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - signature of the overridden method
        pass


@pytest.fixture
def secret_server():
    """An internal service on loopback that nothing may reach unless its exact port is allowed."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SecretHandler)
    server.paths = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def secret_url(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/secret"


def quick(policy: FetchPolicy) -> FetchPolicy:
    return dataclasses.replace(policy, per_host_delay_s=0, retries=0, timeout_s=2)


@pytest.fixture
def demo_policy(workbench):
    """The policy a scrape of the demo sources gets, exactly as the scrape job builds it."""
    sites = jobs.demo_sites()
    # The demo supplier, as on the Sources page: the first to register the demo sources owns them.
    names = jobs.register_demo_sources(as_supplier())
    source = next(s for s in (jobs.get_source(as_supplier(), n) for n in names) if s["app"] == "news")
    return sites, quick(jobs.fetch_policy(source))


@pytest.fixture
def settings_allowlist(monkeypatch):
    """Set NETWORK_ALLOWLIST for one test, as an operator would in the environment."""

    def apply(value: str) -> None:
        monkeypatch.setenv("NETWORK_ALLOWLIST", value)
        reset_settings_cache()

    yield apply
    monkeypatch.delenv("NETWORK_ALLOWLIST", raising=False)
    reset_settings_cache()


# -- user config never widens network policy ---------------------------------------------------------
def test_allow_private_in_a_source_config_is_refused_on_save(workbench, secret_server):
    with pytest.raises(SourceError, match="allow_private cannot be set"):
        save_source(as_supplier(), "sneaky-secret", "news", "url_list",
                    {"urls": [secret_url(secret_server)], "allow_private": True})
    assert secret_server.paths == []


def test_allow_private_in_a_crawl_config_does_not_reach_a_loopback_secret(secret_server):
    config = {"source_id": "sneaky", "app": "news", "kind": "url_list", "urls": [secret_url(secret_server)]}
    stored = []
    for key in ("allow_private", "allowed_hosts", "allowed_endpoints", "Allow_Private"):
        with pytest.raises(CrawlConfigError, match="cannot be set in a source config"):
            crawl_source({**config, key: True}, FetchPolicy(per_host_delay_s=0), stored.extend)
    report = crawl_source(config, FetchPolicy(per_host_delay_s=0), stored.extend)
    assert report.documents == 0 and "loopback" in report.errors[0].reason
    assert stored == [] and secret_server.paths == []


# -- the demo sources: their own ports, nothing else ----------------------------------------------
def test_demo_policy_refuses_other_private_addresses_and_other_ports(demo_policy, secret_server):
    sites, policy = demo_policy
    other_port = f"http://127.0.0.1:{secret_server.server_address[1]}/secret"  # same host as the news site
    with PoliteFetcher(policy) as fetcher:
        assert fetcher.fetch(sites.news_url + "/rss.xml").ok  # the demo site itself still works
        for url in ("http://10.0.0.5/", "http://169.254.169.254/latest/meta-data/", other_port,
                    "http://[::ffff:169.254.169.254]/", "http://2130706433:" + sites.news_url.rsplit(":", 1)[1]):
            result = fetcher.fetch(url)
            assert result.error and result.error.startswith("refused:"), (url, result.error)
            assert result.attempts == 0  # refused before any connection
    assert secret_server.paths == []


def test_redirect_from_a_demo_site_to_a_port_not_allowed_is_refused(demo_policy, secret_server):
    sites, policy = demo_policy
    target = secret_url(secret_server)
    with PoliteFetcher(policy) as fetcher:
        result = fetcher.fetch(f"{sites.news_url}/faults/redirect-to?url={target}")
    assert result.error.startswith("refused:") and "loopback" in result.error
    assert result.redirects == [target] and result.body == b""
    assert secret_server.paths == []


def test_allow_list_matches_the_exact_host_and_effective_port():
    allowed = frozenset({parse_endpoint("127.0.0.1:80"), parse_endpoint("[::1]:8443")})
    check_url("http://127.0.0.1/", allowed)  # port 80 by default
    check_url("https://[::1]:8443/x", allowed)
    for url in ("https://127.0.0.1/", "http://127.0.0.1:8080/", "http://localhost/", "http://2130706433/",
                "http://127.0.0.2/", "http://[::1]/"):
        with pytest.raises(URLRefused):
            check_url(url, allowed)
    with pytest.raises(URLRefused, match="DNS rebinding"):
        check_peer("public.example", 80, "127.0.0.1", allowed)  # the name is not the allowed pair


# -- settings and admin entries --------------------------------------------------------------------
def test_settings_allow_list_lets_a_scrape_reach_exactly_that_port(workbench, secret_server, settings_allowlist):
    port = secret_server.server_address[1]
    settings_allowlist(f"10.9.9.9:443, 127.0.0.1:{port}")
    policy = quick(jobs.fetch_policy({"config": {}, "robots_override": False}))
    with PoliteFetcher(policy) as fetcher:
        assert fetcher.fetch(secret_url(secret_server)).body == SECRET
        assert fetcher.fetch(f"http://127.0.0.1:{port + 1}/").error.startswith("refused:")


@pytest.mark.parametrize(
    ("value", "says"),
    [("127.0.0.1", "has no port"), ("127.0.0.1:0", "port must be"), ("http://10.0.0.1:80", "no scheme"),
     ("::1:80", "IPv6 address in brackets"), ("bad host!:80", "not a host:port"), ("ok.example:99999", "port")],
)
def test_bad_allow_list_setting_is_a_clear_error(value, says):
    with pytest.raises(SettingsError, match="NETWORK_ALLOWLIST") as raised:
        load_settings(network_allowlist=f"127.0.0.1:8080,{value}")
    assert says in str(raised.value)
    with pytest.raises(AllowListError):
        parse_endpoint(value)


def test_admin_entries_allow_a_port_and_are_audited(workbench, secret_server):
    admin, endpoint = as_admin(), f"127.0.0.1:{secret_server.server_address[1]}"
    policy_before = quick(jobs.fetch_policy({"config": {}, "robots_override": False}))
    with PoliteFetcher(policy_before) as fetcher:
        assert fetcher.fetch(secret_url(secret_server)).error.startswith("refused:")
    added = allowlist_admin.add_allowed_endpoint(admin, endpoint, "internal catalogue mirror")
    try:
        assert added["endpoint"] == endpoint
        assert endpoint in [e["endpoint"] for e in allowlist_admin.list_allowed_endpoints(admin)]
        with pytest.raises(ValueError, match="already on the allow-list"):
            allowlist_admin.add_allowed_endpoint(admin, endpoint, "again")
        policy = quick(jobs.fetch_policy({"config": {}, "robots_override": False}))
        with PoliteFetcher(policy) as fetcher:
            assert fetcher.fetch(secret_url(secret_server)).body == SECRET
    finally:
        allowlist_admin.remove_allowed_endpoint(admin, endpoint)
    assert (parse_endpoint(endpoint)) not in allowlist_admin.workbench_allowlist()
    events = {(e["action"], e["target"]) for e in audit.recent(20)}
    expected = {("network_allow_added", f"endpoint:{endpoint}"), ("network_allow_removed", f"endpoint:{endpoint}")}
    assert expected <= events


def test_only_an_admin_can_change_or_read_the_allow_list(workbench):
    for principal in (as_supplier(), as_buyer(), None):
        with pytest.raises(PermissionDenied):
            allowlist_admin.add_allowed_endpoint(principal, "127.0.0.1:6379", "let me in")
        with pytest.raises(PermissionDenied):
            allowlist_admin.list_allowed_endpoints(principal)
    assert ("127.0.0.1", 6379) not in allowlist_admin.workbench_allowlist()
    with pytest.raises(ValueError, match="Say why"):
        allowlist_admin.add_allowed_endpoint(as_admin(), "127.0.0.1:6379", "  ")


def test_allow_host_command_adds_lists_and_removes(workbench, capsys):
    assert cli_main(["allow-host", "add", "10.20.30.40:8080", "--reason", "lab scraper target"]) == 0
    assert cli_main(["allow-host", "list"]) == 0
    listed = capsys.readouterr().out
    assert "10.20.30.40:8080" in listed and "lab scraper target" in listed
    assert cli_main(["allow-host", "remove", "10.20.30.40:8080"]) == 0
    assert ("10.20.30.40", 8080) not in allowlist_admin.workbench_allowlist()
    assert cli_main(["allow-host", "add", "10.20.30.40", "--reason", "x"]) == 2
    assert "has no port" in capsys.readouterr().err


def test_allow_host_command_runs_from_a_terminal():
    result = subprocess.run([sys.executable, "-m", "core", "allow-host", "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and "HOST:PORT" in result.stdout


# -- the deadline: a server dripping its headers cannot hold a fetch -----------------------------------
class DrippingServer:
    """Accepts connections and sends a status line, then one header byte every `interval_s`, for at
    most `give_up_s` (so a fetcher without a deadline ends the test instead of hanging it). robots.txt
    answers 404 at once unless `drip_robots`."""

    def __init__(self, interval_s: float = 0.2, give_up_s: float = 15.0, headers_done: bool = False,
                 drip_robots: bool = False):
        self.interval_s, self.give_up_s, self.headers_done = interval_s, give_up_s, headers_done
        self.drip_robots = drip_robots
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        self.listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket):
        started = time.monotonic()
        with conn:
            try:
                request = conn.recv(65536)
                if request.startswith(b"GET /robots.txt") and not self.drip_robots:
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                self.connections += 1
                head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                if self.headers_done:
                    head += b"Content-Length: 100000\r\n\r\n"
                conn.sendall(head)
                while not self._stop.is_set() and time.monotonic() - started < self.give_up_s:
                    conn.sendall(b"a" if self.headers_done else b"X")
                    time.sleep(self.interval_s)
            except OSError:
                pass  # the client hung up: what a deadline should make it do

    def close(self):
        self._stop.set()
        self.listener.close()


@pytest.fixture
def dripping():
    servers = []

    def start(**kwargs) -> DrippingServer:
        servers.append(DrippingServer(**kwargs))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def drip_policy(server: DrippingServer, **overrides) -> FetchPolicy:
    values = dict(per_host_delay_s=0, obey_robots=False, backoff_base_s=0.01, backoff_max_s=0.05,
                  allowed_endpoints={("127.0.0.1", server.port)})
    return FetchPolicy(**{**values, **overrides})


def test_dripping_headers_end_at_the_timeout_even_with_retries(dripping):
    server = dripping()
    with PoliteFetcher(drip_policy(server, timeout_s=1.0, retries=3)) as fetcher:
        started = time.monotonic()
        result = fetcher.fetch(f"http://127.0.0.1:{server.port}/slow-headers")
        took = time.monotonic() - started
    assert took < 1.0 + 0.5, f"the fetch took {took:.2f}s"
    assert result.status == 0 and result.attempts == 1
    assert "timed out waiting for the response headers" in result.error and "1s" in result.error


def test_a_dripping_robots_txt_counts_against_the_page_deadline(dripping):
    server = dripping(drip_robots=True)
    with PoliteFetcher(drip_policy(server, timeout_s=1.0, retries=3, obey_robots=True)) as fetcher:
        started = time.monotonic()
        result = fetcher.fetch(f"http://127.0.0.1:{server.port}/page")
        took = time.monotonic() - started
    assert took < 1.0 + 0.5, f"the fetch took {took:.2f}s"
    assert result.status == 0 and "timed out" in result.error and "1s deadline" in result.error


def test_deadline_bounds_retries_of_a_dripping_server(dripping):
    server = dripping()
    with PoliteFetcher(drip_policy(server, timeout_s=0.6, deadline_s=1.5, retries=10)) as fetcher:
        started = time.monotonic()
        result = fetcher.fetch(f"http://127.0.0.1:{server.port}/slow-headers")
        took = time.monotonic() - started
    assert took < 1.5 + 0.5, f"the fetch took {took:.2f}s"
    assert 2 <= result.attempts <= 3 and "timed out" in result.error and server.connections == result.attempts


def test_dripping_body_ends_at_the_timeout_and_keeps_what_arrived(dripping):
    server = dripping(headers_done=True)
    with PoliteFetcher(drip_policy(server, timeout_s=1.0, retries=0)) as fetcher:
        started = time.monotonic()
        result = fetcher.fetch(f"http://127.0.0.1:{server.port}/slow-body")
        took = time.monotonic() - started
    assert took < 1.0 + 0.5, f"the fetch took {took:.2f}s"
    assert result.status == 200 and result.truncated and "timed out reading the body" in result.error
    assert 1 <= len(result.body) <= 10


# -- the Sources page: the allow-list is an admin's expander; the private-hosts checkbox is gone -------
def test_sources_page_lets_an_admin_manage_the_allow_list(workbench):
    from apptest_helpers import assert_no_exception, button, page_app

    supplier_page = page_app("sources.py", role="supplier")
    assert_no_exception(supplier_page)
    assert not [e for e in supplier_page.expander if "allow-list" in e.label]
    assert "src_private" not in [c.key for c in supplier_page.checkbox]

    at = page_app("sources.py", role="admin")
    assert_no_exception(at)
    assert [e for e in at.expander if e.label == "Network allow-list (admin)"]
    assert "src_private" not in [c.key for c in at.checkbox]
    at.text_input(key="src_allow_endpoint").input("127.0.0.1:1")
    at.text_input(key="src_allow_reason").input("page test").run()
    button(at, "Allow this host:port").click().run()
    assert_no_exception(at)
    assert any("Allowed 127.0.0.1:1" in s.value for s in at.success)
    try:
        at.text_input(key="src_allow_endpoint").input("127.0.0.1").run()
        button(at, "Allow this host:port").click().run()
        assert any("has no port" in e.value for e in at.error)
    finally:
        allowlist_admin.remove_allowed_endpoint(as_admin(), "127.0.0.1:1")
