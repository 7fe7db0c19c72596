"""A stand-in for Stripe's API on 127.0.0.1, enough for Checkout Sessions, refunds and their webhooks.

It speaks what the official library sends (form-encoded bodies with bracketed keys, Bearer auth,
Idempotency-Key) and answers like Stripe does: session objects with ids cs_test_..., a hosted
url, payment_status "unpaid" and no payment_intent until the test calls `mark_paid`; the session
list (GET /v1/checkout/sessions, newest first, filtered by payment_intent or status); refunds
(POST /v1/refunds with a payment_intent, GET /v1/refunds?payment_intent=...) with ids re_test_...
that return what is left of the payment and refuse a payment that is unknown or fully refunded,
with Stripe's error shape. A repeated Idempotency-Key gets the first answer back (errors included,
as Stripe keeps them), and the same key on another endpoint or with other parameters is refused.
`charge` and `dispute` build the objects Stripe puts in charge.refunded and charge.dispute.* events.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from core.config import reset_settings_cache

SESSIONS_PATH = "/v1/checkout/sessions"
REFUNDS_PATH = "/v1/refunds"


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
        self.payments: dict[str, dict] = {}  # payment_intent id -> {"amount", "currency", "charge", "refunded"}
        self.refunds: dict[str, dict] = {}  # refund id -> refund object, oldest first
        self.fail_next_refund = False
        self.session_lists: list[dict] = []  # the query of every GET /v1/checkout/sessions, in arrival order
        # idempotency key -> (path, body, status, reply)
        self._replies: dict[str, tuple[str, str, int, dict]] = {}
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
            intent = f"pi_test_{secrets.token_hex(12)}"
            session.update(status="complete", payment_status="paid", payment_intent=intent)
            self.payments[intent] = {"amount": session["amount_total"], "currency": session["currency"],
                                     "charge": f"ch_test_{secrets.token_hex(12)}", "refunded": 0}
            return dict(session)

    def refunds_of(self, payment_intent: str) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self.refunds.values() if r["payment_intent"] == payment_intent]

    def charge(self, payment_intent: str) -> dict:
        """The payment's charge as it stands, as a charge.refunded event carries it."""
        with self._lock:
            payment = self.payments[payment_intent]
            return {"id": payment["charge"], "object": "charge", "amount": payment["amount"],
                    "amount_captured": payment["amount"], "amount_refunded": payment["refunded"],
                    "captured": True, "currency": payment["currency"], "disputed": False, "livemode": False,
                    "paid": True, "payment_intent": payment_intent,
                    "refunded": payment["refunded"] >= payment["amount"], "status": "succeeded"}

    def dispute(self, payment_intent: str, status: str = "lost", reason: str = "fraudulent") -> dict:
        """A dispute of the payment's charge, as charge.dispute.* events carry it."""
        with self._lock:
            payment = self.payments[payment_intent]
            return {"id": f"du_test_{secrets.token_hex(12)}", "object": "dispute", "amount": payment["amount"],
                    "charge": payment["charge"], "created": int(time.time()), "currency": payment["currency"],
                    "is_charge_refundable": False, "livemode": False, "metadata": {},
                    "payment_intent": payment_intent, "reason": reason, "status": status}

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

    def _refund(self, body: str) -> tuple[int, dict]:
        if self.fail_next_refund:
            self.fail_next_refund = False
            return 500, _error("api_error", "An unknown error occurred (fake outage).")
        params = nested_params(parse_qsl(body, keep_blank_values=True))
        intent = params.get("payment_intent")
        if not intent:
            return 400, _error("invalid_request_error", "One of the following params should be provided for "
                               "this request: payment_intent or charge.", code="parameter_missing")
        payment = self.payments.get(intent)
        if payment is None:
            return 400, _error("invalid_request_error", f"No such payment_intent: '{intent}'",
                               code="resource_missing", param="payment_intent")
        left = payment["amount"] - payment["refunded"]
        if left <= 0:
            return 400, _error("invalid_request_error", f"Charge {payment['charge']} has already been refunded.",
                               code="charge_already_refunded", charge=payment["charge"])
        amount = int(params.get("amount") or left)
        if not 0 < amount <= left:
            return 400, _error("invalid_request_error", f"Refund amount ({amount}) is greater than unrefunded "
                               f"amount on charge ({left})", code="amount_too_large", param="amount")
        payment["refunded"] += amount
        refund = {
            "id": f"re_test_{secrets.token_hex(12)}", "object": "refund", "amount": amount,
            "balance_transaction": f"txn_test_{secrets.token_hex(12)}", "charge": payment["charge"],
            "created": int(time.time()), "currency": payment["currency"], "metadata": params.get("metadata", {}),
            "payment_intent": intent, "reason": params.get("reason"), "receipt_number": None,
            "source_transfer_reversal": None, "status": "succeeded", "transfer_reversal": None,
        }
        self.refunds[refund["id"]] = refund
        return 200, dict(refund)

    def handle_post(self, path: str, body: str, idempotency_key: str | None) -> tuple[int, dict]:
        with self._lock:
            self.idempotency_keys.append(idempotency_key)
            action = {SESSIONS_PATH: self._create, REFUNDS_PATH: self._refund}.get(path)
            if action is None:
                return 404, _error("invalid_request_error", f"Unrecognized request URL (POST: {path}).")
            if idempotency_key in self._replies:
                first_path, first_body, status, reply = self._replies[idempotency_key]
                if first_path != path:
                    return 400, _error("idempotency_error", "Keys for idempotent requests can only be used "
                                       "for the same endpoint they were first used for.")
                if first_body != body:
                    return 400, _error("idempotency_error", "Keys for idempotent requests can only be used "
                                       "with the same parameters they were first used with.")
                return status, reply
            status, reply = action(body)
            if idempotency_key:
                self._replies[idempotency_key] = (path, body, status, reply)
            return status, reply

    def _list_refunds(self, query: dict) -> tuple[int, dict]:
        found = [dict(r) for r in reversed(self.refunds.values())  # newest first, like Stripe
                 if not query.get("payment_intent") or r["payment_intent"] == query["payment_intent"]]
        limit = int(query.get("limit") or 10)
        return 200, {"object": "list", "data": found[:limit], "has_more": len(found) > limit, "url": REFUNDS_PATH}

    def _list_sessions(self, query: dict) -> tuple[int, dict]:
        self.session_lists.append(query)
        found = [dict(s) for s in reversed(self.sessions.values())  # newest first, like Stripe
                 if all(s.get(field) == query[field] for field in ("payment_intent", "status") if field in query)]
        limit = int(query.get("limit") or 10)
        return 200, {"object": "list", "data": found[:limit], "has_more": len(found) > limit, "url": SESSIONS_PATH}

    def handle_get(self, target: str) -> tuple[int, dict]:
        parts = urlsplit(target)
        path, query = parts.path, dict(parse_qsl(parts.query))
        with self._lock:
            if path == REFUNDS_PATH:
                return self._list_refunds(query)
            if path == SESSIONS_PATH:
                return self._list_sessions(query)
            if path.startswith(REFUNDS_PATH + "/"):
                refund_id = path.removeprefix(REFUNDS_PATH + "/")
                if refund_id in self.refunds:
                    return 200, dict(self.refunds[refund_id])
                return 404, _error("invalid_request_error", f"No such refund: '{refund_id}'",
                                   code="resource_missing")
            session_id = path.removeprefix(SESSIONS_PATH + "/")
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
                    self._send(*fake.handle_get(self.path))

            def log_message(self, *args):
                pass

        return Handler


@contextmanager
def stripe_pointed_at_fake(monkeypatch, **settings: str) -> Iterator[FakeStripe]:
    """A running fake, with STRIPE_SECRET_KEY, STRIPE_API_BASE and `settings` (env names) set for it meanwhile."""
    fake = FakeStripe().start()
    settings = {"STRIPE_SECRET_KEY": "sk_test_fake_key", "STRIPE_API_BASE": fake.base_url, **settings}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    try:
        yield fake
    finally:
        fake.stop()
        for name in settings:
            monkeypatch.delenv(name, raising=False)
        reset_settings_cache()
