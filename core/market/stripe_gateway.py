"""The only module that talks to Stripe's API: Checkout Sessions and refunds in, plain dicts out.

Uses the official library's StripeClient; STRIPE_API_BASE (settings.stripe_api_base) points it at
another server, which is how the tests run against a local stand-in instead of api.stripe.com.
"""

from __future__ import annotations

import stripe

from core.config import Settings, get_settings

# Checkout redirects the buyer's browser; a hung request would leave the Buy button spinning for
# the library's 80 s default, so fail sooner and let the buyer click again (same idempotency key).
REQUEST_TIMEOUT_S = 20
NETWORK_RETRIES = 2


class PaymentProviderError(RuntimeError):
    """Stripe could not be reached or refused the request; the message is safe to show."""


class UnknownCheckoutSession(PaymentProviderError):
    """Stripe answered that no Checkout Session has this id (for this API key): asking again will not help."""


def stripe_enabled(settings: Settings | None = None) -> bool:
    return bool((settings or get_settings()).stripe_secret_key)


def _client(settings: Settings) -> stripe.StripeClient:
    if not settings.stripe_secret_key:
        raise PaymentProviderError("Card payments are not configured (STRIPE_SECRET_KEY is not set).")
    base_addresses = {"api": settings.stripe_api_base.rstrip("/")} if settings.stripe_api_base else None
    return stripe.StripeClient(settings.stripe_secret_key, base_addresses=base_addresses,
                               max_network_retries=NETWORK_RETRIES,
                               http_client=stripe.RequestsClient(timeout=REQUEST_TIMEOUT_S))


def _failure(action: str, error: stripe.StripeError, hint: str = "Try again in a moment.") -> PaymentProviderError:
    if isinstance(error, stripe.APIConnectionError):  # its own message is several lines about urllib3
        detail = "Stripe's API could not be reached (network error or timeout)"
    else:
        detail = (error.user_message or str(error) or type(error).__name__).rstrip(".")
    return PaymentProviderError(f"Stripe could not {action}: {detail}. {hint}".strip())


def create_checkout_session(params: dict, idempotency_key: str, settings: Settings | None = None) -> dict:
    """Create a Checkout Session; the same key returns the same session instead of a second one."""
    client = _client(settings or get_settings())
    try:
        session = client.v1.checkout.sessions.create(params=params,
                                                     options={"idempotency_key": idempotency_key})
    except stripe.StripeError as error:
        raise _failure("start the checkout", error) from error
    return session.to_dict()


def retrieve_checkout_session(session_id: str, settings: Settings | None = None) -> dict:
    client = _client(settings or get_settings())
    try:
        return client.v1.checkout.sessions.retrieve(session_id).to_dict()
    except stripe.InvalidRequestError as error:
        if error.code == "resource_missing":
            raise UnknownCheckoutSession(f"Stripe knows no checkout session {session_id}.") from error
        raise _failure(f"look up checkout session {session_id}", error) from error
    except stripe.StripeError as error:
        raise _failure(f"look up checkout session {session_id}", error) from error


def checkout_session_of_payment(payment_intent: str, settings: Settings | None = None) -> dict | None:
    """The Checkout Session that took a PaymentIntent, or None when no session did (a payment made elsewhere)."""
    client = _client(settings or get_settings())
    try:
        listed = client.v1.checkout.sessions.list(params={"payment_intent": payment_intent, "limit": 1}).to_dict()
    except stripe.StripeError as error:
        raise _failure(f"look up the checkout session of payment {payment_intent}", error) from error
    sessions = listed.get("data") or []
    return sessions[0] if sessions else None


# Refund statuses meaning Stripe accepted the refund: the money is back with the buyer or on its way.
REFUND_ISSUED = ("succeeded", "pending", "requires_action")


def _payment_intent_of(client: stripe.StripeClient, reference: str) -> str:
    if reference.startswith("pi_"):
        return reference
    if not reference.startswith("cs_"):
        raise PaymentProviderError(f"{reference!r} is neither a Checkout Session (cs_) nor a PaymentIntent (pi_).")
    try:
        checkout = client.v1.checkout.sessions.retrieve(reference).to_dict()
    except stripe.StripeError as error:
        raise _failure(f"look up checkout session {reference}", error) from error
    intent = checkout.get("payment_intent")
    intent = intent.get("id") if isinstance(intent, dict) else intent
    if not intent:
        raise PaymentProviderError(f"Checkout session {reference} has no payment to refund "
                                   f"(payment status {checkout.get('payment_status')}).")
    return intent


def _refund_summary(refund: dict, already_refunded: bool) -> dict:
    return {"refund_id": refund["id"], "status": refund.get("status"), "amount_cents": refund.get("amount"),
            "currency": refund.get("currency"), "payment_intent": refund.get("payment_intent"),
            "already_refunded": already_refunded}


def _existing_refund(client: stripe.StripeClient, intent: str) -> dict:
    """The newest live refund of a payment that Stripe says is fully refunded (say, from the dashboard)."""
    try:
        listed = client.v1.refunds.list(params={"payment_intent": intent, "limit": 10}).to_dict()
    except stripe.StripeError as error:
        raise _failure(f"list the refunds of payment {intent}", error) from error
    for refund in listed.get("data") or []:
        if refund.get("status") in REFUND_ISSUED:
            return refund
    raise PaymentProviderError(f"Stripe says payment {intent} is already refunded but lists no refund for it; "
                               "check it in the Stripe dashboard.")


def refund_checkout_payment(reference: str, idempotency_key: str, metadata: dict | None = None,
                            settings: Settings | None = None) -> dict:
    """Refund what is left of a Checkout payment (reference: its cs_ session or pi_ PaymentIntent id).

    The same idempotency key returns the first refund instead of a second one; a payment that is
    already fully refunded at Stripe returns its newest refund with already_refunded=True.
    Returns {"refund_id", "status", "amount_cents", "currency", "payment_intent", "already_refunded"}.
    """
    client = _client(settings or get_settings())
    intent = _payment_intent_of(client, reference)
    # Only values fixed by the sale go to Stripe: a retry must send the same parameters as the first try,
    # or Stripe refuses the idempotency key.
    params = {"payment_intent": intent, "reason": "requested_by_customer"}
    if metadata:
        params["metadata"] = metadata
    try:
        refund = client.v1.refunds.create(params=params, options={"idempotency_key": idempotency_key}).to_dict()
    except stripe.InvalidRequestError as error:
        if error.code != "charge_already_refunded":
            raise _failure(f"refund payment {intent}", error, hint="") from error
        return _refund_summary(_existing_refund(client, intent), already_refunded=True)
    except stripe.StripeError as error:
        raise _failure(f"refund payment {intent}", error, hint="") from error
    if refund.get("status") not in REFUND_ISSUED:
        reason = refund.get("failure_reason") or "no reason given"
        raise PaymentProviderError(f"Stripe could not refund payment {intent}: refund {refund['id']} is "
                                   f"{refund.get('status')} ({reason}).")
    return _refund_summary(refund, already_refunded=False)
