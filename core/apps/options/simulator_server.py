"""The market simulator served over HTTP on 127.0.0.1, speaking the Schwab market-data paths.

Serving it (rather than calling it in-process) keeps the adapter honest: the simulator broker and the
Schwab broker go through the same HTTP + JSON path, and the tests use this server as the local fake
Schwab endpoint too. Loopback only: it is never exposed.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from core.apps.options.simulator import MarketSimulator

HOST = "127.0.0.1"


def _handler_for(sim: MarketSimulator):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet: tests and the app do not want access logs on stderr
            pass

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802 - http.server's name
            url = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            try:
                if url.path == "/marketdata/v1/chains":
                    return self._send(200, sim.option_chain(params.get("symbol", "")))
                if url.path == "/marketdata/v1/quotes":
                    merged = {}
                    for symbol in filter(None, params.get("symbols", "").split(",")):
                        merged.update(sim.quote(symbol))
                    return self._send(200, merged)
                if url.path == "/sim/v1/underlyings":
                    return self._send(200, {"symbols": sorted(sim.underlyings), "asOf": sim.today.isoformat()})
            except KeyError as exc:
                return self._send(404, {"errors": [{"title": str(exc.args[0])}]})
            return self._send(404, {"errors": [{"title": f"no route {url.path}"}]})

        def do_POST(self):  # noqa: N802
            url = urlsplit(self.path)
            if url.path == "/sim/v1/advance":
                days = int(parse_qs(url.query).get("days", ["1"])[0])
                return self._send(200, {"asOf": sim.advance(max(1, min(days, 365))).isoformat()})
            return self._send(404, {"errors": [{"title": f"no route {url.path}"}]})

    return Handler


class SimulatorServer:
    """A running simulator server; `base_url` is where to reach it. Stop with `close()`."""

    def __init__(self, simulator: MarketSimulator | None = None, port: int = 0):
        self.simulator = simulator or MarketSimulator()
        self.httpd = ThreadingHTTPServer((HOST, port), _handler_for(self.simulator))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="options-simulator", daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


_shared: SimulatorServer | None = None
_shared_lock = threading.Lock()


def shared_simulator_server() -> SimulatorServer:
    """One simulator per process (the app's default market when no broker is configured)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SimulatorServer()
        return _shared


def serve_forever(port: int = 0, seed: int = 7) -> int:
    server = SimulatorServer(MarketSimulator(seed), port)
    print(f"Options market simulator on {server.base_url} (Ctrl+C to stop)")
    try:
        server.thread.join()
    except KeyboardInterrupt:
        server.close()
    return 0
