import streamlit as st
from apptest_helpers import assert_no_exception, button, page_app
from refine_fixtures import dataset_with_run

from core import auth
from core.market.checkout import paid_sale
from core.market.listings import create_listing
from core.packaging.build import PackageRequest, build_package


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
    assert paid_sale(buyer.id, listing["id"]) is not None
    at.run()
    button(at, "Prepare download").click().run()
    assert_no_exception(at)
    assert any("sha256" in c.value for c in at.caption)
    at.slider(key="mkt_stars").set_value(4)
    at.text_area(key="mkt_review_text").input("Clean and well documented.")
    button(at, "Post review").click().run()
    assert_no_exception(at)
    assert any("review is posted" in s.value for s in at.success)


def test_supplier_cannot_buy_and_sees_a_clear_message(workbench):
    listing = _listed()
    at = _open(listing, "admin")
    assert_no_exception(at)
    seller_view = _open(listing, "supplier")
    assert not [b for b in seller_view.button if b.label.startswith(("Buy", "Get"))]
