"""Local HTTP servers for the demo sites, one per host, started and stopped from Python.

Each site gets its own loopback address when the OS allows it (127.0.0.1, .2, .3 on Linux), so a
crawler's per-host politeness treats them as three hosts; otherwise all share 127.0.0.1 on
different ports. Pages answer conditional requests (ETag, Last-Modified) with 304.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from core.sources.allowlist import register_runtime_endpoint, unregister_runtime_endpoint
from core.sources.demo_web import faults, responses
from core.sources.demo_web.news import EPOCH, NewsSite
from core.sources.demo_web.property import PropertySite
from core.sources.demo_web.responses import Response
from core.sources.demo_web.shop import MarketplaceSite

ROBOTS_TXT = """# Demo robots.txt: the workbench may go full speed, everyone else is asked to wait.
User-agent: DataBrokerWorkbench
Crawl-delay: 0
Disallow: /private/

User-agent: *
Crawl-delay: 2
Disallow: /private/
"""
LAST_MODIFIED = format_datetime(EPOCH, usegmt=True)
SITE_ADDRESSES = (
    ("news", NewsSite, "127.0.0.1"),
    ("marketplace", MarketplaceSite, "127.0.0.2"),
    ("property", PropertySite, "127.0.0.3"),
)
_WRITE_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


@dataclass(frozen=True)
class RequestRecord:
    at: float  # time.monotonic() when the request arrived
    path: str  # with the query string
    user_agent: str
    conditional: bool  # sent If-None-Match or If-Modified-Since


class DemoHost:
    """One site on one server: routing, faults, conditional answers and a request log."""

    def __init__(self, name: str, site, fault_specs: dict[str, str]):
        self.name = name
        self.site = site
        self.fault_specs = fault_specs
        self.fault_state = faults.FaultState()
        self.log: deque[RequestRecord] = deque(maxlen=50_000)
        self.server: ThreadingHTTPServer | None = None
        self.base_url = ""
        self.allowed_endpoint: tuple[str, int] | None = None

    def respond(self, target: str, headers) -> Response:
        parts = urlsplit(target)
        path, query = parts.path or "/", dict(parse_qsl(parts.query))
        conditional = bool(headers.get("If-None-Match") or headers.get("If-Modified-Since"))
        self.log.append(RequestRecord(time.monotonic(), target, headers.get("User-Agent", ""), conditional))
        spec = self.fault_specs.get(f"{self.name}:{path}") or self.fault_specs.get(path)
        response = faults.from_spec(spec, f"{self.name}:{path}", self.fault_state) if spec else None
        if response is None:
            response = self._route(path, query)
        if response.cacheable and response.status == 200 and response.chunks is None:
            self._add_validators(response, headers)
        return response

    def _route(self, path: str, query: dict[str, str]) -> Response:
        if path == "/robots.txt":
            return responses.plain(ROBOTS_TXT)
        if path.startswith("/faults/"):
            found = faults.fault_route(path, query, self.fault_state, self.name)
        else:
            found = self.site.handle(path, query)
        return found if found is not None else responses.not_found(path)

    @staticmethod
    def _add_validators(response: Response, headers) -> None:
        etag = '"' + hashlib.sha1(response.body).hexdigest()[:20] + '"'
        response.headers.update({"ETag": etag, "Last-Modified": LAST_MODIFIED})
        if_none_match, if_modified_since = headers.get("If-None-Match"), headers.get("If-Modified-Since")
        unchanged = etag in (if_none_match or "")
        if if_none_match is None and if_modified_since:
            try:
                unchanged = parsedate_to_datetime(if_modified_since) >= EPOCH
            except (TypeError, ValueError):
                unchanged = False
        if unchanged:
            response.status, response.body = 304, b""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so a crawler's connection pool is exercised
    server_version = "DemoWeb/1.0"
    # Headers and body go out in separate writes; with Nagle's algorithm on, the client's delayed
    # ACK held every response back by about 40 ms (measured: 44 pages/s on one host, now hundreds).
    disable_nagle_algorithm = True

    def do_GET(self):  # noqa: N802 - the name http.server dispatches to
        response = self.server.demo_host.respond(self.path, self.headers)
        if response.delay_s:
            time.sleep(response.delay_s)
        try:
            self._send(response)
        except _WRITE_ERRORS:
            self.close_connection = True  # the client stopped reading (size cap, timeout): fine

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        length = response.declared_length if response.declared_length is not None else len(response.body)
        self.send_header("Content-Length", str(0 if response.status == 304 else length))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.close_after:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if response.chunks is not None:
            for chunk in response.chunks:
                self.wfile.write(chunk)
        elif response.status != 304:
            self.wfile.write(response.body)

    def log_message(self, format, *args):  # noqa: A002 - signature of the overridden method
        pass  # the request log on DemoHost replaces stderr noise


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


def _bind(address: str, port: int) -> _Server:
    """A server on `address`:`port`, else on a free port, else on 127.0.0.1 (if 127/8 is not all loopback)."""
    for candidate in ((address, port), (address, 0), ("127.0.0.1", 0)):
        try:
            return _Server(candidate, _Handler)
        except OSError:
            continue
    raise OSError("could not bind a loopback address for the demo sites")


class DemoSites:
    """The three demo sites, running. `with DemoSites.start(seed=7) as sites: sites.news_url ...`."""

    def __init__(self, hosts: dict[str, DemoHost], seed: int, scale: float):
        self.hosts, self.seed, self.scale = hosts, seed, scale
        self._threads: list[threading.Thread] = []

    @classmethod
    def start(
        cls, seed: int = 7, scale: float = 1.0, faults: dict[str, str] | None = None, preferred_port: int = 0,
        site_addresses=SITE_ADDRESSES,
    ) -> DemoSites:
        """Generate the sites for `seed` (sizes grow with `scale`) and serve them on free loopback ports.

        With `preferred_port`, each site first tries that port on its own address, so URLs (and
        with them feeds, sitemaps and saved validators) stay the same across restarts.
        `site_addresses` lists (name, site factory taking (seed, scale), loopback address) to serve.
        """
        if scale <= 0:
            raise ValueError(f"scale must be > 0, got {scale}")
        for spec in (faults or {}).values():
            cls._check_fault_spec(spec)
        hosts = {}
        for name, site_class, address in site_addresses:
            host = DemoHost(name, site_class(seed, scale), dict(faults or {}))
            host.server = _bind(address, preferred_port)
            host.server.demo_host = host
            bound_address, port = host.server.server_address[:2]
            host.base_url = host.site.base_url = f"http://{bound_address}:{port}"
            # Exactly this address and port, only while the server runs: crawls may reach the demo
            # site, but not another port on the same address nor any other private host.
            host.allowed_endpoint = register_runtime_endpoint(bound_address, port)
            hosts[name] = host
        sites = cls(hosts, seed, scale)
        for host in hosts.values():
            thread = threading.Thread(
                target=host.server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"demo-web-{host.name}",
                daemon=True,
            )
            thread.start()
            sites._threads.append(thread)
        return sites

    @staticmethod
    def _check_fault_spec(spec: str) -> None:
        try:
            faults.from_spec(spec, "check", faults.FaultState())
        except (ValueError, IndexError) as error:
            raise ValueError(f"invalid demo fault {spec!r}: {error}") from error

    @property
    def news_url(self) -> str:
        return self.hosts["news"].base_url

    @property
    def marketplace_url(self) -> str:
        return self.hosts["marketplace"].base_url

    @property
    def property_url(self) -> str:
        return self.hosts["property"].base_url

    @property
    def base_urls(self) -> dict[str, str]:
        return {name: host.base_url for name, host in self.hosts.items()}

    def requests(self, name: str) -> list[RequestRecord]:
        return list(self.hosts[name].log)

    def stop(self) -> None:
        for host in self.hosts.values():
            if host.server is not None:
                host.server.shutdown()
                host.server.server_close()
            if host.allowed_endpoint is not None:
                unregister_runtime_endpoint(host.allowed_endpoint)
                host.allowed_endpoint = None
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> DemoSites:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
