"""Library error text in words a user can act on.

urllib3 and requests describe a failed connection as "HTTPConnectionPool(host='h', port=1): Max retries exceeded
with url: / (Caused by NewConnectionError(...: [Errno 111] Connection refused))": true, but it names classes and
object addresses instead of saying what went wrong. `plain_error` rewrites those messages and leaves any other
text as it was.
"""

from __future__ import annotations

import re

_POOL_FAILURE = re.compile(
    r"(?:connection error: )?\w*Pool\(host='(?P<host>[^']*)', port=(?P<port>\d+)\): Max retries exceeded.*",
    re.DOTALL)

# The first matching cause wins: a refused connection also mentions NewConnectionError, for example.
_CAUSES = (
    (("Connection refused",), "connection refused"),
    (("Name or service not known", "NameResolutionError", "Failed to resolve", "nodename nor servname",
      "Temporary failure in name resolution"), "the host name could not be resolved"),
    (("timed out", "ConnectTimeout", "ReadTimeout"), "the connection timed out"),
    (("CERTIFICATE_VERIFY_FAILED", "SSLError", "SSL:"), "its TLS certificate could not be verified"),
    (("Network is unreachable", "No route to host"), "the network is unreachable"),
    (("Connection reset", "RemoteDisconnected", "Connection aborted"), "the connection was closed by the server"),
)


def _cause(text: str) -> str:
    for needles, words in _CAUSES:
        if any(needle in text for needle in needles):
            return words
    return "the connection failed"


def plain_error(text: str | None) -> str:
    """`text` with every connection-pool failure replaced by "Could not connect to host:port (reason)"."""
    if not text:
        return text or ""
    match = _POOL_FAILURE.search(text)
    if match is None:
        return text
    host = match["host"]
    endpoint = f"[{host}]:{match['port']}" if ":" in host else f"{host}:{match['port']}"
    return f"{text[:match.start()]}Could not connect to {endpoint} ({_cause(match.group(0))})"
