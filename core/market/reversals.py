"""Refunds and disputes settled outside the app (Stripe dashboard, the buyer's bank), mirrored onto sales.

A `charge.refunded` event for a fully refunded charge (`refunded` true) marks its sale "refunded", and a
`charge.dispute.closed` event for a lost dispute marks it "chargeback"; either way the sale's download
links stop working. A partial refund, or a dispute that was won or closed otherwise, is only written
to the audit log and the sale stays paid.

The sale is found through Stripe: the Checkout Session that took the charge's (or dispute's) payment
intent carries the sale's provider_ref. A payment no sale here took raises UnmatchedPayment after an
audit alert, like an unmatched Checkout Session does.

The status changes with a conditional UPDATE, written together with its "sale_revoke" audit event, that
only matches a paid sale (or one still waiting to be fulfilled, so a late checkout.session.completed
cannot make a refunded payment paid again). A refund made from the app and its own charge.refunded
event therefore do not fight: whichever of the two reaches the sale second changes nothing.
"""

from __future__ import annotations

from core import audit
from core.market.checkout import FULFILLABLE, UnmatchedPayment, sale_for_session
from core.market.revocations import record_revocation, sale_by_id
from core.market.stripe_gateway import checkout_session_of_payment

REFUND_EVENT = "charge.refunded"
DISPUTE_CLOSED_EVENT = "charge.dispute.closed"
REVERSAL_EVENTS = frozenset({REFUND_EVENT, DISPUTE_CLOSED_EVENT})
REVERSIBLE = ("paid", *FULFILLABLE)
# Marks a sale_revoke audit event written here rather than by an admin (its user_id is None too).
SOURCE = "stripe_event"


def _id_of(field) -> str:
    """An expandable Stripe field: its id, whether it arrived as an id or as the expanded object."""
    if isinstance(field, dict):
        field = field.get("id")
    return str(field or "")


def _sale_of_payment(payment_intent: str, event: dict, stripe_object: dict) -> tuple[dict, dict]:
    """(the sale, its Checkout Session) behind a payment intent; PaymentProviderError if Stripe can't say."""
    checkout = checkout_session_of_payment(payment_intent) if payment_intent else None
    sale = sale_for_session(checkout) if checkout else None
    if sale is None:
        audit.record("stripe_unmatched_payment", None, payment_intent or _id_of(stripe_object.get("id")),
                     event_id=event.get("id"), event_type=event.get("type"), object=_id_of(stripe_object.get("id")),
                     payment_intent=payment_intent or None, session_id=checkout["id"] if checkout else None)
        raise UnmatchedPayment(f"Payment {payment_intent or '(none)'} matches no purchase on record; "
                               "an admin has been alerted.")
    return sale, checkout


def mirror_reversal(event: dict) -> dict:
    """Act on a verified charge.refunded or charge.dispute.closed event; returns {"status", "sale_id"}.

    status is "refunded" or "chargeback" when this event revoked the sale, "already <status>" when the
    sale was revoked before (the app's own refund, a replay), and "partial refund, sale left <status>"
    or "dispute <status>, sale left <status>" when only the audit log changed. Raises UnmatchedPayment
    for a payment that no sale here took (after an audit alert), and PaymentProviderError, having
    changed nothing, when Stripe cannot be asked which sale that is.
    """
    event_type = str(event.get("type") or "")
    if event_type not in REVERSAL_EVENTS:
        raise ValueError(f"{event_type!r} is not a refund or dispute event.")
    stripe_object = (event.get("data") or {}).get("object") or {}
    payment_intent = _id_of(stripe_object.get("payment_intent"))
    sale, checkout = _sale_of_payment(payment_intent, event, stripe_object)
    target = f"sale:{sale['id']}"
    base = {"stripe_event": event.get("id"), "payment_intent": payment_intent, "session_id": checkout["id"]}
    if event_type == REFUND_EVENT:
        base.update(charge=_id_of(stripe_object.get("id")), refunded_cents=stripe_object.get("amount_refunded"),
                    charge_amount_cents=stripe_object.get("amount"), charge_currency=stripe_object.get("currency"))
        if stripe_object.get("refunded") is not True:
            audit.record("stripe_partial_refund", None, target, **base, sale_status=sale["status"])
            return {"status": f"partial refund, sale left {sale['status']}", "sale_id": sale["id"]}
        status, reason = "refunded", f"Charge {base['charge']} was fully refunded at Stripe."
    else:
        dispute_status = str(stripe_object.get("status") or "")
        base.update(charge=_id_of(stripe_object.get("charge")), dispute=_id_of(stripe_object.get("id")),
                    dispute_status=dispute_status, dispute_reason=stripe_object.get("reason"),
                    dispute_amount_cents=stripe_object.get("amount"), dispute_currency=stripe_object.get("currency"))
        if dispute_status != "lost":
            audit.record("stripe_dispute_closed", None, target, **base, sale_status=sale["status"])
            return {"status": f"dispute {dispute_status or 'closed'}, sale left {sale['status']}",
                    "sale_id": sale["id"]}
        status, reason = "chargeback", f"Dispute {base['dispute']} ({base['dispute_reason']}) was lost."
    # The same first keys as an admin's revocation, so the audit trail reads alike.
    detail = {"status": status, "reason": reason, "provider": sale["provider"], "amount_cents": sale["amount_cents"],
              "currency": sale["currency"], "source": SOURCE, **base}
    if record_revocation(sale["id"], status, REVERSIBLE, None, detail):
        return {"status": status, "sale_id": sale["id"]}
    return {"status": f"already {sale_by_id(sale['id'])['status']}", "sale_id": sale["id"]}
