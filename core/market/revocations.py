"""Admins revoking a paid sale: refunded through Stripe (once, by one idempotency key per sale) or recorded
as a chargeback; either way the sale's download links stop working. Refunds and disputes settled outside
the app arrive through the webhooks instead (core.market.reversals).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import update
from sqlmodel import select

from core import audit
from core.auth import Principal, require_role
from core.market.checkout import CheckoutError
from core.market.stripe_gateway import PaymentProviderError, refund_checkout_payment
from core.store.models import AuditEvent, Listing, Sale, User
from core.store.sql import session_scope

# Statuses that are steps of a purchase, so a revocation may not set them (pending would even let
# the sale be fulfilled again).
PURCHASE_STATUSES = ("paid", "pending", "expired", "failed")
MAX_STATUS_CHARS = 20  # Sale.status column


def refund_idempotency_key(sale: dict) -> str:
    """The one Stripe idempotency key for refunding a sale: the same for every click and every retry."""
    return f"dbw-refund-{sale['id']}-{sale['provider_ref']}"


def sale_by_id(sale_id: int) -> dict | None:
    with session_scope() as session:
        sale = session.get(Sale, sale_id)
        return sale.model_dump() if sale else None


def record_revocation(sale_id: int, status: str, from_statuses: tuple[str, ...], user_id: int | None,
                      detail: dict) -> bool:
    """Set a sale's status, only while it is in `from_statuses`, and write its "sale_revoke" audit event in the
    same transaction; False (nothing written) when the sale had already moved on. user_id None: a webhook."""
    with session_scope() as session:
        changed = session.exec(update(Sale).where(Sale.id == sale_id, Sale.status.in_(from_statuses))
                               .values(status=status)).rowcount == 1
        if changed:
            session.add(AuditEvent(action="sale_revoke", user_id=user_id, target=f"sale:{sale_id}", detail=detail))
    return changed


def _not_revocable(sale: dict) -> str:
    if sale["status"] in PURCHASE_STATUSES:
        return f"Sale #{sale['id']} is {sale['status']}, not paid, so there is nothing to revoke."
    return (f"Sale #{sale['id']} is already {sale['status']}; nothing was changed "
            "(a sale is revoked, and refunded, at most once).")


def _stripe_event_that_revoked(sale_id: int) -> str | None:
    """The Stripe event id, when a webhook (core.market.reversals), not an admin, revoked the sale."""
    with session_scope() as session:
        revocation = session.exec(select(AuditEvent).where(AuditEvent.action == "sale_revoke",
                                                           AuditEvent.target == f"sale:{sale_id}")
                                  .order_by(AuditEvent.id.desc())).first()
        if revocation is None or revocation.user_id is not None:
            return None
        return (revocation.detail or {}).get("stripe_event") or None


def _refund_through_stripe(principal: Principal, sale: dict) -> dict:
    key = refund_idempotency_key(sale)
    metadata = {"sale_id": str(sale["id"]), "listing_id": str(sale["listing_id"]),
                "buyer_id": str(sale["buyer_id"])}
    try:
        refund = refund_checkout_payment(sale["provider_ref"], key, metadata)
    except PaymentProviderError as error:
        audit.record("sale_refund_failed", principal.id, f"sale:{sale['id']}", error=str(error)[:500],
                     idempotency_key=key)
        raise PaymentProviderError(
            f"{error} Sale #{sale['id']} is still paid and nothing was changed here. Revoking it again is safe: "
            "the retry uses the same idempotency key, so the buyer cannot be refunded twice.") from error
    return {**refund, "idempotency_key": key}


def revoke_sale(principal: Principal, sale_id: int, status: str = "refunded", reason: str = "") -> dict:
    """Admin: withdraw a paid sale; its download links stop working.

    status "refunded" on a Stripe sale first refunds the payment through Stripe, with one idempotency
    key per sale so a double click or a retry cannot refund twice; if Stripe fails, the sale stays
    paid and PaymentProviderError says why. Any other status (a chargeback: the bank has already
    returned the money) and ledger sales only record the status. Revoking a sale that is not paid
    raises CheckoutError. Returns the sale plus "refund_id" and "refund" (None without a Stripe refund).
    Refunds and lost disputes settled at Stripe reach sales through the webhook (core.market.reversals);
    if this refund's own charge.refunded event revokes the sale first, the revocation still succeeds.
    """
    require_role(principal, "admin", action="revoke sales")
    status = (status or "").strip().lower()
    if not status or len(status) > MAX_STATUS_CHARS or status in PURCHASE_STATUSES:
        raise CheckoutError(f"Revoking sets a status such as refunded or chargeback (at most {MAX_STATUS_CHARS} "
                            f"characters), not {', '.join(PURCHASE_STATUSES)}.")
    sale = sale_by_id(sale_id)
    if sale is None:
        raise CheckoutError(f"Sale #{sale_id} does not exist.")
    if sale["status"] != "paid":
        raise CheckoutError(_not_revocable(sale))
    refund = None
    if status == "refunded" and sale["provider"] == "stripe":  # a chargeback has already moved the money
        refund = _refund_through_stripe(principal, sale)
    detail = {"status": status, "reason": reason[:500], "provider": sale["provider"],
              "amount_cents": sale["amount_cents"], "currency": sale["currency"]}
    if refund:
        detail.update(refund_id=refund["refund_id"], refund_status=refund["status"],
                      refund_amount_cents=refund["amount_cents"], payment_intent=refund["payment_intent"],
                      idempotency_key=refund["idempotency_key"], already_refunded_at_stripe=refund["already_refunded"])
    # The status and its audit record (with the refund id) are written together, and only over a paid
    # sale: of two racing revocations one changes the sale; the other, refunded by the same key, changes nothing.
    changed = record_revocation(sale_id, status, ("paid",), principal.id, detail)
    current = sale_by_id(sale_id)
    if not changed:
        mirrored_by = _stripe_event_that_revoked(sale_id) if refund and current["status"] == "refunded" else None
        if mirrored_by:
            # This refund's own charge.refunded event reached the webhook receiver between Stripe's answer and
            # the UPDATE above, and revoked the sale already: the admin's revocation did happen, once.
            audit.record("sale_revoke_already_mirrored", principal.id, f"sale:{sale_id}", **detail,
                         stripe_event=mirrored_by)
            return {**current, "refund_id": refund["refund_id"], "refund": refund}
        if refund and current["status"] != "refunded":
            audit.record("sale_refund_conflict", principal.id, f"sale:{sale_id}", **detail,
                         recorded_status=current["status"])
            raise CheckoutError(f"Stripe refund {refund['refund_id']} was issued, but sale #{sale_id} was marked "
                                f"{current['status']} meanwhile; check the payment in the Stripe dashboard.")
        raise CheckoutError(_not_revocable(current))
    return {**current, "refund_id": refund["refund_id"] if refund else None, "refund": refund}


def recent_sales(principal: Principal, limit: int = 100) -> pd.DataFrame:
    """Admin: the newest sales of every buyer, newest first."""
    require_role(principal, "admin", action="see all sales")
    query = (select(Sale, Listing.title, User.email)
             .join(Listing, Listing.id == Sale.listing_id)
             .join(User, User.id == Sale.buyer_id)
             .order_by(Sale.id.desc()).limit(limit))
    columns = ["sale_id", "listing_id", "listing", "buyer", "amount_cents", "currency", "provider", "status",
               "created_at"]
    with session_scope() as session:
        rows = [{"sale_id": sale.id, "listing": title, "buyer": email,
                 **sale.model_dump(include=set(columns))}
                for sale, title, email in session.exec(query)]
    return pd.DataFrame(rows, columns=columns)
