"""A stand-in for Stripe's API on 127.0.0.1, enough for Checkout Sessions.

It speaks what the official library sends (form-encoded bodies with bracketed keys, Bearer auth,
Idempotency-Key) and answers like Stripe does: session objects with ids cs_test_..., a hosted
url, payment_status "unpaid" until the test calls `mark_paid`; a repeated Idempotency-Key gets
the first answer back (errors included), and the same key with different parameters is refused.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

SESSIONS_PATH = "/v1/checkout/sessions"


def nested_params(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's bracketed form keys as nested dicts: a[0][b]=c -> {"a": {"0": {"b": "c"}}}."""
    root: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return root


def _error(kind: str, message: str, **extra) -> dict:
    return {"error": {"type": kind, "message": message, **extra}}


class FakeStripe:
    def __init__(self) -> None:
        self.sessions: dict[str, dict] = {}
        self.create_params: list[dict] = []  # parameters of every create that made a new session
        self.idempotency_keys: list[str | None] = []  # the header of every POST, in arrival order
        self.fail_next_create = False
        self._replies: dict[str, tuple[str, int, dict]] = {}  # idempotency key -> (body, status, reply)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-stripe", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeStripe:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def mark_paid(self, session_id: str) -> dict:
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status="paid",
                           payment_intent=f"pi_test_{secrets.token_hex(8)}")
            return dict(session)

    def expire(self, session_id: str) -> None:
        with self._lock:
            self.sessions[session_id].update(status="expired", url=None)

    def _create(self, body: str) -> tuple[int, dict]:
        if self.fail_next_create:
            self.fail_next_create = False
            return 500, _error("api_error", "An unknown error occurred (fake outage).")
        params = nested_params(parse_qsl(body, keep_blank_values=True))
        item = params["line_items"]["0"]
        amount = int(item["price_data"]["unit_amount"]) * int(item["quantity"])
        session_id = f"cs_test_{secrets.token_hex(24)}"
        now = int(time.time())
        session = {
            "id": session_id, "object": "checkout.session", "mode": params["mode"], "livemode": False,
            "amount_subtotal": amount, "amount_total": amount, "currency": item["price_data"]["currency"],
            "client_reference_id": params.get("client_reference_id"), "metadata": params.get("metadata", {}),
            "success_url": params["success_url"], "cancel_url": params.get("cancel_url"),
            "url": f"https://checkout.stripe.com/c/pay/{session_id}", "status": "open",
            "payment_status": "unpaid", "payment_intent": None, "customer": None, "customer_details": None,
            "created": now, "expires_at": now + 24 * 3600,
        }
        self.sessions[session_id] = session
        self.create_params.append(params)
        return 200, dict(session)

    def handle_post(self, path: str, body: str, idempotency_key: str | None) -> tuple[int, dict]:
        with self._lock:
            self.idempotency_keys.append(idempotency_key)
            if path != SESSIONS_PATH:
                return 404, _error("invalid_request_error", f"Unrecognized request URL (POST: {path}).")
            if idempotency_key in self._replies:
                first_body, status, reply = self._replies[idempotency_key]
                if first_body != body:
                    return 400, _error("idempotency_error", "Keys for idempotent requests can only be used "
                                       "with the same parameters they were first used with.")
                return status, reply
            status, reply = self._create(body)
            if idempotency_key:
                self._replies[idempotency_key] = (body, status, reply)
            return status, reply

    def handle_get(self, path: str) -> tuple[int, dict]:
        session_id = path.removeprefix(SESSIONS_PATH + "/")
        with self._lock:
            session = self.sessions.get(session_id) if path.startswith(SESSIONS_PATH + "/") else None
            if session is None:
                return 404, _error("invalid_request_error", f"No such checkout.session: '{session_id}'",
                                   code="resource_missing")
            return 200, dict(session)

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, reply: dict) -> None:
                body = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                # Tells the library not to retry, so a simulated outage reaches the caller at once.
                self.send_header("Stripe-Should-Retry", "false")
                self.end_headers()
                self.wfile.write(body)

            def _authorised(self) -> bool:
                if (self.headers.get("Authorization") or "").startswith("Bearer sk_test_"):
                    return True
                self._send(401, _error("invalid_request_error", "Invalid API Key provided."))
                return False

            def do_POST(self):  # noqa: N802
                if self._authorised():
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                    self._send(*fake.handle_post(self.path, body, self.headers.get("Idempotency-Key")))

            def do_GET(self):  # noqa: N802
                if self._authorised():
                    self._send(*fake.handle_get(self.path.split("?", 1)[0]))

            def log_message(self, *args):
                pass

        return Handler
