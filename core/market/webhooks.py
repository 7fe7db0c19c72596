"""Stripe webhooks: verify, fulfil paid Checkout Sessions, mirror refunds and lost disputes, never act twice.

Events acted on:
  checkout.session.completed, checkout.session.async_payment_succeeded
      the sale behind a paid Checkout Session becomes paid (core.market.checkout.fulfil_checkout_session).
  charge.refunded
      a charge refunded in full outside the app (Stripe dashboard, API) makes its sale "refunded"; a partial
      refund is only written to the audit log (stripe_partial_refund) and the sale stays paid.
  charge.dispute.closed
      a lost dispute makes the sale "chargeback"; a dispute won or closed otherwise is only audited
      (stripe_dispute_closed). Both reversals: core.market.reversals.mirror_reversal.
A revoked sale's download links stop working. The sale of a charge or dispute is found by asking Stripe
for the Checkout Session of its payment intent. Only a paid sale (or one not yet fulfilled) changes, so
the charge.refunded event of a refund an admin made in the app finds the sale refunded already and
changes nothing. Every other event type is acknowledged and ignored.

Stripe delivers events at least once and retries any non-2xx answer. A delivery that fails for a
passing reason (Stripe unreachable while we read the session) answers 503, and a payment whose
amount does not match its sale answers 422; neither is marked processed, so both stay visible as
failing in the Stripe dashboard. A payment that no sale here took (a Checkout Session, or the payment
intent of a refund or dispute) is acknowledged with 200 and leaves a stripe_unmatched_payment audit
event; a Checkout Session that Stripe itself does not know (an event from another account or mode) is
acknowledged with 200 and logged. A processed event id is recorded as an AuditEvent (action
"stripe_event", target the event id) and a replay of it answers 200 without doing anything.

Copies of one event can arrive at the same moment (Stripe retries while the first is still being
handled, or two receivers share a database). The first copy claims the event by writing its
AuditEvent marker ("processing") before acting; the claim is made under a lock (a process lock, plus a
transaction-scoped advisory lock on PostgreSQL; SQLite admits one writer at a time), so only one copy
acts and the others answer 409 and are retried by Stripe. A delivery that fails removes its marker,
and a marker left "processing" by a receiver that died is taken over after CLAIM_STALE_AFTER.
Signatures older than the tolerance, or dated more than the tolerance in the future, are refused.

Trying it locally with the Stripe CLI (test mode keys):

    export STRIPE_SECRET_KEY=sk_test_...          # for the app (streamlit run app.py) and the receiver
    stripe listen --forward-to http://127.0.0.1:8502/stripe/webhook
    # `stripe listen` prints "Your webhook signing secret is whsec_..."; in a second shell:
    export STRIPE_WEBHOOK_SECRET=whsec_...
    python -m core.market.webhooks --host 127.0.0.1 --port 8502
    # then buy a paid listing on the Marketplace page with a test card (4242 4242 4242 4242).
    # `stripe trigger checkout.session.completed` makes a session no sale here created: it is
    # acknowledged as "not a workbench purchase" and leaves a stripe_unmatched_payment audit event.
    # Refund that payment in full in the dashboard and the sale turns refunded (a partial refund is only
    # audited); a dispute test card from Stripe's testing docs, with the dispute then lost, makes it chargeback.

In production, register https://<your host>/stripe/webhook in the Stripe dashboard for these events:
checkout.session.completed, checkout.session.async_payment_succeeded, charge.refunded and
charge.dispute.closed, and use that endpoint's signing secret. The receiver needs STRIPE_SECRET_KEY too,
to read sessions.
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from datetime import UTC, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import stripe
from sqlalchemy import delete, text, update
from sqlmodel import select

from core.config import get_settings
from core.market.checkout import CheckoutError, UnmatchedPayment, fulfil_checkout_session
from core.market.reversals import REVERSAL_EVENTS, mirror_reversal
from core.market.stripe_gateway import PaymentProviderError, UnknownCheckoutSession
from core.store.models import AuditEvent, utcnow
from core.store.sql import session_scope

WEBHOOK_PATH = "/stripe/webhook"
EVENT_ACTION = "stripe_event"
# checkout.session.completed can arrive before a delayed payment method (bank debit) has paid;
# the async_payment_succeeded event then carries the payment, and fulfilment checks payment_status anyway.
FULFIL_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
MAX_PAYLOAD_BYTES = 1 << 20  # Stripe events are a few KB
SIGNATURE_TOLERANCE_S = stripe.Webhook.DEFAULT_TOLERANCE
PROCESSING = "processing"
# Longer than any one delivery can take (Stripe calls time out after 20 s, with 2 retries).
CLAIM_STALE_AFTER = timedelta(minutes=10)
_claim_lock = threading.Lock()
logger = logging.getLogger(__name__)


def _signed_in_the_future(sig_header: str) -> bool:
    """The library refuses old signatures only; a timestamp far ahead would stay replayable for as long."""
    stamps = [item.split("=", 1)[1] for item in sig_header.split(",") if item.startswith("t=")]
    try:
        return int(stamps[0]) > time.time() + SIGNATURE_TOLERANCE_S
    except (IndexError, ValueError):
        return True


def _claim(event_id: str, event_type: str) -> tuple[int | None, str]:
    """Write the event's "processing" marker unless another delivery has; returns (marker id or None, the
    outcome already recorded: "" when claimed here, PROCESSING while another copy is acting)."""
    with _claim_lock, session_scope() as session:
        if session.get_bind().dialect.name == "postgresql":
            # Held to commit: a second receiver process waits here, then sees the committed marker.
            session.exec(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                         params={"key": f"{EVENT_ACTION}:{event_id}"})
        marker = session.exec(select(AuditEvent).where(AuditEvent.action == EVENT_ACTION,
                                                       AuditEvent.target == event_id)).first()
        if marker is None:
            marker = AuditEvent(action=EVENT_ACTION, user_id=None, target=event_id,
                                detail={"type": event_type, "outcome": PROCESSING})
            session.add(marker)
            session.flush()
            return marker.id, ""
        outcome = str((marker.detail or {}).get("outcome") or "")
        claimed_at = marker.created_at if marker.created_at.tzinfo else marker.created_at.replace(tzinfo=UTC)
        if outcome != PROCESSING or utcnow() - claimed_at < CLAIM_STALE_AFTER:
            return None, outcome
        # The delivery that claimed it died mid-way: take its claim over (the conditional update keeps
        # two takers apart).
        taken = session.exec(update(AuditEvent).where(AuditEvent.id == marker.id,
                                                      AuditEvent.created_at == marker.created_at)
                             .values(created_at=utcnow())).rowcount == 1
        return (marker.id, "") if taken else (None, PROCESSING)


def _finish_claim(marker_id: int, detail: dict) -> None:
    with session_scope() as session:
        session.exec(update(AuditEvent).where(AuditEvent.id == marker_id).values(detail=detail))


def _release_claim(marker_id: int) -> None:
    """Forget a failed delivery, so Stripe's retry acts on the event afresh."""
    with session_scope() as session:
        session.exec(delete(AuditEvent).where(AuditEvent.id == marker_id))


def handle_webhook(payload: bytes, sig_header: str) -> tuple[int, str]:
    """Verify and act on one delivery; returns (HTTP status, message) for the receiver to send back."""
    secret = get_settings().stripe_webhook_secret
    if not secret:
        return 503, "STRIPE_WEBHOOK_SECRET is not set, so events cannot be verified."
    try:
        event = stripe.Webhook.construct_event(payload, sig_header, secret).to_dict()
    except stripe.SignatureVerificationError as error:
        return 400, f"Signature verification failed: {error.user_message or error}"
    except ValueError:
        return 400, "The payload is not a JSON Stripe event."
    if _signed_in_the_future(sig_header):
        return 400, f"Signature verification failed: the timestamp is more than {SIGNATURE_TOLERANCE_S} s ahead."
    event_id, event_type = str(event.get("id") or ""), str(event.get("type") or "")
    if not event_id:
        return 400, "The event has no id."
    marker_id, recorded = _claim(event_id, event_type)
    if marker_id is None:
        if recorded == PROCESSING:
            return 409, f"Event {event_id} is being processed by another delivery; retry later."
        return 200, f"Event {event_id} was already processed."
    try:
        status, message, detail = _act_on(event_id, event_type, event)
    except BaseException:
        _release_claim(marker_id)
        raise
    if detail is None:
        _release_claim(marker_id)
    else:
        _finish_claim(marker_id, detail)
    return status, message


def _act_on(event_id: str, event_type: str, event: dict) -> tuple[int, str, dict | None]:
    """(HTTP status, message, the processed marker's detail, or None to leave the event unprocessed)."""
    outcome, sale_id = "ignored", None
    try:
        if event_type in FULFIL_EVENTS:
            session_id = str(((event.get("data") or {}).get("object") or {}).get("id") or "")
            result = fulfil_checkout_session(session_id)
            outcome, sale_id = result["status"], result["sale_id"]
        elif event_type in REVERSAL_EVENTS:
            result = mirror_reversal(event)
            outcome, sale_id = result["status"], result["sale_id"]
    except UnknownCheckoutSession as error:
        # Signed with our secret yet unknown to our key's account (another mode or account shares the
        # endpoint): retrying cannot change that, so acknowledge it and leave a trace for an operator.
        logger.warning("Stripe event %s (%s): %s", event_id, event_type, error)
        outcome = "unknown checkout session, nothing to do"
    except PaymentProviderError as error:
        return 503, str(error), None  # Stripe retries later; nothing was recorded
    except UnmatchedPayment:
        # Retrying cannot make it ours; an audit alert has already been written.
        outcome = "not a workbench purchase"
    except CheckoutError as error:
        return 422, str(error), None  # left unprocessed so it shows as failing in the Stripe dashboard
    return 200, f"{event_type}: {outcome}", {"type": event_type, "outcome": outcome, "sale_id": sale_id}


class _WebhookHandler(BaseHTTPRequestHandler):
    server_version = "DataBrokerWebhooks/1"

    def _reply(self, status: int, message: str) -> None:
        body = (message + "\n").encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.split("?", 1)[0] != WEBHOOK_PATH:
            return self._reply(404, f"Not found; Stripe events go to {WEBHOOK_PATH}.")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return self._reply(400, "Bad Content-Length.")
        if not 0 < length <= MAX_PAYLOAD_BYTES:
            return self._reply(413 if length else 400, "The event body is empty or too large.")
        payload = self.rfile.read(length)
        try:
            status, message = handle_webhook(payload, self.headers.get("Stripe-Signature", ""))
        except Exception:  # noqa: BLE001 - answer 500 so Stripe retries, and keep the receiver alive
            logger.exception("Stripe webhook failed")
            status, message = 500, "Internal error; Stripe will retry."
        self._reply(status, message)

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/healthz":
            return self._reply(200, "ok")
        self._reply(405 if self.path.split("?", 1)[0] == WEBHOOK_PATH else 404, "Stripe events are POSTed.")

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature fixed by http.server
        logger.info("%s %s", self.address_string(), format % args)


def serve_webhooks(host: str = "127.0.0.1", port: int = 8502, *,
                   in_thread: bool = False) -> ThreadingHTTPServer:
    """Receive POST /stripe/webhook. Blocks until interrupted, or with in_thread=True serves from a
    daemon thread and returns the server at once (stop it with server.shutdown(); server.server_close())."""
    server = ThreadingHTTPServer((host, port), _WebhookHandler)
    server.daemon_threads = True
    bound_host, bound_port = server.server_address[:2]
    logger.info("Listening for Stripe events on http://%s:%s%s", bound_host, bound_port, WEBHOOK_PATH)
    if in_thread:
        threading.Thread(target=server.serve_forever, name="stripe-webhooks", daemon=True).start()
        return server
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m core.market.webhooks",
                                     description="Stripe webhook receiver")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8502)
    args = parser.parse_args(argv)
    from core.bootstrap import init_workbench
    from core.logging_setup import configure_logging

    init_workbench()
    configure_logging(console=True)
    if not get_settings().stripe_webhook_secret:
        parser.error("set STRIPE_WEBHOOK_SECRET (from `stripe listen` or the dashboard endpoint) first")
    serve_webhooks(args.host, args.port)


if __name__ == "__main__":
    main()
