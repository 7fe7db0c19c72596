import streamlit as st
from apptest_helpers import assert_no_exception, button, page_app
from fake_stripe import stripe_pointed_at_fake
from principals import new_user as make_user
from refine_fixtures import dataset_with_run
from test_market import make_listing

from core import auth
from core.market.checkout import fulfil_checkout_session, paid_sale, start_purchase
from core.market.listings import create_listing
from core.packaging.build import PackageRequest, build_package
from core.store.models import Sale
from core.store.sql import session_scope


def _listed(price_cents=0):
    dataset, _ = dataset_with_run()
    supplier = auth.demo_principal("supplier")
    package = build_package(supplier, PackageRequest(dataset=dataset["name"], title=f"Market {dataset['name']}",
                                                     license="CC-BY-4.0"))
    return create_listing(supplier, package["package_id"], f"Market {dataset['name']}", "Articles about energy",
                          ["energy"], "news", price_cents, "usd")


def _open(listing, role):
    st.cache_data.clear()
    at = page_app("marketplace.py", role=role)
    at.text_input(key="mkt_text").input(listing["title"]).run()
    at.session_state["mkt_open"] = listing["id"]
    at.run()
    return at


def test_supplier_lists_a_package_from_the_page(workbench):
    dataset, _ = dataset_with_run()
    build_package(auth.demo_principal("supplier"), PackageRequest(dataset=dataset["name"], title="Page listed",
                                                                  license="CC-BY-4.0"))
    at = page_app("marketplace.py", role="supplier")
    assert_no_exception(at)
    button(at, "List it").click().run()
    assert_no_exception(at)
    assert any("Listed" in s.value for s in at.success)


def test_buyer_searches_buys_downloads_and_reviews(workbench):
    listing = _listed(price_cents=1500)
    at = _open(listing, "buyer")
    assert_no_exception(at)
    assert at.subheader[0].value == listing["title"]
    button(at, "Buy for 15.00 USD").click().run()
    assert_no_exception(at)
    buyer = auth.demo_principal("buyer")
    assert paid_sale(buyer.id, listing["id"]) is None  # nothing is bought before the confirmation
    assert any("internal ledger" in c.value and "No payment is taken" in c.value for c in at.caption)
    button(at, "Confirm purchase").click().run()
    assert_no_exception(at)
    sale = paid_sale(buyer.id, listing["id"])
    assert sale is not None
    receipt = [e for e in at.expander if e.label == f"Receipt: sale #{sale['id']}"]
    assert receipt and "no real payment was taken" in receipt[0].markdown[0].value
    assert "15.00 USD" in receipt[0].markdown[0].value
    button(at, "Prepare download").click().run()
    assert_no_exception(at)
    assert any("sha256" in c.value for c in at.caption)
    at.slider(key="mkt_stars").set_value(4)
    at.text_area(key="mkt_review_text").input("Clean and well documented.")
    button(at, "Post review").click().run()
    assert_no_exception(at)
    assert any("review is posted" in s.value for s in at.success)
    # The same run that confirms the review shows it: the rating and the Reviews tab already count it.
    assert [m.value for m in at.metric if m.label == "Rating"] == ["4.0 (1)"]
    assert "Reviews (1)" in [t.label for t in at.tabs]


def test_cancelling_the_confirmation_buys_nothing(workbench):
    listing = _listed(price_cents=700)
    at = _open(listing, "buyer")
    button(at, "Buy for 7.00 USD").click().run()
    button(at, "Cancel").click().run()
    assert_no_exception(at)
    assert not [b for b in at.button if b.label == "Confirm purchase"]
    assert paid_sale(auth.demo_principal("buyer").id, listing["id"]) is None


def test_supplier_cannot_buy_and_sees_a_clear_message(workbench):
    listing = _listed()
    at = _open(listing, "admin")
    assert_no_exception(at)
    seller_view = _open(listing, "supplier")
    assert not [b for b in seller_view.button if b.label.startswith(("Buy", "Get"))]


# ---- admin: sales and revoking ---------------------------------------------------------------------------

def _stripe_sale(fake, tmp_path, price_cents=1500) -> dict:
    """A paid Stripe sale (through the fake) of a fresh listing."""
    listing = make_listing(make_user("supplier"), tmp_path / "pkg", price_cents=price_cents, title="Paid news")
    checkout = start_purchase(make_user("buyer"), listing["id"])
    fake.mark_paid(checkout["session_id"])
    assert fulfil_checkout_session(checkout["session_id"])["status"] == "fulfilled"
    return _sale_row(checkout["sale_id"])


def _sale_row(sale_id: int) -> dict:
    with session_scope() as session:
        return session.get(Sale, sale_id).model_dump()


def _sales_table(at):
    [table] = [d.value for d in at.dataframe if "provider" in d.value.columns]
    return table.set_index("sale_id")


def _ask_to_revoke(at, sale_id: int, status: str, reason: str):
    at.selectbox(key="mkt_revoke_sale").set_value(sale_id)
    at.selectbox(key="mkt_revoke_status").set_value(status)
    at.text_input(key="mkt_revoke_reason").input(reason)
    button(at, "Revoke sale").click().run()
    assert_no_exception(at)
    return button(at, f"Confirm: revoke sale #{sale_id}")


def test_admin_refunds_a_stripe_sale_after_confirming(workbench, monkeypatch, tmp_path):
    with stripe_pointed_at_fake(monkeypatch) as fake:
        sale = _stripe_sale(fake, tmp_path)
        at = page_app("marketplace.py", role="admin")
        assert_no_exception(at)
        row = _sales_table(at).loc[sale["id"]]
        assert (row["listing"], row["amount"], row["provider"], row["status"]) == ("Paid news", 15.0, "stripe", "paid")
        confirm = _ask_to_revoke(at, sale["id"], "refunded", "Buyer asked")
        assert any("15.00 USD is refunded to the buyer through Stripe" in w.value for w in at.warning)
        assert fake.refunds == {} and _sale_row(sale["id"])["status"] == "paid"  # nothing before the confirm
        confirm.click().run()
        assert_no_exception(at)
        [refund] = fake.refunds.values()
        assert any(f"Stripe refund {refund['id']} (succeeded, 15.00 USD)" in s.value for s in at.success)
        assert _sale_row(sale["id"])["status"] == "refunded"
        assert _sales_table(at).loc[sale["id"], "status"] == "refunded"
        assert sale["id"] not in at.selectbox(key="mkt_revoke_sale").options
        assert not [b for b in at.button if b.label.startswith("Confirm")]


def test_admin_sees_a_stripe_failure_and_the_sale_stays_paid(workbench, monkeypatch, tmp_path):
    with stripe_pointed_at_fake(monkeypatch) as fake:
        sale = _stripe_sale(fake, tmp_path)
        at = page_app("marketplace.py", role="admin")
        confirm = _ask_to_revoke(at, sale["id"], "refunded", "Stripe is down")
        fake.fail_next_refund = True
        confirm.click().run()
        assert_no_exception(at)
        [error] = [e.value for e in at.error]
        assert "Stripe could not refund payment" in error and f"Sale #{sale['id']} is still paid" in error
        assert _sale_row(sale["id"])["status"] == "paid" and fake.refunds == {}
        assert not at.success
        button(at, "Cancel").click().run()
        assert not [b for b in at.button if b.label.startswith("Confirm")] and not at.warning


def test_admin_records_a_chargeback_without_calling_stripe(workbench, monkeypatch, tmp_path):
    with stripe_pointed_at_fake(monkeypatch) as fake:
        sale = _stripe_sale(fake, tmp_path)
        posts = len(fake.idempotency_keys)
        at = page_app("marketplace.py", role="admin")
        confirm = _ask_to_revoke(at, sale["id"], "chargeback", "Dispute lost")
        assert any("recorded as **chargeback** (no Stripe call" in w.value for w in at.warning)
        confirm.click().run()
        assert_no_exception(at)
        assert any(f"Sale #{sale['id']} is now chargeback" in s.value for s in at.success)
        assert _sale_row(sale["id"])["status"] == "chargeback"
        assert len(fake.idempotency_keys) == posts and fake.refunds == {}


def test_only_admins_see_sales(workbench):
    for role in ("buyer", "supplier"):
        at = page_app("marketplace.py", role=role)
        assert_no_exception(at)
        assert not [e for e in at.expander if e.label == "Sales"]
        assert not [s for s in at.selectbox if s.key == "mkt_revoke_sale"]
