"""Purchases: the internal ledger (free listings, or no Stripe key) and Stripe Checkout.

Every path is safe to repeat. A double click reuses one pending Sale and therefore one Stripe
idempotency key, so Stripe hands back the same Checkout Session; fulfilment flips a Sale to paid
with a conditional UPDATE, so the return page and the webhook can both arrive and only one wins.
Admins revoke sales in core.market.revocations; refunds and lost disputes settled outside the app are
mirrored onto sales by core.market.reversals.
"""

from __future__ import annotations

import uuid

import pandas as pd
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core import audit
from core.auth import PermissionDenied, Principal, require_role
from core.config import get_settings
from core.market.stripe_gateway import (
    PaymentProviderError,
    create_checkout_session,
    retrieve_checkout_session,
    stripe_enabled,
)
from core.market.tiers import DEFAULT_TIER, TierError, tier_for_purchase
from core.store.models import DataPackage, Listing, Sale, utcnow
from core.store.models_market_extras import SaleTier
from core.store.sql import session_scope

# Ledger references are uuid5(namespace, buyer:listing:attempt): deterministic, so two racing
# clicks produce the same reference and the unique (provider, provider_ref) constraint admits one.
LEDGER_NAMESPACE = uuid.UUID("6f1d2c3e-52a4-4f0e-9a57-3b8e1d7c9a10")
# A Stripe sale waiting for its session id; one per (buyer, listing) by the same unique constraint.
PENDING_PREFIX = "pending:"
FULFILLABLE = ("pending", "expired")


class CheckoutError(ValueError):
    """A purchase that cannot go ahead; the message says why."""


class UnmatchedPayment(CheckoutError):
    """A paid Checkout Session that no sale here created (another app on the account, a CLI trigger)."""


def paid_sale(buyer_id: int, listing_id: int) -> dict | None:
    with session_scope() as session:
        sale = session.exec(select(Sale).where(Sale.buyer_id == buyer_id, Sale.listing_id == listing_id,
                                               Sale.status == "paid").order_by(Sale.id)).first()
        return sale.model_dump() if sale else None


def _owned(sale: dict) -> dict:
    return {"status": "already owned", "sale_id": sale["id"], "provider": sale["provider"]}


def _offer(principal: Principal, listing_id: int, tier_name: str | None = None) -> dict:
    """What is for sale (the chosen licence tier at its price), after the checks that do not depend on the
    buyer's earlier purchases."""
    with session_scope() as session:
        listing = session.get(Listing, listing_id)
        if listing is None:
            raise CheckoutError(f"Listing #{listing_id} does not exist.")
        if listing.seller_id == principal.id:
            raise PermissionDenied("You cannot buy your own listing.")
        try:
            tier = tier_for_purchase(session, listing, tier_name)
        except TierError as error:
            raise CheckoutError(str(error)) from None
        package = session.get(DataPackage, listing.package_id)
        return {"listing_id": listing.id, "package_id": listing.package_id, "title": listing.title,
                "price_cents": tier["price_cents"], "currency": listing.currency, "tier": tier,
                "listed": listing.status == "listed",
                "package_available": package is not None and package.status == "published"}


def start_purchase(principal: Principal, listing_id: int, tier: str | None = None) -> dict:
    """Buy a listing under one of its licence tiers (None: its only tier):
    {"status": "paid" | "already owned" | "redirect" | "pending", "sale_id", ...}. A buyer holds one
    purchase per listing, whichever tier it was."""
    require_role(principal, "buyer", "admin", action="buy datasets")
    owned = paid_sale(principal.id, listing_id)
    if owned:
        return _owned(owned)
    offer = _offer(principal, listing_id, tier)
    if not offer["listed"]:
        raise CheckoutError("This listing is no longer on sale.")
    if not offer["package_available"]:
        raise CheckoutError("The package behind this listing is not available; the seller has been notified.")
    if offer["price_cents"] == 0 or not stripe_enabled():
        return _ledger_purchase(principal, offer)
    return _stripe_purchase(principal, offer)


def _insert_sale(buyer_id: int, offer: dict, provider: str, reference: str, status: str) -> int:
    with session_scope() as session:
        sale = Sale(listing_id=offer["listing_id"], package_id=offer["package_id"], buyer_id=buyer_id,
                    amount_cents=offer["price_cents"], currency=offer["currency"], provider=provider,
                    provider_ref=reference, status=status,
                    fulfilled_at=utcnow() if status == "paid" else None)
        session.add(sale)
        session.flush()
        # A copy of the tier bought, so editing the listing's tiers later never changes this buyer's licence.
        tier = offer["tier"]
        session.add(SaleTier(sale_id=sale.id, tier_name=tier["name"], license=tier["license"], terms=tier["terms"],
                             price_cents=offer["price_cents"]))
        return sale.id


def _ledger_purchase(principal: Principal, offer: dict) -> dict:
    with session_scope() as session:
        # Only earlier sales that are no longer paid (refunded) count, so a concurrent paid sale
        # does not move this attempt on to a fresh reference.
        attempt = session.exec(select(func.count(Sale.id)).where(
            Sale.buyer_id == principal.id, Sale.listing_id == offer["listing_id"], Sale.provider == "ledger",
            Sale.status != "paid")).one()
    reference = str(uuid.uuid5(LEDGER_NAMESPACE, f"{principal.id}:{offer['listing_id']}:{attempt}"))
    try:
        sale_id = _insert_sale(principal.id, offer, "ledger", reference, status="paid")
    except IntegrityError:
        owned = paid_sale(principal.id, offer["listing_id"])
        if owned:
            return _owned(owned)
        raise CheckoutError("Another purchase of this listing was recorded at the same moment; "
                            "try again.") from None
    audit.record("purchase", principal.id, f"sale:{sale_id}", listing_id=offer["listing_id"],
                 provider="ledger", amount_cents=offer["price_cents"], currency=offer["currency"])
    return {"status": "paid", "sale_id": sale_id, "provider": "ledger"}


def _session_params(offer: dict, buyer_id: int, sale_id: int) -> dict:
    base = get_settings().public_base_url.rstrip("/")
    return {
        "mode": "payment",
        "line_items": [{"price_data": {"currency": offer["currency"], "unit_amount": offer["price_cents"],
                                       "product_data": {"name": _product_name(offer)}},
                        "quantity": 1}],
        # {CHECKOUT_SESSION_ID} is a literal placeholder that Stripe fills in on redirect.
        "success_url": f"{base}/marketplace?checkout_session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{base}/marketplace?checkout_cancelled={offer['listing_id']}",
        "client_reference_id": str(sale_id),
        "metadata": {"listing_id": str(offer["listing_id"]), "buyer_id": str(buyer_id),
                     "package_id": str(offer["package_id"])},
    }


def _product_name(offer: dict) -> str:
    tier = offer["tier"]["name"]
    return offer["title"][:250] if tier == DEFAULT_TIER else f"{offer['title'][:200]} ({tier} licence)"


def _pending_tier(sale_id: int) -> str | None:
    with session_scope() as session:
        return session.exec(select(SaleTier.tier_name).where(SaleTier.sale_id == sale_id)).first()


def _pending_stripe_sale(buyer_id: int, listing_id: int) -> dict | None:
    with session_scope() as session:
        sale = session.exec(select(Sale).where(Sale.buyer_id == buyer_id, Sale.listing_id == listing_id,
                                               Sale.provider == "stripe", Sale.status == "pending")
                            .order_by(Sale.id.desc())).first()
        return sale.model_dump() if sale else None


def _claim_pending_sale(buyer_id: int, offer: dict) -> int:
    placeholder = f"{PENDING_PREFIX}{buyer_id}:{offer['listing_id']}"
    try:
        return _insert_sale(buyer_id, offer, "stripe", placeholder, status="pending")
    except IntegrityError:  # the other click of a double click got here first: share its sale
        with session_scope() as session:
            sale_id = session.exec(select(Sale.id).where(Sale.provider == "stripe",
                                                         Sale.provider_ref == placeholder)).first()
        if sale_id is not None:
            return sale_id
        # The other click has already swapped its placeholder for the Checkout session id: it is the pending one.
        pending = _pending_stripe_sale(buyer_id, offer["listing_id"])
        if pending is None:
            raise
        return pending["id"]


def _set_sale_fields(sale_id: int, only_if, **values) -> bool:
    with session_scope() as session:
        result = session.exec(update(Sale).where(Sale.id == sale_id, only_if).values(**values))
        return result.rowcount == 1


def _redirect(sale_id: int, checkout: dict) -> dict:
    return {"status": "redirect", "url": checkout["url"], "sale_id": sale_id, "session_id": checkout["id"]}


def _stripe_purchase(principal: Principal, offer: dict) -> dict:
    pending = _pending_stripe_sale(principal.id, offer["listing_id"])
    if pending and not pending["provider_ref"].startswith(PENDING_PREFIX):
        checkout = retrieve_checkout_session(pending["provider_ref"])
        other_tier = _pending_tier(pending["id"])
        if checkout.get("status") == "open" and other_tier not in (None, offer["tier"]["name"]):
            raise CheckoutError(f"Your checkout for the '{other_tier}' tier of this listing is still open; pay it "
                                "there, or choose that tier again to return to it (Stripe closes an unpaid "
                                "checkout after 24 hours).")
        if checkout.get("status") == "open":
            return _redirect(pending["id"], checkout)
        if checkout.get("status") == "complete":
            outcome = fulfil_checkout_session(checkout["id"])
            status = "paid" if outcome["status"] in ("fulfilled", "already fulfilled") else "pending"
            return {"status": status, "sale_id": pending["id"], "provider": "stripe"}
        # An abandoned session has expired at Stripe: retire its sale so the next one gets a new key.
        _set_sale_fields(pending["id"], Sale.status == "pending", status="expired")
        pending = None
    sale_id = pending["id"] if pending else _claim_pending_sale(principal.id, offer)
    idempotency_key = f"dbw-checkout-{principal.id}-{offer['listing_id']}-{sale_id}"
    try:
        checkout = create_checkout_session(_session_params(offer, principal.id, sale_id), idempotency_key)
    except PaymentProviderError:
        # Stripe keeps a failed answer under its idempotency key for a day; retiring this sale (and
        # freeing its placeholder) lets the buyer's next click start over with a fresh key.
        _set_sale_fields(sale_id, Sale.status == "pending", status="failed", provider_ref=f"failed:{sale_id}")
        raise
    _set_sale_fields(sale_id, Sale.provider_ref.startswith(PENDING_PREFIX), provider_ref=checkout["id"])
    audit.record("checkout_start", principal.id, f"sale:{sale_id}", listing_id=offer["listing_id"],
                 session_id=checkout["id"], amount_cents=offer["price_cents"], currency=offer["currency"])
    return _redirect(sale_id, checkout)


def sale_for_session(checkout: dict) -> dict | None:
    """The sale that created a Checkout Session (a Stripe session object), whatever its status."""
    with session_scope() as session:
        sale = session.exec(select(Sale).where(Sale.provider == "stripe",
                                               Sale.provider_ref == checkout["id"])).first()
        reference = str(checkout.get("client_reference_id") or "")
        if sale is None and reference.isdigit():
            candidate = session.get(Sale, int(reference))
            # A crash between creating the session and storing its id leaves the sale on its
            # placeholder; match it by reference only then, and only for the same buyer.
            buyer = str((checkout.get("metadata") or {}).get("buyer_id", ""))
            if (candidate is not None and candidate.provider == "stripe"
                    and candidate.provider_ref.startswith(PENDING_PREFIX)
                    and str(candidate.buyer_id) == buyer):
                sale = candidate
        return sale.model_dump() if sale else None


def fulfil_checkout_session(session_id: str) -> dict:
    """Mark the sale behind a paid Checkout Session paid, exactly once.

    Returns {"status", "sale_id", "payment_status"}; status is "fulfilled", "already fulfilled",
    "unpaid", or the sale's own status when it was revoked meanwhile.
    """
    if not isinstance(session_id, str) or not session_id.startswith("cs_"):
        raise CheckoutError("That is not a Stripe Checkout session id (it should start with cs_).")
    checkout = retrieve_checkout_session(session_id)
    sale = sale_for_session(checkout)
    payment_status = checkout.get("payment_status")
    result = {"sale_id": sale["id"] if sale else None, "payment_status": payment_status}
    if payment_status != "paid":
        return {**result, "status": "unpaid"}
    if sale is None:
        audit.record("stripe_unmatched_payment", None, session_id, metadata=checkout.get("metadata") or {})
        raise UnmatchedPayment(f"Payment {session_id} matches no purchase on record; "
                               "an admin has been alerted.")
    if sale["status"] == "paid":
        return {**result, "status": "already fulfilled"}
    if sale["status"] not in FULFILLABLE:
        return {**result, "status": sale["status"]}
    charged = (checkout.get("amount_total"), str(checkout.get("currency") or "").lower())
    if charged != (sale["amount_cents"], sale["currency"]):
        audit.record("stripe_amount_mismatch", sale["buyer_id"], f"sale:{sale['id']}", session_id=session_id,
                     charged=list(charged), expected=[sale["amount_cents"], sale["currency"]])
        raise CheckoutError(f"Payment {session_id} does not match the price of the purchase; "
                            "an admin has been alerted.")
    if not _set_sale_fields(sale["id"], Sale.status.in_(FULFILLABLE), status="paid", fulfilled_at=utcnow(),
                            provider_ref=session_id):
        # The webhook and the return page raced and the other one won.
        return {**result, "status": "already fulfilled"}
    audit.record("purchase", sale["buyer_id"], f"sale:{sale['id']}", listing_id=sale["listing_id"],
                 provider="stripe", session_id=session_id, amount_cents=sale["amount_cents"],
                 currency=sale["currency"])
    return {**result, "status": "fulfilled"}


def purchases(principal: Principal) -> pd.DataFrame:
    """The signed-in user's purchases, newest first."""
    query = (select(Sale, Listing.title, DataPackage.name, DataPackage.version)
             .join(Listing, Listing.id == Sale.listing_id)
             .join(DataPackage, DataPackage.id == Sale.package_id)
             .where(Sale.buyer_id == principal.id).order_by(Sale.id.desc()))
    columns = ["sale_id", "listing_id", "title", "package_id", "package_name", "package_version",
               "amount_cents", "currency", "provider", "status", "created_at", "fulfilled_at"]
    with session_scope() as session:
        rows = [{"sale_id": sale.id, "title": title, "package_name": name, "package_version": version,
                 **sale.model_dump(include=set(columns))}
                for sale, title, name, version in session.exec(query)]
    return pd.DataFrame(rows, columns=columns)
