"""The only module that talks to Stripe's API: Checkout Sessions in, plain dicts out.

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


def stripe_enabled(settings: Settings | None = None) -> bool:
    return bool((settings or get_settings()).stripe_secret_key)


def _client(settings: Settings) -> stripe.StripeClient:
    if not settings.stripe_secret_key:
        raise PaymentProviderError("Card payments are not configured (STRIPE_SECRET_KEY is not set).")
    base_addresses = {"api": settings.stripe_api_base.rstrip("/")} if settings.stripe_api_base else None
    return stripe.StripeClient(settings.stripe_secret_key, base_addresses=base_addresses,
                               max_network_retries=NETWORK_RETRIES,
                               http_client=stripe.RequestsClient(timeout=REQUEST_TIMEOUT_S))


def _failure(action: str, error: stripe.StripeError) -> PaymentProviderError:
    detail = error.user_message or str(error) or type(error).__name__
    return PaymentProviderError(f"Stripe could not {action}: {detail}. Try again in a moment.")


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
    except stripe.StripeError as error:
        raise _failure(f"look up checkout session {session_id}", error) from error
