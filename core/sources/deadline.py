"""Hard time limits for HTTP exchanges.

requests' timeout bounds each socket read, not the exchange: a server that drips one header byte
every 0.2 s never trips a 3 s read timeout (measured: 41 s). `ExchangeWatchdog` is armed around
one exchange; the connections that exchange uses register their sockets with it (through
`GuardedAdapter`), and when the time is up a timer thread shuts the sockets down, which wakes the
blocked read with an error. `FetchDeadline` is the budget of one whole fetch across redirects
and retries.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

_current = threading.local()


class ExchangeWatchdog:
    """Shut down the sockets of the exchange running on this thread once `seconds` have passed."""

    def __init__(self, seconds: float):
        self.seconds = max(0.0, seconds)
        self.fired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._connections: list = []
        self._timer = threading.Timer(self.seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> ExchangeWatchdog:
        _current.watchdog = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._timer.cancel()
        _current.watchdog = None

    def watch_socket(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            fired = self.fired
        if fired:  # connected after the deadline: do not let it start reading
            _shut(sock)

    def watch_connection(self, connection) -> None:
        """A pooled connection being reused: its socket is looked up when the timer fires."""
        with self._lock:
            self._connections.append(connection)
            fired = self.fired
        if fired:
            _shut(getattr(connection, "sock", None))

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = self._sockets + [getattr(c, "sock", None) for c in self._connections]
        for sock in sockets:
            _shut(sock)


def _shut(sock) -> None:
    if sock is None:
        return
    # shutdown, not close: it wakes a read blocked in another thread without freeing the descriptor
    # under it; the pool then discards the connection as broken. OSError: it was already closed.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def current_watchdog() -> ExchangeWatchdog | None:
    return getattr(_current, "watchdog", None)


class FetchDeadline:
    """Seconds left for one fetch. Waiting for a politeness turn or a server's Retry-After is not
    the server being slow, so that time is given back with `exclude`. A fetch made on behalf of
    another (robots.txt before a page) gets `parent`: it ends by the parent's deadline too."""

    def __init__(self, seconds: float, parent: FetchDeadline | None = None):
        self.seconds = seconds
        self.parent = parent
        self._ends = time.monotonic() + seconds

    def remaining(self) -> float:
        own = max(0.0, self._ends - time.monotonic())
        return own if self.parent is None else min(own, self.parent.remaining())

    def exclude(self, waited_s: float) -> None:
        self._ends += max(0.0, waited_s)
        if self.parent is not None:
            self.parent.exclude(waited_s)
