"""Stripe Checkout and webhooks against a local stand-in for Stripe's API (tests/fake_stripe.py).

Webhook deliveries are signed here with the documented scheme, independently of the library:
Stripe-Signature: t=<unix time>,v1=hex(HMAC-SHA256(secret, f"{t}.{payload}")).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from fake_stripe import FakeStripe
from sqlmodel import select
from test_market import make_listing, make_user, sales_of

from core.config import reset_settings_cache
from core.market.checkout import CheckoutError, fulfil_checkout_session, start_purchase
from core.market.stripe_gateway import PaymentProviderError
from core.market.tokens import issue_download_token, redeem_download_token
from core.market.webhooks import EVENT_ACTION, handle_webhook, serve_webhooks
from core.store.models import AuditEvent, Sale
from core.store.sql import session_scope

WEBHOOK_SECRET = "whsec_test_" + "k" * 32
PROJECT_ROOT = Path(__file__).resolve().parent.parent
PUBLIC_BASE_URL = "http://127.0.0.1:8501"


@pytest.fixture
def fake_stripe(monkeypatch):
    """Stripe settings pointing at a fresh fake; store fixtures (workbench / sql_url) come from the test."""
    fake = FakeStripe().start()
    settings = {"STRIPE_SECRET_KEY": "sk_test_fake_key", "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "STRIPE_API_BASE": fake.base_url, "PUBLIC_BASE_URL": PUBLIC_BASE_URL}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    yield fake
    fake.stop()
    for name in settings:
        monkeypatch.delenv(name)
    reset_settings_cache()


def paid_listing(tmp_path, price_cents: int = 1999) -> dict:
    supplier, buyer = make_user("supplier"), make_user("buyer")
    listing = make_listing(supplier, tmp_path / "pkg", price_cents=price_cents, title="Premium news")
    return {"supplier": supplier, "buyer": buyer, "listing": listing}


@pytest.fixture
def shop(workbench, fake_stripe, tmp_path):
    return {**paid_listing(tmp_path), "fake": fake_stripe}


def signed(event: dict, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> tuple[bytes, str]:
    payload = json.dumps(event)
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return payload.encode(), f"t={timestamp},v1={signature}"


def event_for(session: dict, event_type: str = "checkout.session.completed") -> dict:
    return {"id": f"evt_test_{secrets.token_hex(12)}", "object": "event", "type": event_type,
            "api_version": "2025-01-27.acacia", "created": int(time.time()), "livemode": False,
            "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
            "data": {"object": session}}


def audit_rows(action: str, target: str) -> list[dict]:
    with session_scope() as session:
        return [row.model_dump() for row in session.exec(
            select(AuditEvent).where(AuditEvent.action == action, AuditEvent.target == target))]


def only_sale(shop: dict) -> dict:
    [sale] = sales_of(shop["buyer"].id, shop["listing"]["id"])
    return sale


def test_checkout_session_carries_the_purchase(shop):
    result = start_purchase(shop["buyer"], shop["listing"]["id"])
    assert result["status"] == "redirect" and result["url"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    sale = only_sale(shop)
    assert (sale["id"], sale["status"], sale["provider"]) == (result["sale_id"], "pending", "stripe")
    assert sale["provider_ref"] == result["session_id"] and sale["provider_ref"].startswith("cs_test_")
    [params] = shop["fake"].create_params
    assert params["mode"] == "payment"
    assert params["line_items"] == {"0": {"price_data": {"currency": "usd", "unit_amount": "1999",
                                                         "product_data": {"name": "Premium news"}},
                                          "quantity": "1"}}
    success_url = f"{PUBLIC_BASE_URL}/marketplace?checkout_session_id={{CHECKOUT_SESSION_ID}}"
    assert params["success_url"] == success_url
    assert params["cancel_url"].startswith(f"{PUBLIC_BASE_URL}/marketplace")
    assert params["client_reference_id"] == str(sale["id"])
    assert params["metadata"] == {"listing_id": str(shop["listing"]["id"]), "buyer_id": str(shop["buyer"].id),
                                  "package_id": str(shop["listing"]["package_id"])}
    [key] = shop["fake"].idempotency_keys
    assert key and str(sale["id"]) in key


def test_double_click_never_creates_two_sessions(shop):
    fake, buyer, listing_id = shop["fake"], shop["buyer"], shop["listing"]["id"]
    results, barrier = [], threading.Barrier(3)

    def click():
        barrier.wait()
        results.append(start_purchase(buyer, listing_id))

    threads = [threading.Thread(target=click) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fake.sessions) == 1 and len({r["url"] for r in results}) == 1
    assert len(set(fake.idempotency_keys)) == 1
    # The process died after Stripe answered but before the session id was stored: the retry must
    # send the same key, and Stripe answers with the same session.
    sale = only_sale(shop)
    with session_scope() as session:
        row = session.get(Sale, sale["id"])
        row.provider_ref = f"pending:{buyer.id}:{listing_id}"
        session.add(row)
    again = start_purchase(buyer, listing_id)
    assert again["url"] == results[0]["url"] and len(fake.sessions) == 1
    assert fake.idempotency_keys[-1] == fake.idempotency_keys[0]
    assert only_sale(shop)["provider_ref"] == again["session_id"]


def test_return_path_fulfils_once_then_already_owned(shop):
    fake, buyer, listing_id = shop["fake"], shop["buyer"], shop["listing"]["id"]
    session_id = start_purchase(buyer, listing_id)["session_id"]
    assert fulfil_checkout_session(session_id)["status"] == "unpaid"
    fake.mark_paid(session_id)
    first = fulfil_checkout_session(session_id)
    assert (first["status"], first["payment_status"]) == ("fulfilled", "paid")
    assert fulfil_checkout_session(session_id)["status"] == "already fulfilled"
    sale = only_sale(shop)
    assert sale["status"] == "paid" and sale["fulfilled_at"] is not None
    assert start_purchase(buyer, listing_id) == {"status": "already owned", "sale_id": sale["id"],
                                                 "provider": "stripe"}
    assert len(audit_rows("purchase", f"sale:{sale['id']}")) == 1
    token = issue_download_token(buyer, sale["id"])
    assert redeem_download_token(buyer, token)["sale_id"] == sale["id"]
    with pytest.raises(CheckoutError, match="cs_"):
        fulfil_checkout_session("pi_123")


def test_webhook_fulfils_once_and_replays_are_no_ops(shop):
    session_id = start_purchase(shop["buyer"], shop["listing"]["id"])["session_id"]
    event = event_for(shop["fake"].mark_paid(session_id))
    payload, signature = signed(event)
    assert handle_webhook(payload, signature) == (200, "checkout.session.completed: fulfilled")
    assert only_sale(shop)["status"] == "paid"
    fulfilled_at = only_sale(shop)["fulfilled_at"]
    status, message = handle_webhook(payload, signature)  # Stripe redelivers the same event
    assert status == 200 and "already processed" in message
    assert handle_webhook(*signed(event)) == (200, f"Event {event['id']} was already processed.")
    assert only_sale(shop)["fulfilled_at"] == fulfilled_at
    assert len(audit_rows(EVENT_ACTION, event["id"])) == 1
    assert len(audit_rows("purchase", f"sale:{only_sale(shop)['id']}")) == 1


def test_bad_or_stale_signatures_are_refused(shop):
    session_id = start_purchase(shop["buyer"], shop["listing"]["id"])["session_id"]
    event = event_for(shop["fake"].mark_paid(session_id))
    payload, good = signed(event)
    tampered = payload.replace(b'"livemode": false', b'"livemode": true')
    stale_payload, stale = signed(event, timestamp=int(time.time()) - 301)
    attempts = [(payload, signed(event, secret="whsec_wrong")[1]), (tampered, good), (payload, ""),
                (payload, "t=abc,v1=zz"), (stale_payload, stale), (b"\xff\xfe not json", good)]
    for body, header in attempts:
        status, _ = handle_webhook(body, header)
        assert status == 400, header
    assert only_sale(shop)["status"] == "pending"
    assert audit_rows(EVENT_ACTION, event["id"]) == []
    # Within the 300 s tolerance the same event is accepted.
    assert handle_webhook(*signed(event, timestamp=int(time.time()) - 200))[0] == 200


def test_return_path_and_webhook_both_arriving_fulfil_once(sql_url, fake_stripe, tmp_path):
    shop = {**paid_listing(tmp_path), "fake": fake_stripe}
    session_id = start_purchase(shop["buyer"], shop["listing"]["id"])["session_id"]
    paid_session = fake_stripe.mark_paid(session_id)
    deliveries = [signed(event_for(paid_session)) for _ in range(2)]  # two distinct events, same session
    outcomes, barrier = [], threading.Barrier(4)

    def return_page():
        barrier.wait()
        outcomes.append(fulfil_checkout_session(session_id)["status"])

    def webhook(delivery):
        barrier.wait()
        outcomes.append(handle_webhook(*delivery)[1].split(": ")[-1])

    threads = [threading.Thread(target=return_page), threading.Thread(target=return_page),
               *(threading.Thread(target=webhook, args=(d,)) for d in deliveries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already fulfilled"] * 3 + ["fulfilled"]
    sale = only_sale(shop)
    assert sale["status"] == "paid"
    assert len(audit_rows("purchase", f"sale:{sale['id']}")) == 1


def test_clicking_buy_after_paying_fulfils_instead_of_a_new_checkout(shop):
    first = start_purchase(shop["buyer"], shop["listing"]["id"])
    shop["fake"].mark_paid(first["session_id"])
    again = start_purchase(shop["buyer"], shop["listing"]["id"])
    assert again == {"status": "paid", "sale_id": first["sale_id"], "provider": "stripe"}
    assert len(shop["fake"].sessions) == 1 and only_sale(shop)["status"] == "paid"


def test_paid_session_created_elsewhere_is_acknowledged_not_fulfilled(shop):
    stranger = shop["fake"].handle_post("/v1/checkout/sessions", "mode=payment&success_url=x&"
                                        "line_items[0][price_data][currency]=usd&"
                                        "line_items[0][price_data][unit_amount]=500&line_items[0][quantity]=1",
                                        "other-app-key")[1]
    event = event_for(shop["fake"].mark_paid(stranger["id"]))
    assert handle_webhook(*signed(event)) == (200, "checkout.session.completed: not a workbench purchase")
    assert len(audit_rows("stripe_unmatched_payment", stranger["id"])) == 1
    assert sales_of(shop["buyer"].id, shop["listing"]["id"]) == []


def test_other_events_are_acknowledged_and_ignored(shop):
    event = event_for({"id": "pi_test_1", "object": "payment_intent"}, event_type="payment_intent.created")
    assert handle_webhook(*signed(event)) == (200, "payment_intent.created: ignored")


def test_completed_but_unpaid_waits_for_async_payment(shop):
    fake = shop["fake"]
    session_id = start_purchase(shop["buyer"], shop["listing"]["id"])["session_id"]
    fake.sessions[session_id]["status"] = "complete"  # bank debit: completed, payment still processing
    unpaid = event_for(dict(fake.sessions[session_id]))
    assert handle_webhook(*signed(unpaid)) == (200, "checkout.session.completed: unpaid")
    assert only_sale(shop)["status"] == "pending"
    succeeded = event_for(fake.mark_paid(session_id), "checkout.session.async_payment_succeeded")
    assert handle_webhook(*signed(succeeded)) == (200, "checkout.session.async_payment_succeeded: fulfilled")
    assert only_sale(shop)["status"] == "paid"


def test_expired_session_gets_a_fresh_checkout(shop):
    fake = shop["fake"]
    first = start_purchase(shop["buyer"], shop["listing"]["id"])
    fake.expire(first["session_id"])
    second = start_purchase(shop["buyer"], shop["listing"]["id"])
    assert second["status"] == "redirect" and second["session_id"] != first["session_id"]
    assert second["sale_id"] != first["sale_id"] and len(set(fake.idempotency_keys)) == 2
    statuses = {s["id"]: s["status"] for s in sales_of(shop["buyer"].id, shop["listing"]["id"])}
    assert statuses == {first["sale_id"]: "expired", second["sale_id"]: "pending"}


def test_stripe_outage_is_reported_and_the_next_click_starts_over(shop):
    fake = shop["fake"]
    fake.fail_next_create = True
    with pytest.raises(PaymentProviderError, match="Stripe could not start the checkout"):
        start_purchase(shop["buyer"], shop["listing"]["id"])
    [failed] = sales_of(shop["buyer"].id, shop["listing"]["id"])
    assert failed["status"] == "failed"
    retry = start_purchase(shop["buyer"], shop["listing"]["id"])
    assert retry["status"] == "redirect" and len(fake.sessions) == 1
    assert fake.idempotency_keys[0] != fake.idempotency_keys[1]


def test_payment_for_a_different_amount_is_not_fulfilled(shop):
    session_id = start_purchase(shop["buyer"], shop["listing"]["id"])["session_id"]
    shop["fake"].sessions[session_id]["amount_total"] = 1
    shop["fake"].mark_paid(session_id)
    with pytest.raises(CheckoutError, match="does not match the price"):
        fulfil_checkout_session(session_id)
    assert only_sale(shop)["status"] == "pending"
    assert len(audit_rows("stripe_amount_mismatch", f"sale:{only_sale(shop)['id']}")) == 1


def test_webhook_needs_a_configured_secret(shop, monkeypatch):
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "")
    reset_settings_cache()
    status, message = handle_webhook(*signed(event_for({"id": "cs_test_x"})))
    assert status == 503 and "STRIPE_WEBHOOK_SECRET" in message


def test_http_receiver(shop):
    server = serve_webhooks("127.0.0.1", 0, in_thread=True)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        session_id = start_purchase(shop["buyer"], shop["listing"]["id"])["session_id"]
        payload, signature = signed(event_for(shop["fake"].mark_paid(session_id)))
        bad = requests.post(f"{base}/stripe/webhook", data=payload, headers={"Stripe-Signature": "t=1,v1=00"},
                            timeout=10)
        assert bad.status_code == 400 and only_sale(shop)["status"] == "pending"
        good = requests.post(f"{base}/stripe/webhook", data=payload, headers={"Stripe-Signature": signature},
                             timeout=10)
        assert good.status_code == 200 and "fulfilled" in good.text
        assert only_sale(shop)["status"] == "paid"
        assert requests.get(f"{base}/stripe/webhook", timeout=10).status_code == 405
        assert requests.post(f"{base}/elsewhere", data=payload, timeout=10).status_code == 404
        assert requests.get(f"{base}/healthz", timeout=10).text.strip() == "ok"
    finally:
        server.shutdown()
        server.server_close()


def test_receiver_runs_as_a_module(shop):
    # The child inherits this test's environment: the session DATA_DIR and the fake Stripe settings.
    process = subprocess.Popen([sys.executable, "-m", "core.market.webhooks", "--port", "0"],
                               cwd=PROJECT_ROOT, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        deadline = time.monotonic() + 30
        while "Listening" not in line and time.monotonic() < deadline:
            line = process.stderr.readline()
        url = re.search(r"http://\S+", line).group(0)
        session_id = start_purchase(shop["buyer"], shop["listing"]["id"])["session_id"]
        payload, signature = signed(event_for(shop["fake"].mark_paid(session_id)))
        response = requests.post(url, data=payload, headers={"Stripe-Signature": signature}, timeout=10)
        assert response.status_code == 200 and only_sale(shop)["status"] == "paid"
    finally:
        process.terminate()
        process.wait(timeout=10)
