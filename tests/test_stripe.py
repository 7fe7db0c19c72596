"""Stripe Checkout, webhooks and refunds against a local stand-in for Stripe's API (tests/fake_stripe.py).

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
from fake_stripe import REFUNDS_PATH, SESSIONS_PATH, stripe_pointed_at_fake
from principals import new_user as make_user
from sqlmodel import select
from test_market import make_listing, sales_of

from core.config import reset_settings_cache
from core.market import revocations
from core.market.checkout import CheckoutError, fulfil_checkout_session, start_purchase
from core.market.revocations import refund_idempotency_key, revoke_sale
from core.market.stripe_gateway import PaymentProviderError, checkout_session_of_payment, refund_checkout_payment
from core.market.tokens import DownloadError, issue_download_token, redeem_download_token
from core.market.webhooks import EVENT_ACTION, handle_webhook, serve_webhooks
from core.store.models import AuditEvent, Sale
from core.store.sql import session_scope

WEBHOOK_SECRET = "whsec_test_" + "k" * 32
PROJECT_ROOT = Path(__file__).resolve().parent.parent
PUBLIC_BASE_URL = "http://127.0.0.1:8501"


@pytest.fixture
def fake_stripe(monkeypatch):
    """Stripe settings pointing at a fresh fake; store fixtures (workbench / sql_url) come from the test."""
    with stripe_pointed_at_fake(monkeypatch, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                                PUBLIC_BASE_URL=PUBLIC_BASE_URL) as fake:
        yield fake


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


# ---- refunds ---------------------------------------------------------------------------------------------

def bought(shop: dict) -> dict:
    """A paid Stripe sale of the shop's listing, with a download token issued before any refund."""
    session_id = start_purchase(shop["buyer"], shop["listing"]["id"])["session_id"]
    payment_intent = shop["fake"].mark_paid(session_id)["payment_intent"]
    assert fulfil_checkout_session(session_id)["status"] == "fulfilled"
    sale = only_sale(shop)
    return {"sale": sale, "session_id": session_id, "payment_intent": payment_intent,
            "token": issue_download_token(shop["buyer"], sale["id"]), "admin": make_user("admin")}


def refund_keys(fake) -> list[str | None]:
    """The Idempotency-Key of every POST /v1/refunds the fake received."""
    return [key for key in fake.idempotency_keys if key and key.startswith("dbw-refund-")]


def test_refund_goes_through_stripe_once_and_stops_downloads(shop):
    fake, buyer = shop["fake"], shop["buyer"]
    deal = bought(shop)
    sale_id = deal["sale"]["id"]
    revoked = revoke_sale(deal["admin"], sale_id, "refunded", reason="Buyer asked within 14 days")
    assert revoked["status"] == "refunded" and revoked["refund_id"].startswith("re_test_")
    [refund] = fake.refunds.values()
    assert refund["id"] == revoked["refund_id"] and refund["payment_intent"] == deal["payment_intent"]
    assert (refund["amount"], refund["currency"], refund["status"]) == (1999, "usd", "succeeded")
    assert refund["metadata"]["sale_id"] == str(sale_id)
    assert revoked["refund"] | {"idempotency_key": None} == {
        "refund_id": refund["id"], "status": "succeeded", "amount_cents": 1999, "currency": "usd",
        "payment_intent": deal["payment_intent"], "already_refunded": False, "idempotency_key": None}
    [event] = audit_rows("sale_revoke", f"sale:{sale_id}")
    assert event["user_id"] == deal["admin"].id
    assert event["detail"]["refund_id"] == refund["id"] and event["detail"]["status"] == "refunded"
    assert event["detail"]["reason"] == "Buyer asked within 14 days"
    # Downloads stop, for links handed out before the refund too.
    with pytest.raises(DownloadError, match="was refunded"):
        redeem_download_token(buyer, deal["token"])
    with pytest.raises(DownloadError, match="was refunded"):
        issue_download_token(buyer, sale_id)
    # A second revoke (the admin clicks again) is refused before Stripe is asked.
    posts = len(fake.idempotency_keys)
    for status in ("refunded", "chargeback"):
        with pytest.raises(CheckoutError, match=f"Sale #{sale_id} is already refunded; nothing was changed"):
            revoke_sale(deal["admin"], sale_id, status)
    assert len(fake.idempotency_keys) == posts and len(fake.refunds) == 1
    assert len(audit_rows("sale_revoke", f"sale:{sale_id}")) == 1
    # The buyer may buy the dataset again: a new sale and a new checkout.
    again = start_purchase(buyer, shop["listing"]["id"])
    assert again["status"] == "redirect" and again["sale_id"] != sale_id


def test_racing_revokes_refund_once_with_one_idempotency_key(shop):
    fake = shop["fake"]
    deal = bought(shop)
    outcomes, barrier = [], threading.Barrier(3)

    def revoke():
        barrier.wait()
        try:
            outcomes.append(revoke_sale(deal["admin"], deal["sale"]["id"], "refunded")["refund_id"])
        except CheckoutError as error:
            outcomes.append(str(error))

    threads = [threading.Thread(target=revoke) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [refund] = fake.refunds.values()
    assert sorted(outcomes, key=lambda o: not o.startswith("re_")) == [refund["id"]] + [
        f"Sale #{deal['sale']['id']} is already refunded; nothing was changed "
        "(a sale is revoked, and refunded, at most once)."] * 2
    keys = refund_keys(fake)
    assert keys and set(keys) == {refund_idempotency_key(deal["sale"])}
    assert only_sale(shop)["status"] == "refunded"
    assert len(audit_rows("sale_revoke", f"sale:{deal['sale']['id']}")) == 1


def test_refund_key_is_stable_so_a_retry_after_a_lost_answer_cannot_refund_twice(shop, monkeypatch):
    fake = shop["fake"]
    deal = bought(shop)
    sale = deal["sale"]
    key = refund_idempotency_key(sale)
    assert key == refund_idempotency_key(dict(sale)) == f"dbw-refund-{sale['id']}-{deal['session_id']}"
    real_refund = revocations.refund_checkout_payment

    def refund_then_die(*args, **kwargs):
        real_refund(*args, **kwargs)  # Stripe refunds the payment ...
        raise ConnectionResetError("... and the answer is lost on its way back")

    monkeypatch.setattr(revocations, "refund_checkout_payment", refund_then_die)
    with pytest.raises(ConnectionResetError):
        revoke_sale(deal["admin"], sale["id"], "refunded")
    assert only_sale(shop)["status"] == "paid" and len(fake.refunds) == 1
    monkeypatch.setattr(revocations, "refund_checkout_payment", real_refund)
    retried = revoke_sale(deal["admin"], sale["id"], "refunded", reason="second try")
    [refund] = fake.refunds.values()
    assert retried["refund_id"] == refund["id"] and retried["status"] == "refunded"
    assert refund_keys(fake) == [key, key]


def test_chargeback_recorded_while_stripe_refunds_is_reported(shop, monkeypatch):
    deal = bought(shop)
    sale_id = deal["sale"]["id"]
    real_refund = revocations.refund_checkout_payment

    def refund_while_another_admin_records_a_chargeback(*args, **kwargs):
        refund = real_refund(*args, **kwargs)
        revoke_sale(deal["admin"], sale_id, "chargeback", reason="the other admin")
        return refund

    monkeypatch.setattr(revocations, "refund_checkout_payment", refund_while_another_admin_records_a_chargeback)
    with pytest.raises(CheckoutError, match=rf"Stripe refund re_test_\w+ was issued, but sale #{sale_id} was "
                       "marked chargeback meanwhile; check the payment in the Stripe dashboard"):
        revoke_sale(deal["admin"], sale_id, "refunded")
    assert only_sale(shop)["status"] == "chargeback" and len(shop["fake"].refunds) == 1
    [conflict] = audit_rows("sale_refund_conflict", f"sale:{sale_id}")
    assert conflict["detail"]["refund_id"] in shop["fake"].refunds


def test_stripe_unreachable_keeps_the_sale_paid_and_a_retry_refunds(shop, monkeypatch):
    fake, buyer = shop["fake"], shop["buyer"]
    deal = bought(shop)
    sale_id = deal["sale"]["id"]
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")  # nothing listens there
    reset_settings_cache()
    with pytest.raises(PaymentProviderError) as error:
        revoke_sale(deal["admin"], sale_id, "refunded", reason="outage")
    message = str(error.value)
    assert message.startswith("Stripe could not look up checkout session") and "could not be reached" in message
    assert f"Sale #{sale_id} is still paid and nothing was changed here" in message
    assert "cannot be refunded twice" in message
    assert only_sale(shop)["status"] == "paid" and fake.refunds == {}
    assert redeem_download_token(buyer, deal["token"])["sale_id"] == sale_id
    assert audit_rows("sale_revoke", f"sale:{sale_id}") == []
    assert len(audit_rows("sale_refund_failed", f"sale:{sale_id}")) == 1
    monkeypatch.setenv("STRIPE_API_BASE", fake.base_url)  # Stripe is back
    reset_settings_cache()
    assert revoke_sale(deal["admin"], sale_id, "refunded")["refund_id"] in fake.refunds
    assert len(fake.refunds) == 1


def test_stripe_refusing_the_refund_keeps_the_sale_paid(shop):
    fake = shop["fake"]
    deal = bought(shop)
    sale_id = deal["sale"]["id"]
    fake.fail_next_refund = True
    with pytest.raises(PaymentProviderError, match=f"Stripe could not refund payment {deal['payment_intent']}: "
                       r"An unknown error occurred \(fake outage\). Sale #\d+ is still paid"):
        revoke_sale(deal["admin"], sale_id, "refunded")
    assert only_sale(shop)["status"] == "paid" and fake.refunds == {}
    # Stripe keeps that answer under the key (for 24 h), so an immediate retry hears it again instead of
    # making a second attempt; the sale stays paid meanwhile.
    with pytest.raises(PaymentProviderError, match="fake outage"):
        revoke_sale(deal["admin"], sale_id, "refunded")
    assert only_sale(shop)["status"] == "paid" and fake.refunds == {}
    assert len(audit_rows("sale_refund_failed", f"sale:{sale_id}")) == 2


def test_chargeback_and_ledger_sales_make_no_stripe_call(shop, tmp_path):
    fake = shop["fake"]
    deal = bought(shop)
    posts = len(fake.idempotency_keys)
    revoked = revoke_sale(deal["admin"], deal["sale"]["id"], "chargeback", reason="dispute dp_123 lost")
    assert (revoked["status"], revoked["refund_id"], revoked["refund"]) == ("chargeback", None, None)
    with pytest.raises(DownloadError, match="was charged back"):
        redeem_download_token(shop["buyer"], deal["token"])
    with pytest.raises(CheckoutError, match="already chargeback"):
        revoke_sale(deal["admin"], deal["sale"]["id"], "refunded")
    [event] = audit_rows("sale_revoke", f"sale:{deal['sale']['id']}")
    assert event["detail"]["status"] == "chargeback" and "refund_id" not in event["detail"]
    # A free listing goes through the ledger even with Stripe configured; refunding it moves no money.
    free = make_listing(shop["supplier"], tmp_path / "free", price_cents=0)
    ledger_sale = start_purchase(shop["buyer"], free["id"])
    assert ledger_sale["provider"] == "ledger"
    assert revoke_sale(deal["admin"], ledger_sale["sale_id"], "refunded")["refund_id"] is None
    assert len(fake.idempotency_keys) == posts and fake.refunds == {}


def test_payment_refunded_in_the_dashboard_is_recorded_not_refunded_again(shop):
    fake = shop["fake"]
    deal = bought(shop)
    status, dashboard = fake.handle_post("/v1/refunds", f"payment_intent={deal['payment_intent']}", "dashboard")
    assert status == 200
    revoked = revoke_sale(deal["admin"], deal["sale"]["id"], "refunded")
    assert revoked["status"] == "refunded" and revoked["refund_id"] == dashboard["id"]
    assert revoked["refund"]["already_refunded"] is True and len(fake.refunds) == 1
    [event] = audit_rows("sale_revoke", f"sale:{deal['sale']['id']}")
    assert event["detail"]["already_refunded_at_stripe"] is True


def test_fake_refunds_answer_like_stripe(shop):
    fake = shop["fake"]
    deal = bought(shop)
    intent = deal["payment_intent"]
    assert fake.handle_get(f"/v1/checkout/sessions/{deal['session_id']}")[1]["payment_intent"] == intent
    with pytest.raises(PaymentProviderError, match="No such payment_intent: 'pi_test_unknown'"):
        refund_checkout_payment("pi_test_unknown", "key-unknown")
    assert fake.handle_post("/v1/refunds", "", "key-empty")[1]["error"]["code"] == "parameter_missing"
    partial = fake.handle_post("/v1/refunds", f"payment_intent={intent}&amount=500", "key-partial")
    assert partial[0] == 200 and partial[1]["amount"] == 500
    assert fake.handle_post("/v1/refunds", f"payment_intent={intent}&amount=500", "key-partial") == partial
    reused = fake.handle_post("/v1/refunds", f"payment_intent={intent}&amount=400", "key-partial")
    assert reused[0] == 400 and reused[1]["error"]["type"] == "idempotency_error"
    assert fake.handle_post("/v1/checkout/sessions", "mode=payment", "key-partial")[1]["error"]["type"] == (
        "idempotency_error")
    too_much = fake.handle_post("/v1/refunds", f"payment_intent={intent}&amount=1500", "key-too-much")
    assert too_much[1]["error"]["code"] == "amount_too_large"
    # Without an amount Stripe refunds what is left; then nothing is.
    rest = refund_checkout_payment(deal["session_id"], "key-rest")
    assert (rest["amount_cents"], rest["status"], rest["already_refunded"]) == (1499, "succeeded", False)
    status, refused = fake.handle_post("/v1/refunds", f"payment_intent={intent}", "key-after")
    assert status == 400 and refused["error"]["code"] == "charge_already_refunded"
    assert refused["error"]["type"] == "invalid_request_error"
    listed = fake.handle_get(f"/v1/refunds?payment_intent={intent}&limit=10")[1]
    assert [r["id"] for r in listed["data"]] == [rest["refund_id"], partial[1]["id"]]
    assert fake.handle_get(f"/v1/refunds/{partial[1]['id']}")[1]["amount"] == 500
    # Through the library, a fully refunded payment returns its newest refund.
    again = refund_checkout_payment(intent, "key-again")
    assert (again["refund_id"], again["already_refunded"]) == (rest["refund_id"], True)
    with pytest.raises(PaymentProviderError, match="neither a Checkout Session"):
        refund_checkout_payment("ch_123", "key-charge")


# ---- refunds and disputes settled outside the app, mirrored by the webhook ---------------------------------

def refund_in_dashboard(fake, payment_intent: str, amount: int | None = None) -> dict:
    """A refund made at Stripe, not through the app (no idempotency key of ours)."""
    body = f"payment_intent={payment_intent}" + (f"&amount={amount}" if amount else "")
    status, refund = fake.handle_post(REFUNDS_PATH, body, None)
    assert status == 200, refund
    return refund


def deliver(event_type: str, stripe_object: dict) -> tuple[tuple[int, str], dict]:
    event = event_for(stripe_object, event_type)
    return handle_webhook(*signed(event)), event


def test_full_refund_in_the_dashboard_revokes_the_sale_and_stops_downloads(shop):
    fake, buyer = shop["fake"], shop["buyer"]
    deal = bought(shop)
    sale_id, intent = deal["sale"]["id"], deal["payment_intent"]
    refund = refund_in_dashboard(fake, intent)
    answer, event = deliver("charge.refunded", fake.charge(intent))
    assert answer == (200, "charge.refunded: refunded")
    assert only_sale(shop)["status"] == "refunded"
    assert fake.session_lists == [{"payment_intent": intent, "limit": "1"}]
    with pytest.raises(DownloadError, match="was refunded"):
        redeem_download_token(buyer, deal["token"])
    with pytest.raises(DownloadError, match="was refunded"):
        issue_download_token(buyer, sale_id)
    [revocation] = audit_rows("sale_revoke", f"sale:{sale_id}")
    assert revocation["user_id"] is None
    assert revocation["detail"] == {
        "status": "refunded", "reason": f"Charge {refund['charge']} was fully refunded at Stripe.",
        "provider": "stripe", "amount_cents": 1999, "currency": "usd", "source": "stripe_event",
        "stripe_event": event["id"], "payment_intent": intent, "session_id": deal["session_id"],
        "charge": refund["charge"], "refunded_cents": 1999, "charge_amount_cents": 1999, "charge_currency": "usd"}
    [processed] = audit_rows(EVENT_ACTION, event["id"])
    assert processed["detail"] == {"type": "charge.refunded", "outcome": "refunded", "sale_id": sale_id}
    # Stripe redelivers the event: nothing is asked or written again.
    assert handle_webhook(*signed(event)) == (200, f"Event {event['id']} was already processed.")
    assert len(fake.session_lists) == 1 and len(audit_rows("sale_revoke", f"sale:{sale_id}")) == 1
    assert len(audit_rows(EVENT_ACTION, event["id"])) == 1
    # For the admin the sale is revoked like any other: no second refund, and the buyer may buy again.
    with pytest.raises(CheckoutError, match=f"Sale #{sale_id} is already refunded; nothing was changed"):
        revoke_sale(deal["admin"], sale_id, "refunded")
    assert list(fake.refunds) == [refund["id"]]
    assert start_purchase(buyer, shop["listing"]["id"])["status"] == "redirect"


def test_partial_refund_is_audited_and_the_sale_stays_paid(shop):
    fake, buyer = shop["fake"], shop["buyer"]
    deal = bought(shop)
    sale_id, intent = deal["sale"]["id"], deal["payment_intent"]
    refund_in_dashboard(fake, intent, amount=500)
    answer, event = deliver("charge.refunded", fake.charge(intent))
    assert answer == (200, "charge.refunded: partial refund, sale left paid")
    assert only_sale(shop)["status"] == "paid"
    assert redeem_download_token(buyer, deal["token"])["sale_id"] == sale_id
    [partial] = audit_rows("stripe_partial_refund", f"sale:{sale_id}")
    assert partial["user_id"] is None
    assert {k: partial["detail"][k] for k in ("stripe_event", "refunded_cents", "charge_amount_cents",
                                              "sale_status")} == {"stripe_event": event["id"], "refunded_cents": 500,
                                                                  "charge_amount_cents": 1999, "sale_status": "paid"}
    assert audit_rows("sale_revoke", f"sale:{sale_id}") == []
    # The rest is refunded later; this event carries the payment intent expanded, which Stripe may do too.
    refund_in_dashboard(fake, intent)
    charge = fake.charge(intent) | {"payment_intent": {"id": intent, "object": "payment_intent"}}
    assert deliver("charge.refunded", charge)[0] == (200, "charge.refunded: refunded")
    assert only_sale(shop)["status"] == "refunded"
    [revocation] = audit_rows("sale_revoke", f"sale:{sale_id}")
    assert revocation["detail"]["refunded_cents"] == 1999 and revocation["detail"]["payment_intent"] == intent


def test_lost_dispute_makes_the_sale_a_chargeback(shop):
    fake, buyer = shop["fake"], shop["buyer"]
    deal = bought(shop)
    sale_id, intent = deal["sale"]["id"], deal["payment_intent"]
    dispute = fake.dispute(intent, "lost", reason="product_not_received")
    answer, event = deliver("charge.dispute.closed", dispute)
    assert answer == (200, "charge.dispute.closed: chargeback")
    assert only_sale(shop)["status"] == "chargeback"
    with pytest.raises(DownloadError, match="was charged back"):
        redeem_download_token(buyer, deal["token"])
    [revocation] = audit_rows("sale_revoke", f"sale:{sale_id}")
    assert revocation["user_id"] is None
    detail = revocation["detail"]
    assert (detail["status"], detail["dispute"], detail["dispute_status"], detail["dispute_reason"]) == (
        "chargeback", dispute["id"], "lost", "product_not_received")
    assert (detail["charge"], detail["stripe_event"], detail["reason"]) == (
        dispute["charge"], event["id"], f"Dispute {dispute['id']} (product_not_received) was lost.")
    # A replay is answered from the record; another event about the same sale changes nothing either.
    assert handle_webhook(*signed(event)) == (200, f"Event {event['id']} was already processed.")
    refund_in_dashboard(fake, intent)
    assert deliver("charge.refunded", fake.charge(intent))[0] == (200, "charge.refunded: already chargeback")
    assert only_sale(shop)["status"] == "chargeback"
    assert len(audit_rows("sale_revoke", f"sale:{sale_id}")) == 1


@pytest.mark.parametrize("dispute_status", ["won", "warning_closed"])
def test_dispute_closed_otherwise_is_audited_and_the_sale_stays_paid(shop, dispute_status):
    fake = shop["fake"]
    deal = bought(shop)
    sale_id = deal["sale"]["id"]
    dispute = fake.dispute(deal["payment_intent"], dispute_status)
    answer, event = deliver("charge.dispute.closed", dispute)
    assert answer == (200, f"charge.dispute.closed: dispute {dispute_status}, sale left paid")
    assert only_sale(shop)["status"] == "paid"
    assert redeem_download_token(shop["buyer"], deal["token"])["sale_id"] == sale_id
    [closed] = audit_rows("stripe_dispute_closed", f"sale:{sale_id}")
    assert (closed["detail"]["dispute"], closed["detail"]["dispute_status"], closed["detail"]["stripe_event"]) == (
        dispute["id"], dispute_status, event["id"])
    assert audit_rows("sale_revoke", f"sale:{sale_id}") == []


def test_charge_refunded_event_of_a_refund_made_in_the_app_changes_nothing(shop):
    fake = shop["fake"]
    deal = bought(shop)
    sale_id = deal["sale"]["id"]
    revoked = revoke_sale(deal["admin"], sale_id, "refunded", reason="Buyer asked")
    answer, event = deliver("charge.refunded", fake.charge(deal["payment_intent"]))
    assert answer == (200, "charge.refunded: already refunded")
    assert only_sale(shop)["status"] == "refunded" and list(fake.refunds) == [revoked["refund_id"]]
    [revocation] = audit_rows("sale_revoke", f"sale:{sale_id}")
    assert revocation["user_id"] == deal["admin"].id and revocation["detail"]["reason"] == "Buyer asked"
    assert audit_rows(EVENT_ACTION, event["id"])[0]["detail"]["outcome"] == "already refunded"


def test_app_refund_whose_event_is_mirrored_first_still_succeeds(shop, monkeypatch):
    fake = shop["fake"]
    deal = bought(shop)
    sale_id = deal["sale"]["id"]
    real_refund, answers = revocations.refund_checkout_payment, []

    def refund_and_the_webhook_is_quicker(*args, **kwargs):
        refund = real_refund(*args, **kwargs)
        answers.append(deliver("charge.refunded", fake.charge(deal["payment_intent"]))[0])
        return refund

    monkeypatch.setattr(revocations, "refund_checkout_payment", refund_and_the_webhook_is_quicker)
    revoked = revoke_sale(deal["admin"], sale_id, "refunded", reason="Buyer asked")
    assert answers == [(200, "charge.refunded: refunded")]
    [refund] = fake.refunds.values()
    assert (revoked["status"], revoked["refund_id"]) == ("refunded", refund["id"])
    [mirrored] = audit_rows("sale_revoke", f"sale:{sale_id}")
    assert mirrored["user_id"] is None
    [confirmed] = audit_rows("sale_revoke_already_mirrored", f"sale:{sale_id}")
    assert confirmed["user_id"] == deal["admin"].id
    assert (confirmed["detail"]["refund_id"], confirmed["detail"]["reason"], confirmed["detail"]["stripe_event"]) == (
        refund["id"], "Buyer asked", mirrored["detail"]["stripe_event"])


def test_refund_or_dispute_of_a_payment_no_sale_took_is_acknowledged_with_an_alert(shop):
    fake = shop["fake"]
    deal = bought(shop)
    stranger = fake.handle_post(SESSIONS_PATH, "mode=payment&success_url=x&line_items[0][price_data][currency]=usd&"
                                "line_items[0][price_data][unit_amount]=500&line_items[0][quantity]=1",
                                "other-app-key")[1]
    stranger_intent = fake.mark_paid(stranger["id"])["payment_intent"]
    refund_in_dashboard(fake, stranger_intent)
    charge = fake.charge(stranger_intent)
    unknown = {**charge, "id": "ch_test_elsewhere", "payment_intent": "pi_test_elsewhere"}
    legacy = {**charge, "id": "ch_test_legacy", "payment_intent": None}  # a charge made without a PaymentIntent
    deliveries = [("charge.refunded", charge, stranger_intent, stranger["id"]),
                  ("charge.refunded", unknown, "pi_test_elsewhere", None),
                  ("charge.dispute.closed", fake.dispute(stranger_intent, "lost"), stranger_intent, stranger["id"]),
                  ("charge.refunded", legacy, "ch_test_legacy", None)]
    for event_type, stripe_object, target, session_id in deliveries:
        answer, event = deliver(event_type, stripe_object)
        assert answer == (200, f"{event_type}: not a workbench purchase")
        alert = audit_rows("stripe_unmatched_payment", target)[-1]
        assert (alert["detail"]["event_id"], alert["detail"]["session_id"]) == (event["id"], session_id)
        assert audit_rows(EVENT_ACTION, event["id"])[0]["detail"]["outcome"] == "not a workbench purchase"
    assert [q["payment_intent"] for q in fake.session_lists] == [stranger_intent, "pi_test_elsewhere",
                                                                 stranger_intent]  # none for the legacy charge
    assert only_sale(shop)["status"] == "paid" and only_sale(shop)["id"] == deal["sale"]["id"]


def test_stripe_outage_answers_503_and_the_retry_mirrors_the_refund(shop, monkeypatch):
    fake = shop["fake"]
    deal = bought(shop)
    sale_id = deal["sale"]["id"]
    refund_in_dashboard(fake, deal["payment_intent"])
    event = event_for(fake.charge(deal["payment_intent"]), "charge.refunded")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")  # nothing listens there
    reset_settings_cache()
    status, message = handle_webhook(*signed(event))
    assert status == 503
    assert message.startswith(f"Stripe could not look up the checkout session of payment {deal['payment_intent']}")
    assert "could not be reached" in message
    assert only_sale(shop)["status"] == "paid"
    assert audit_rows(EVENT_ACTION, event["id"]) == [] and audit_rows("sale_revoke", f"sale:{sale_id}") == []
    monkeypatch.setenv("STRIPE_API_BASE", fake.base_url)  # Stripe is back and retries the delivery
    reset_settings_cache()
    assert handle_webhook(*signed(event)) == (200, "charge.refunded: refunded")
    assert only_sale(shop)["status"] == "refunded" and len(audit_rows(EVENT_ACTION, event["id"])) == 1


def test_refund_before_fulfilment_keeps_a_late_completion_from_paying_the_sale(shop):
    # The receiver was down: Stripe retries checkout.session.completed only after the payment was refunded.
    fake, buyer = shop["fake"], shop["buyer"]
    session_id = start_purchase(buyer, shop["listing"]["id"])["session_id"]
    paid = fake.mark_paid(session_id)
    refund_in_dashboard(fake, paid["payment_intent"])
    assert deliver("charge.refunded", fake.charge(paid["payment_intent"]))[0] == (200, "charge.refunded: refunded")
    assert deliver("checkout.session.completed", paid)[0] == (200, "checkout.session.completed: refunded")
    sale = only_sale(shop)
    assert sale["status"] == "refunded" and audit_rows("purchase", f"sale:{sale['id']}") == []
    with pytest.raises(DownloadError, match="was refunded"):
        issue_download_token(buyer, sale["id"])


def test_fake_lists_checkout_sessions_like_stripe(shop):
    fake = shop["fake"]
    first = start_purchase(shop["buyer"], shop["listing"]["id"])["session_id"]
    intent = fake.mark_paid(first)["payment_intent"]
    assert checkout_session_of_payment(intent)["id"] == first
    assert checkout_session_of_payment("pi_test_nobody") is None
    fake.handle_post(SESSIONS_PATH, "mode=payment&success_url=x&line_items[0][price_data][currency]=usd&"
                     "line_items[0][price_data][unit_amount]=500&line_items[0][quantity]=1", "second-key")
    everything = fake.handle_get(f"{SESSIONS_PATH}?limit=10")[1]
    assert everything["object"] == "list" and len(everything["data"]) == 2 and everything["data"][1]["id"] == first
    assert [s["id"] for s in fake.handle_get(f"{SESSIONS_PATH}?status=complete")[1]["data"]] == [first]
    assert fake.handle_get(f"{SESSIONS_PATH}?limit=1")[1]["has_more"] is True


# ---- hardening: future signatures, concurrent copies, unknown sessions ---------------------------------

def test_signatures_dated_in_the_future_are_refused(shop):
    session_id = start_purchase(shop["buyer"], shop["listing"]["id"])["session_id"]
    event = event_for(shop["fake"].mark_paid(session_id))
    status, message = handle_webhook(*signed(event, timestamp=int(time.time()) + 301))
    assert status == 400 and "ahead" in message
    status, _ = handle_webhook(*signed(event, timestamp=int(time.time()) + 10 * 365 * 86400))
    assert status == 400
    assert only_sale(shop)["status"] == "pending" and audit_rows(EVENT_ACTION, event["id"]) == []
    # Clock skew within the tolerance is fine.
    assert handle_webhook(*signed(event, timestamp=int(time.time()) + 200)) == (
        200, "checkout.session.completed: fulfilled")


def _post_concurrently(url: str, deliveries: list[tuple[bytes, str]]) -> list[requests.Response]:
    barrier, answers = threading.Barrier(len(deliveries)), []

    def post(delivery):
        payload, signature = delivery
        barrier.wait()
        answers.append(requests.post(url, data=payload, headers={"Stripe-Signature": signature}, timeout=30))

    threads = [threading.Thread(target=post, args=(d,)) for d in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.parametrize("event_type", ["checkout.session.completed", "charge.refunded"])
def test_eight_concurrent_copies_of_one_event_act_once(sql_url, fake_stripe, tmp_path, event_type):
    shop = {**paid_listing(tmp_path), "fake": fake_stripe}  # on SQLite and on PostgreSQL
    fake = shop["fake"]
    if event_type == "charge.refunded":
        deal = bought(shop)
        refund_in_dashboard(fake, deal["payment_intent"])
        event = event_for(fake.charge(deal["payment_intent"]), event_type)
        acted = "charge.refunded: refunded"
    else:
        session_id = start_purchase(shop["buyer"], shop["listing"]["id"])["session_id"]
        event = event_for(fake.mark_paid(session_id))
        acted = "checkout.session.completed: fulfilled"
    server = serve_webhooks("127.0.0.1", 0, in_thread=True)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/stripe/webhook"
        answers = _post_concurrently(url, [signed(event) for _ in range(8)])
        assert sorted(a.status_code for a in answers if a.status_code != 409) == [200] * len(
            [a for a in answers if a.status_code != 409])
        assert [a.text.strip() for a in answers].count(acted) == 1
        others = [a.text.strip() for a in answers if a.text.strip() != acted]
        assert all("already processed" in t or "being processed" in t for t in others), others
        [processed] = audit_rows(EVENT_ACTION, event["id"])
        assert processed["detail"]["outcome"] == acted.split(": ")[1]
        sale = only_sale(shop)
        if event_type == "charge.refunded":
            assert sale["status"] == "refunded" and len(audit_rows("sale_revoke", f"sale:{sale['id']}")) == 1
        else:
            assert sale["status"] == "paid" and len(audit_rows("purchase", f"sale:{sale['id']}")) == 1
        # A copy retried after a 409 is answered from the record.
        retry = requests.post(url, data=signed(event)[0], headers={"Stripe-Signature": signed(event)[1]}, timeout=30)
        assert retry.status_code == 200 and "already processed" in retry.text
    finally:
        server.shutdown()
        server.server_close()


def test_a_claim_left_by_a_dead_receiver_is_taken_over(shop):
    from datetime import timedelta

    from core.market import webhooks

    session_id = start_purchase(shop["buyer"], shop["listing"]["id"])["session_id"]
    event = event_for(shop["fake"].mark_paid(session_id))
    marker_id, _ = webhooks._claim(event["id"], event["type"])  # a receiver claimed it, then was killed
    assert handle_webhook(*signed(event))[0] == 409
    with session_scope() as session:
        marker = session.get(AuditEvent, marker_id)
        marker.created_at = marker.created_at - webhooks.CLAIM_STALE_AFTER - timedelta(seconds=1)
        session.add(marker)
    assert handle_webhook(*signed(event)) == (200, "checkout.session.completed: fulfilled")
    assert len(audit_rows(EVENT_ACTION, event["id"])) == 1


def test_unknown_checkout_session_is_acknowledged_and_logged(shop, caplog):
    event = event_for({"id": "cs_test_nobody_made_this", "object": "checkout.session", "payment_status": "paid"})
    with caplog.at_level("WARNING", logger="core.market.webhooks"):
        status, message = handle_webhook(*signed(event))
    assert (status, message) == (200, "checkout.session.completed: unknown checkout session, nothing to do")
    assert "cs_test_nobody_made_this" in caplog.text
    [processed] = audit_rows(EVENT_ACTION, event["id"])
    assert processed["detail"]["outcome"] == "unknown checkout session, nothing to do"
    assert handle_webhook(*signed(event)) == (200, f"Event {event['id']} was already processed.")
