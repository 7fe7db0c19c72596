"""The network allow-list: exact `host:port` pairs a crawl may reach although they are not public.

It is the only way past the SSRF guard, and users never write to it. Entries come from:
- the NETWORK_ALLOWLIST setting (the operator),
- NetworkAllowEntry rows an admin adds (see `allowlist_admin`),
- this process's own local servers (the demo sites register their ports while they run).

A pair matches only the host as written in the URL and its effective port (80/443 when none is
given), so allowing 127.0.0.1:8080 says nothing about 127.0.0.1:5432, 10.x or 169.254.169.254.
This module is pure (no database, no settings) so `core.config` can use its parser.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from collections import Counter

Endpoint = tuple[str, int]

_HOST_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$")
_runtime_lock = threading.Lock()
_runtime_endpoints: Counter[Endpoint] = Counter()


class AllowListError(ValueError):
    """An allow-list entry is not an exact `host:port`; the message shows the expected form."""


def normalise_host(host: str) -> str:
    """The host as entries and URLs are compared: lower-case, no brackets or trailing dot, IPs canonical."""
    host = host.strip().strip("[]").rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def parse_endpoint(text: str) -> Endpoint:
    """'127.0.0.1:8080', '[::1]:8443' or 'intranet.example:443' -> (host, port); raises AllowListError."""
    raw = (text or "").strip()
    form = "write it as HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8443"
    if not raw:
        raise AllowListError(f"empty allow-list entry; {form}")
    if "/" in raw or "@" in raw or any(ch.isspace() for ch in raw):
        raise AllowListError(f"{raw!r} is not a host:port (no scheme, path, user or spaces); {form}")
    if raw.startswith("["):
        host, _, rest = raw[1:].partition("]")
        if not rest.startswith(":"):
            raise AllowListError(f"{raw!r} has no port; {form}")
        port_text = rest[1:]
    else:
        host, colon, port_text = raw.rpartition(":")
        if ":" in host:
            raise AllowListError(f"{raw!r}: put an IPv6 address in brackets; {form}")
        if not colon:
            raise AllowListError(f"{raw!r} has no port; {form}")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise AllowListError(f"{raw!r}: the port must be a number from 1 to 65535; {form}")
    host = normalise_host(host)
    if not host:
        raise AllowListError(f"{raw!r} has no host; {form}")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOST_NAME.match(host):
            raise AllowListError(f"{raw!r}: {host!r} is not a valid host name or IP address; {form}") from None
    return host, int(port_text)


def parse_endpoint_list(text: str) -> frozenset[Endpoint]:
    """A comma-separated NETWORK_ALLOWLIST value -> endpoints; names every bad entry at once."""
    endpoints, problems = set(), []
    for item in (text or "").split(","):
        if not item.strip():
            continue
        try:
            endpoints.add(parse_endpoint(item))
        except AllowListError as error:
            problems.append(str(error))
    if problems:
        raise AllowListError("; ".join(problems))
    return frozenset(endpoints)


def format_endpoint(endpoint: Endpoint) -> str:
    host, port = endpoint
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def register_runtime_endpoint(host: str, port: int) -> Endpoint:
    """Allow a local server this process itself runs (the demo sites), until it unregisters."""
    endpoint = (normalise_host(host), int(port))
    with _runtime_lock:
        _runtime_endpoints[endpoint] += 1
    return endpoint


def unregister_runtime_endpoint(endpoint: Endpoint) -> None:
    with _runtime_lock:
        _runtime_endpoints[endpoint] -= 1
        if _runtime_endpoints[endpoint] <= 0:
            del _runtime_endpoints[endpoint]


def runtime_endpoints() -> frozenset[Endpoint]:
    with _runtime_lock:
        return frozenset(_runtime_endpoints)


def is_allowed(host: str, port: int, allowed: frozenset[Endpoint]) -> bool:
    """True when (host, port) is in `allowed` (settings and admin entries) or a running local server."""
    endpoint = (normalise_host(host), int(port))
    if endpoint in allowed:
        return True
    with _runtime_lock:
        return endpoint in _runtime_endpoints
