"""SSRF guard: which URLs a crawler may fetch on a user's behalf.

A user-given URL must not turn the workbench into a proxy for the machine's own network
(cloud metadata at 169.254.169.254, databases on 10.x, services on loopback). Hosts are
resolved and every address must be public; numeric tricks (2130706433, 0x7f000001, 0177.1,
::ffff:127.0.0.1) are decoded the way C's inet_aton does, since that is what sockets accept.
The check is repeated on every redirect hop and, through `GuardedAdapter`, on the address a
connection actually reached, so DNS rebinding between check and connect does not get through.

The only exemption is the network allow-list (`allowlist`): exact (host, port) pairs set by the
operator, an admin, or this process's own demo servers. Nothing in a user's source config reaches it.
`GuardedAdapter` also hands each socket to the running `ExchangeWatchdog`, so an exchange's
deadline can cut a server that drips its headers.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from core.sources.allowlist import Endpoint, is_allowed
from core.sources.deadline import current_watchdog

ALLOWED_SCHEMES = ("http", "https")
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_ALLOW_LIST_HINT = "private hosts are fetched only when an admin put their exact host:port on the network allow-list"


class URLRefused(ValueError):
    """The URL may not be fetched: unsafe scheme, credentials, or a non-public address."""


def _inet_aton_part(text: str) -> int:
    if text.lower().startswith("0x"):
        return int(text[2:] or "0", 16)
    if len(text) > 1 and text.startswith("0"):
        return int(text, 8)
    return int(text, 10)


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a host string denotes without DNS, or None when it is a name.

    Accepts IPv6 (with or without brackets) and every IPv4 spelling inet_aton accepts:
    1 to 4 parts, each decimal, octal (leading 0) or hex (0x), the last part filling the rest.
    """
    host = host.strip().strip("[]")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(parts):
        return None
    try:
        numbers = [_inet_aton_part(part) for part in parts]
    except ValueError:
        return None
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(parts)):
        return None
    value = 0
    for number in leading:
        value = value * 256 + number
    value = value * 256 ** (5 - len(parts)) + last
    return ipaddress.IPv4Address(value)


def non_public_reason(ip: IPAddress) -> str | None:
    """Why an address must not be fetched ("loopback", "private", ...), or None if it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            reason = non_public_reason(embedded)
            return f"{reason} (embedded in IPv6 {ip})" if reason else None
    for reason, flag in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return reason
    return None if ip.is_global else "not globally routable"


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise URLRefused(f"cannot resolve host {host!r}: {error}") from error
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def check_url(url: str, allowed_endpoints: frozenset[Endpoint] = frozenset()) -> None:
    """Raise URLRefused with a reason a person can act on unless `url` is safe to fetch.

    A non-public address passes only when (host as written, effective port) is on the allow-list:
    `allowed_endpoints` (settings and admin entries) or a local server this process runs.
    """
    if not isinstance(url, str) or not url.strip():
        raise URLRefused("empty URL")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise URLRefused(f"malformed URL {url!r}: {error}") from error
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise URLRefused(f"scheme {scheme or '(none)'!r} is not allowed in {url!r}: only http and https")
    if parts.username is not None or parts.password is not None:
        raise URLRefused(f"credentials in URLs are not allowed ({parts.hostname} in {url!r})")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise URLRefused(f"no host in URL {url!r}")
    port = port or (443 if scheme == "https" else 80)
    if is_allowed(host, port, allowed_endpoints):
        return
    check_host(host, port)


def check_host(host: str, port: int) -> None:
    """Raise URLRefused unless every address `host` denotes or resolves to is public."""
    lowered = host.lower()
    if lowered in _LOCAL_NAMES or lowered.endswith(".localhost"):
        raise URLRefused(f"host {host!r} is the local machine (loopback); {_ALLOW_LIST_HINT}")
    literal = parse_ip_literal(host)
    addresses = [literal] if literal is not None else _resolve(host, port)
    for address in addresses:
        reason = non_public_reason(address)
        if reason:
            shown = host if str(address) == host else f"{host!r} -> {address}"
            raise URLRefused(f"address {shown} is {reason}; {_ALLOW_LIST_HINT}")


def check_peer(host: str, port: int, peer_ip: str, allowed_endpoints: frozenset[Endpoint]) -> None:
    """Raise URLRefused if a connection for `host`:`port` reached a non-public address not allowed."""
    if is_allowed(host, port, allowed_endpoints):
        return
    reason = non_public_reason(ipaddress.ip_address(peer_ip.split("%", 1)[0]))
    if reason:
        raise URLRefused(f"host {host!r} connected to {peer_ip}, which is {reason} (DNS rebinding?)")


def _guarded_connection(base: type) -> type:
    class GuardedConnection(base):
        allowed_endpoints: frozenset[Endpoint] = frozenset()

        def _new_conn(self):
            sock = super()._new_conn()
            try:
                check_peer(self.host, self.port, sock.getpeername()[0], self.allowed_endpoints)
            except URLRefused:
                sock.close()
                raise
            watchdog = current_watchdog()
            if watchdog is not None:
                watchdog.watch_socket(sock)  # before TLS and headers, so the deadline covers them
            return sock

    return GuardedConnection


def _watched_pool(base: type) -> type:
    class WatchedPool(base):
        def _make_request(self, conn, *args, **kwargs):
            watchdog = current_watchdog()
            if watchdog is not None:
                watchdog.watch_connection(conn)  # a reused keep-alive connection has no _new_conn
            return super()._make_request(conn, *args, **kwargs)

    return WatchedPool


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections re-check the peer address after connecting and whose
    sockets the running ExchangeWatchdog can cut at the deadline."""

    def __init__(self, allowed_endpoints: frozenset[Endpoint], **kwargs):
        guard = {"allowed_endpoints": frozenset(allowed_endpoints)}
        http_conn = type("GuardedHTTPConnection", (_guarded_connection(HTTPConnection),), guard)
        https_conn = type("GuardedHTTPSConnection", (_guarded_connection(HTTPSConnection),), guard)
        self._pool_classes = {
            "http": type("GuardedHTTPPool", (_watched_pool(HTTPConnectionPool),), {"ConnectionCls": http_conn}),
            "https": type("GuardedHTTPSPool", (_watched_pool(HTTPSConnectionPool),), {"ConnectionCls": https_conn}),
        }
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes
