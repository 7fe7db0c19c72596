"""Licence tiers: validation, purchase at the tier's price, and the licence carried by the buyer's download."""

from __future__ import annotations

import io
import zipfile

import pytest
from principals import new_user
from sqlmodel import select
from test_market import make_listing

from core.auth import PermissionDenied
from core.market import listings
from core.market.checkout import CheckoutError, purchases, start_purchase
from core.market.downloads import verify_downloaded_archive
from core.market.listings import listing_detail, search_listings
from core.market.tiers import (
    DEFAULT_TIER,
    MAX_PRICE_CENTS,
    PURCHASED_LICENCE_FILE,
    TierError,
    buyer_archive,
    listing_tiers,
    sale_tier,
    set_tiers,
)
from core.market.tokens import issue_download_token, redeem_download_token
from core.store.models import AuditEvent, Sale
from core.store.sql import session_scope

RESEARCH_TERMS = "Research and teaching only. No commercial use, no redistribution."
TIERS = [{"name": "research", "license": "LicenseRef-research-only", "terms": RESEARCH_TERMS, "price_cents": 500},
         {"name": "commercial", "license": "CC-BY-4.0", "terms": "Attribution as the licence requires.",
          "price_cents": 5000}]


def _tier_saves(listing_id: int) -> int:
    with session_scope() as session:
        return len(session.exec(select(AuditEvent).where(AuditEvent.action == "listing_tiers",
                                                         AuditEvent.target == f"listing:{listing_id}")).all())


def _download(buyer, sale_id: int) -> zipfile.ZipFile:
    grant = redeem_download_token(buyer, issue_download_token(buyer, sale_id))
    archive = buyer_archive(grant)
    assert verify_downloaded_archive(archive) == []
    return zipfile.ZipFile(io.BytesIO(archive))


def test_price_ceiling_matches_listings():
    assert MAX_PRICE_CENTS == listings.MAX_PRICE_CENTS


def test_listing_without_tiers_is_one_tier_and_buys_as_before(workbench, tmp_path):
    seller, buyer = new_user("supplier"), new_user("buyer")
    listing = make_listing(seller, tmp_path / "pkg", price_cents=250)
    assert listing_tiers(listing["id"]) == [{"name": DEFAULT_TIER, "license": "CC-BY-4.0", "terms": "",
                                             "price_cents": 250, "currency": "usd"}]
    outcome = start_purchase(buyer, listing["id"])
    assert outcome["status"] == "paid"
    assert sale_tier(outcome["sale_id"])["license"] == "CC-BY-4.0"
    with _download(buyer, outcome["sale_id"]) as zipped:
        assert "Licence: `CC-BY-4.0`" in zipped.read(PURCHASED_LICENCE_FILE).decode()
        assert "Licence you bought" in zipped.read("README.md").decode()


def test_tiers_set_prices_and_are_shown_before_purchase(workbench, tmp_path):
    seller, visitor = new_user("supplier"), new_user("buyer")
    listing = make_listing(seller, tmp_path / "pkg", price_cents=9000)
    saved = set_tiers(seller, listing["id"], TIERS)
    assert [(t["name"], t["price_cents"]) for t in saved] == [("research", 500), ("commercial", 5000)]
    detail = listing_detail(visitor, listing["id"])
    assert detail["tiers"][0]["terms"] == RESEARCH_TERMS and detail["listing"]["price_cents"] == 500
    found = search_listings(visitor, text=listing["title"], max_price_cents=500)
    assert listing["id"] in found["listing_id"].tolist()  # the catalogue shows the lowest ("from") price


def test_buying_a_tier_charges_its_price_and_the_download_carries_its_licence(workbench, tmp_path):
    seller, buyer = new_user("supplier"), new_user("buyer")
    listing = make_listing(seller, tmp_path / "pkg", price_cents=100)
    set_tiers(seller, listing["id"], TIERS)
    with pytest.raises(CheckoutError, match="several licence tiers"):
        start_purchase(buyer, listing["id"])
    with pytest.raises(CheckoutError, match="no tier 'enterprise'"):
        start_purchase(buyer, listing["id"], tier="enterprise")
    outcome = start_purchase(buyer, listing["id"], tier="research")
    with session_scope() as session:
        assert session.get(Sale, outcome["sale_id"]).amount_cents == 500
    assert start_purchase(buyer, listing["id"], tier="commercial")["status"] == "already owned"
    row = purchases(buyer).set_index("sale_id").loc[outcome["sale_id"]]
    assert row["amount_cents"] == 500
    # The seller changing the tiers afterwards does not change what this buyer bought.
    set_tiers(seller, listing["id"], [{**TIERS[0], "terms": "Changed later.", "price_cents": 900}])
    with _download(buyer, outcome["sale_id"]) as zipped:
        licence = zipped.read(PURCHASED_LICENCE_FILE).decode()
        card = zipped.read("README.md").decode()
    assert "Licence: `LicenseRef-research-only`" in licence and RESEARCH_TERMS.split(".")[0] in licence
    assert "Changed later" not in licence and "5.00 USD" in licence
    assert card.startswith("# Tiny package") and "`LicenseRef-research-only` (tier `research`)" in card


def test_tier_validation_reports_every_problem(workbench, tmp_path):
    seller = new_user("supplier")
    listing = make_listing(seller, tmp_path / "pkg")
    with pytest.raises(TierError) as caught:
        set_tiers(seller, listing["id"], [{"name": "Bad Name", "license": "MIT", "price_cents": -1},
                                          {"name": "custom", "license": "LicenseRef-x", "terms": "", "price_cents": 1},
                                          {"name": "custom", "license": "not a licence", "price_cents": True}])
    message = str(caught.value)
    for expected in ("Tier 1: the name", "Tier 1: the licence must be the package's", "Tier 1: the price",
                     "Tier 2: a custom licence", "Tier 3: 'not a licence'", "Tier 3: the price", "must differ"):
        assert expected in message, expected
    with pytest.raises(TierError, match="1 to 5 tiers"):
        set_tiers(seller, listing["id"], [])
    assert listing_tiers(listing["id"])[0]["name"] == DEFAULT_TIER  # nothing half-saved


def test_only_the_seller_or_an_admin_sets_tiers(workbench, tmp_path):
    seller = new_user("supplier")
    listing = make_listing(seller, tmp_path / "pkg")
    for stranger in (new_user("supplier"), new_user("buyer")):
        with pytest.raises(PermissionDenied):
            set_tiers(stranger, listing["id"], TIERS)
    assert len(set_tiers(new_user("admin"), listing["id"], TIERS)) == 2
    with pytest.raises(TierError, match="does not exist"):
        set_tiers(seller, 10**9, TIERS)


def test_sale_tier_rows_are_one_per_sale(workbench, tmp_path):
    from core.store.models_market_extras import SaleTier
    seller, buyer = new_user("supplier"), new_user("buyer")
    listing = make_listing(seller, tmp_path / "pkg")
    sale_id = start_purchase(buyer, listing["id"])["sale_id"]
    assert start_purchase(buyer, listing["id"])["status"] == "already owned"
    with session_scope() as session:
        assert len(session.exec(select(SaleTier).where(SaleTier.sale_id == sale_id)).all()) == 1


def test_tiers_through_the_api_purchase_download_and_analytics(workbench, tmp_path):
    from api_helpers import client_for, running_api
    seller, buyer = new_user("supplier"), new_user("buyer")
    listing = make_listing(seller, tmp_path / "pkg", price_cents=100)
    with running_api(rate_per_minute=100_000, rate_burst=100_000) as api:
        seller_api, buyer_api = client_for(api, seller), client_for(api, buyer)
        saved = seller_api.request("PUT", f"/listings/{listing['id']}/tiers", json=TIERS)
        assert saved.status_code == 200 and [t["name"] for t in saved.json()] == ["research", "commercial"]
        bad = seller_api.request("PUT", f"/listings/{listing['id']}/tiers",
                                 json=[{"name": "x", "license": "MIT", "price_cents": 1}])
        assert bad.status_code == 400 and "package's" in bad.json()["detail"]
        detail = buyer_api.get(f"/listings/{listing['id']}").json()
        assert detail["tiers"][0]["terms"] == RESEARCH_TERMS
        assert buyer_api.post(f"/listings/{listing['id']}/purchase").status_code == 400  # which tier?
        bought = buyer_api.post(f"/listings/{listing['id']}/purchase", json={"tier": "commercial"})
        assert bought.status_code == 200 and bought.json()["status"] == "paid"
        token = buyer_api.post(f"/purchases/{bought.json()['sale_id']}/download-tokens", json={}).json()
        archive = buyer_api.get(token["download_path"])
        assert archive.status_code == 200 and verify_downloaded_archive(archive.content) == []
        with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
            assert "Licence: `CC-BY-4.0`" in zipped.read(PURCHASED_LICENCE_FILE).decode()
        stats = seller_api.get("/sales-analytics", params={"period": "week"}).json()
        mine = next(row for row in stats["totals"] if row["listing_id"] == listing["id"])
        assert (mine["views"], mine["purchases"], mine["revenue_cents"]) == (1, 1, 5000)
        other = client_for(api, new_user("supplier")).get("/sales-analytics").json()
        assert other == {"totals": [], "series": []}


def test_marketplace_page_shows_tier_terms_and_buys_the_chosen_tier(workbench, tmp_path):
    import streamlit as st
    from apptest_helpers import assert_no_exception, button, page_app

    from core import auth
    seller, buyer = auth.demo_principal("supplier"), auth.demo_principal("buyer")
    listing = make_listing(seller, tmp_path / "pkg", price_cents=100, title=f"Tiered {tmp_path.name}")
    set_tiers(seller, listing["id"], TIERS)
    st.cache_data.clear()
    at = page_app("marketplace.py", role="buyer")
    at.text_input(key="mkt_text").input(listing["title"]).run()
    at.session_state["mkt_open"] = listing["id"]
    at.run()
    assert_no_exception(at)
    labels = [e.label for e in at.expander]
    assert "research: LicenseRef-research-only, 5.00 USD" in labels and "commercial: CC-BY-4.0, 50.00 USD" in labels
    at.radio(key="mkt_tier").set_value("research").run()
    button(at, "Buy for 5.00 USD").click().run()
    assert any(RESEARCH_TERMS in m.value for m in at.markdown)  # the terms, before anything is bought
    button(at, "Confirm purchase").click().run()
    assert_no_exception(at)
    owned = [p for p in purchases(buyer).to_dict("records") if p["listing_id"] == listing["id"]]
    assert [p["amount_cents"] for p in owned] == [500]
    receipt = next(e for e in at.expander if e.label.startswith("Receipt: sale #"))
    assert "LicenseRef-research-only (tier research)" in receipt.markdown[0].value
    button(at, "Prepare download").click().run()
    assert_no_exception(at)
    assert any("licence you bought" in c.value for c in at.caption)
    # The seller sees the tier editor on their listing and the analytics with this sale.
    seller_view = page_app("marketplace.py", role="supplier")
    seller_view.session_state["mkt_open"] = listing["id"]
    seller_view.text_input(key="mkt_text").input(listing["title"]).run()
    assert_no_exception(seller_view)
    assert "Licence tiers (e.g. research-only and commercial)" in [e.label for e in seller_view.expander]
    assert "Sales analytics for your listings" in [e.label for e in seller_view.expander]
    assert seller_view.get("plotly_chart")
    saves_before = _tier_saves(listing["id"])
    button(seller_view, "Save tiers").click().run()  # the editor's rows as shown save back unchanged
    assert_no_exception(seller_view)
    assert not seller_view.error and _tier_saves(listing["id"]) == saves_before + 1
    assert [t["name"] for t in listing_tiers(listing["id"])] == ["research", "commercial"]


def test_a_tier_bought_through_stripe_charges_its_price(workbench, tmp_path, monkeypatch):
    from fake_stripe import stripe_pointed_at_fake

    from core.market.checkout import fulfil_checkout_session
    seller, buyer = new_user("supplier"), new_user("buyer")
    listing = make_listing(seller, tmp_path / "pkg", price_cents=100, title="Tiered via Stripe")
    set_tiers(seller, listing["id"], TIERS)
    with stripe_pointed_at_fake(monkeypatch, PUBLIC_BASE_URL="http://127.0.0.1:8501") as fake:
        started = start_purchase(buyer, listing["id"], tier="commercial")
        assert started["status"] == "redirect"
        session = fake.sessions[started["session_id"]]
        assert session["amount_total"] == 5000
        # While that checkout is open, asking for the other tier is refused instead of charging the wrong price.
        with pytest.raises(CheckoutError, match="'commercial' tier of this listing is still open"):
            start_purchase(buyer, listing["id"], tier="research")
        assert start_purchase(buyer, listing["id"], tier="commercial")["session_id"] == started["session_id"]
        fake.mark_paid(started["session_id"])
        assert fulfil_checkout_session(started["session_id"])["status"] == "fulfilled"
    assert sale_tier(started["sale_id"])["tier_name"] == "commercial"
