"""The Property page under streamlit.testing: gated, trains as a job, filters valued listings, shows a
listing's estimate, interval and comparables, and computes an investment scenario with its IRR heatmap."""

from conftest import PROJECT_ROOT
from principals import as_buyer, new_user
from property_fixtures import BARGAIN_TITLE, upload_listings
from streamlit.testing.v1 import AppTest

from core.apps.listings.property.service import value_dataset
from core.store import jobs

PAGE = str(PROJECT_ROOT / "pages" / "property.py")


def _page(principal=None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    if principal is not None:
        at.session_state["auth_user"] = principal.as_dict()
    return at


def _table_with(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_property_page_refuses_buyers_and_signed_out_users(workbench):
    for principal, message in ((as_buyer(), "This page is for a supplier or admin"), (None, "Sign in")):
        at = _page(principal)
        at.run()
        assert not at.exception
        assert any(message in w.value for w in at.warning)
        assert not at.dataframe


def test_property_page_trains_values_filters_and_computes_a_scenario(workbench):
    owner = new_user("supplier")
    dataset = upload_listings(owner)
    at = _page(owner)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("No valuation model yet" in i.value for i in at.info)

    at.text_input(key="property_train_name").set_value(f"page-{owner.id}")
    at.number_input(key="property_train_budget").set_value(5)
    next(b for b in at.button if b.label == "Train valuation model").click()
    at.run()
    job = jobs.wait_for(at.session_state["property_train_job"], timeout_s=120)
    assert job["status"] == "succeeded", job["error"]
    value_dataset(owner, dataset, f"page-{owner.id}")

    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("finished" in s.value for s in at.success)
    at.multiselect(key="property_f_flag").set_value(["under"])
    at.run()
    shown = _table_with(at, "flag")
    assert set(shown["flag"]) == {"under"} and BARGAIN_TITLE in set(shown["title"])
    opened = at.selectbox(key="property_open")
    opened.set_value(int(shown[shown["title"] == BARGAIN_TITLE]["id"].iloc[0]))
    at.run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Flag"] == "under" and "80% interval" in metrics
    comparables = _table_with(at, "distance")
    assert len(comparables) == 5 and {"price", "distance", "area_m2", "city"} <= set(comparables.columns)
    # The scenario starts from the opened listing's price and a rent from the dataset's rent listings.
    assert at.number_input(key="property_s_price").value == 90000.0
    assert metrics["IRR"].endswith("%") and "Monthly payment" in metrics
    at.number_input(key="property_s_rate").set_value(4.0)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("plotly_chart")) == 3  # valuation chart, IRR heatmap, cash flows


def test_another_supplier_sees_none_of_the_owners_valuations(workbench):
    owner = new_user("supplier")
    upload_listings(owner)
    stranger = new_user("supplier")
    at = _page(stranger)
    at.run()
    assert not at.exception
    assert not at.dataframe
    assert any("No datasets yet" in i.value for i in at.info)
