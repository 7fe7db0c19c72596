"""Sales analytics: listing views (deduplicated per visitor), paid purchases, revenue and ratings over time."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from principals import new_user
from test_market import make_listing

from core.auth import PermissionDenied
from core.market.analytics import VIEW_WINDOW, AnalyticsError, record_view, sales_analytics, sales_figure
from core.market.checkout import start_purchase
from core.market.listings import listing_detail
from core.market.reviews import add_review
from core.market.revocations import revoke_sale
from core.store.models import Sale, utcnow
from core.store.sql import session_scope


def _paid_days_ago(sale_id: int, days: int) -> None:
    with session_scope() as session:
        sale = session.get(Sale, sale_id)
        sale.fulfilled_at = sale.created_at = utcnow() - timedelta(days=days)
        session.add(sale)


@pytest.fixture()
def shop(workbench, tmp_path):
    seller = new_user("supplier")
    paid = make_listing(seller, tmp_path / "a", price_cents=1200, title="Paid news set")
    free = make_listing(seller, tmp_path / "b", price_cents=0, title="Free news set")
    return {"seller": seller, "paid": paid, "free": free}


def test_views_count_once_per_visitor_window_and_never_the_seller(shop):
    visitor = new_user("buyer")
    listing_id = shop["paid"]["id"]
    for _ in range(3):  # a page redrawing three times is one view
        listing_detail(visitor, listing_id)
    listing_detail(shop["seller"], listing_id)
    listing_detail(new_user("buyer"), listing_id, count_view=False)
    assert record_view(listing_id, visitor.id, now=utcnow() + VIEW_WINDOW + timedelta(seconds=1))
    totals = sales_analytics(shop["seller"])["totals"].set_index("listing_id")
    assert totals.loc[listing_id, "views"] == 2
    assert totals.loc[shop["free"]["id"], "views"] == 0


def test_purchases_revenue_and_ratings_over_time(shop):
    buyers = [new_user("buyer") for _ in range(3)]
    for buyer in buyers:
        listing_detail(buyer, shop["paid"]["id"])
    sales = [start_purchase(buyer, shop["paid"]["id"])["sale_id"] for buyer in buyers]
    _paid_days_ago(sales[0], 3)
    revoke_sale(new_user("admin"), sales[2], reason="test: a revoked sale earns nothing")
    add_review(buyers[0], shop["paid"]["id"], 4, "good")
    add_review(buyers[1], shop["paid"]["id"], 2, "meh")
    result = sales_analytics(shop["seller"])
    totals = result["totals"].set_index("listing_id").loc[shop["paid"]["id"]]
    assert (totals["views"], totals["purchases"], totals["revenue_cents"]) == (3, 2, 2400)
    assert totals["conversion"] == round(2 / 3, 4) and totals["average_rating"] == 3.0 and totals["reviews"] == 2
    series = result["series"][result["series"]["listing_id"] == shop["paid"]["id"]]
    assert series["purchases"].sum() == 2 and series["revenue_cents"].sum() == 2400
    days = series.set_index("period")
    today = pd.Timestamp(utcnow().date())
    assert days.loc[today - pd.Timedelta(days=3), "purchases"] == 1
    assert days.loc[today, "views"] == 3 and days.loc[today, "average_rating"] == 3.0
    weekly = sales_analytics(shop["seller"], period="week")["series"]
    assert weekly[weekly["listing_id"] == shop["paid"]["id"]]["revenue_cents"].sum() == 2400
    # Older than the window: the purchase drops out of the counts.
    assert sales_analytics(shop["seller"], days=2)["totals"].set_index("listing_id").loc[
        shop["paid"]["id"], "purchases"] == 1


def test_figure_has_views_purchases_revenue_and_rating_traces(shop):
    buyer = new_user("buyer")
    listing_detail(buyer, shop["paid"]["id"])
    start_purchase(buyer, shop["paid"]["id"])
    add_review(buyer, shop["paid"]["id"], 5, "great")
    series = sales_analytics(shop["seller"])["series"]
    figure = sales_figure(series)
    names = [trace.name for trace in figure.data]
    assert names[:2] == ["views", "purchases"] and "revenue (USD)" in names
    assert any(name.startswith("rating: Paid news set") for name in names)
    revenue = next(trace for trace in figure.data if trace.name == "revenue (USD)")
    assert list(revenue.y) == [12.0]
    empty = sales_figure(series.iloc[0:0])
    assert not empty.data and any("No views" in note.text for note in empty.layout.annotations)


def test_analytics_are_the_sellers_own(shop):
    other = new_user("supplier")
    assert shop["paid"]["id"] not in sales_analytics(other)["totals"]["listing_id"].tolist()
    with pytest.raises(PermissionDenied):
        sales_analytics(new_user("buyer"))
    admin_view = sales_analytics(new_user("admin"), seller_id=shop["seller"].id)["totals"]
    assert {shop["paid"]["id"], shop["free"]["id"]} == set(admin_view["listing_id"])
    # A supplier cannot look at another seller's listings by passing their id.
    others = sales_analytics(other, seller_id=shop["seller"].id)["totals"]
    assert shop["paid"]["id"] not in others["listing_id"].tolist()
    for bad in ({"period": "hour"}, {"days": 0}, {"days": True}):
        with pytest.raises(AnalyticsError):
            sales_analytics(shop["seller"], **bad)
