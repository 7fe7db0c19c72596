"""Sales analytics for a seller's listings: views, purchases, revenue and ratings per day (or week, month).

Views are recorded when a signed-in visitor other than the seller opens a listing's detail, at most
once per visitor and listing within VIEW_WINDOW, so the page redrawing on every click does not count as
many views. Purchases and revenue count paid sales only (refunded or revoked ones drop out), by the day
they were paid. Ratings are the reviews posted each period and the running average.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from sqlmodel import select

from core.auth import Principal, require_role
from core.charts import PALETTE, _layout
from core.store.models import Listing, Review, Sale, utcnow
from core.store.models_market_extras import ListingView
from core.store.sql import session_scope

VIEW_WINDOW = timedelta(minutes=30)
PERIODS = {"day": "D", "week": "W-MON", "month": "MS"}
SERIES_COLUMNS = ["period", "listing_id", "title", "currency", "views", "purchases", "revenue_cents",
                  "reviews", "average_rating"]
TOTAL_COLUMNS = ["listing_id", "title", "status", "currency", "views", "purchases", "revenue_cents",
                 "conversion", "reviews", "average_rating"]


class AnalyticsError(ValueError):
    """An analytics request that cannot be answered; the message says what to change."""


def record_view(listing_id: int, viewer_id: int, now: datetime | None = None) -> bool:
    """Count a view of a listing unless this viewer already viewed it within VIEW_WINDOW; True if counted."""
    now = now or utcnow()
    with session_scope() as session:
        recent = session.exec(select(ListingView.id).where(ListingView.listing_id == listing_id,
                                                           ListingView.viewer_id == viewer_id,
                                                           ListingView.viewed_at > now - VIEW_WINDOW)).first()
        if recent is not None:
            return False
        session.add(ListingView(listing_id=listing_id, viewer_id=viewer_id, viewed_at=now))
    return True


def _seller_listings(session, principal: Principal, seller_id: int | None) -> pd.DataFrame:
    # A supplier sees their own listings only; an admin may look at any seller's (or their own by default).
    owner = principal.id if principal.role != "admin" or seller_id is None else seller_id
    rows = session.exec(select(Listing.id, Listing.title, Listing.status, Listing.currency)
                        .where(Listing.seller_id == owner)).all()
    return pd.DataFrame([tuple(row) for row in rows], columns=["listing_id", "title", "status", "currency"])


def _events(session, listing_ids: list[int], since: datetime) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    views = session.exec(select(ListingView.listing_id, ListingView.viewed_at)
                         .where(ListingView.listing_id.in_(listing_ids), ListingView.viewed_at >= since)).all()
    paid_at = Sale.fulfilled_at
    sales = session.exec(select(Sale.listing_id, paid_at, Sale.created_at, Sale.amount_cents)
                         .where(Sale.listing_id.in_(listing_ids), Sale.status == "paid")).all()
    reviews = session.exec(select(Review.listing_id, Review.created_at, Review.rating)
                           .where(Review.listing_id.in_(listing_ids))).all()
    return (pd.DataFrame([tuple(r) for r in views], columns=["listing_id", "at"]),
            pd.DataFrame([(r[0], r[1] or r[2], r[3]) for r in sales], columns=["listing_id", "at", "amount_cents"]),
            pd.DataFrame([tuple(r) for r in reviews], columns=["listing_id", "at", "rating"]))


def _bucket(frame: pd.DataFrame, freq: str) -> pd.Series:
    stamps = pd.to_datetime(frame["at"], utc=True).dt.tz_localize(None)
    return stamps.dt.to_period(freq).dt.start_time


def sales_analytics(principal: Principal, period: str = "day", days: int = 90,
                    seller_id: int | None = None) -> dict:
    """{"series": one row per listing and period with any activity, "totals": one row per listing}.

    Views and purchases count the last `days` days; ratings use every review so the running average is
    right from the first period shown."""
    require_role(principal, "supplier", "admin", action="see sales analytics")
    if period not in PERIODS:
        raise AnalyticsError(f"Period must be one of {', '.join(PERIODS)}; got '{period}'.")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3660:
        raise AnalyticsError("Days must be a whole number from 1 to 3660.")
    since = utcnow() - timedelta(days=days)
    with session_scope() as session:
        listings = _seller_listings(session, principal, seller_id)
        if listings.empty:
            return {"series": pd.DataFrame(columns=SERIES_COLUMNS), "totals": pd.DataFrame(columns=TOTAL_COLUMNS)}
        views, sales, reviews = _events(session, listings["listing_id"].tolist(), since)
    sales = sales[pd.to_datetime(sales["at"], utc=True) >= pd.Timestamp(since)]
    freq = PERIODS[period]
    parts = []
    for frame, name, column, how in ((views, "views", "listing_id", "size"),
                                     (sales, "purchases", "listing_id", "size"),
                                     (sales, "revenue_cents", "amount_cents", "sum"),
                                     (reviews, "reviews", "listing_id", "size")):
        if frame.empty:
            continue
        grouped = frame.assign(period=_bucket(frame, freq)).groupby(["listing_id", "period"])[column]
        parts.append(getattr(grouped, how)().rename(name))
    series = pd.concat(parts, axis=1).fillna(0).reset_index() if parts else \
        pd.DataFrame(columns=["listing_id", "period", "views", "purchases", "revenue_cents", "reviews"])
    for name in ("views", "purchases", "revenue_cents", "reviews"):
        series[name] = (series[name] if name in series else pd.Series(0, index=series.index)).astype(int)
    series = series.merge(listings[["listing_id", "title", "currency"]], on="listing_id", how="left")
    series["average_rating"] = _running_average(series, reviews, freq)
    series = series[series["period"] >= pd.Timestamp(since).tz_localize(None).to_period(freq).start_time]
    series = series.sort_values(["period", "listing_id"]).reset_index(drop=True)[SERIES_COLUMNS]
    return {"series": series, "totals": _totals(listings, views, sales, reviews)}


def _running_average(series: pd.DataFrame, reviews: pd.DataFrame, freq: str) -> list[float | None]:
    if reviews.empty or series.empty:
        return [None] * len(series)
    buckets = reviews.assign(period=_bucket(reviews, freq))
    averages = []
    for listing_id, period in zip(series["listing_id"], series["period"], strict=True):
        upto = buckets[(buckets["listing_id"] == listing_id) & (buckets["period"] <= period)]["rating"]
        averages.append(round(float(upto.mean()), 2) if len(upto) else None)
    return averages


def _totals(listings: pd.DataFrame, views: pd.DataFrame, sales: pd.DataFrame, reviews: pd.DataFrame) -> pd.DataFrame:
    totals = listings.copy()
    totals["views"] = totals["listing_id"].map(views.groupby("listing_id").size()).fillna(0).astype(int)
    totals["purchases"] = totals["listing_id"].map(sales.groupby("listing_id").size()).fillna(0).astype(int)
    revenue = sales.groupby("listing_id")["amount_cents"].sum()
    totals["revenue_cents"] = totals["listing_id"].map(revenue).fillna(0).astype(int)
    # Purchases per view; None without views (a free listing bought through the API was never "viewed").
    totals["conversion"] = [round(p / v, 4) if v else None for p, v in zip(totals["purchases"], totals["views"],
                                                                            strict=True)]
    totals["reviews"] = totals["listing_id"].map(reviews.groupby("listing_id").size()).fillna(0).astype(int)
    averages = reviews.groupby("listing_id")["rating"].mean().round(2)
    totals["average_rating"] = [averages.get(i) for i in totals["listing_id"]]
    return totals.sort_values("listing_id").reset_index(drop=True)[TOTAL_COLUMNS]


def sales_figure(series: pd.DataFrame, title: str | None = "Sales over time") -> go.Figure:
    """Views and purchases, revenue (per currency) and the running average rating, summed over the listings
    in `series` (the "series" of sales_analytics, filtered to the listings to show)."""
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("Views and purchases", "Revenue", "Average rating"))
    if series.empty:
        fig.add_annotation(text="No views, sales or reviews in this period yet", showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=0.5)
        return _layout(fig, title, height=560)
    per_period = series.groupby("period")[["views", "purchases"]].sum().reset_index()
    fig.add_trace(go.Bar(x=per_period["period"], y=per_period["views"], name="views", marker_color=PALETTE[0]),
                  row=1, col=1)
    fig.add_trace(go.Bar(x=per_period["period"], y=per_period["purchases"], name="purchases",
                         marker_color=PALETTE[3]), row=1, col=1)
    for number, (currency, rows) in enumerate(series.groupby("currency")):
        revenue = rows.groupby("period")["revenue_cents"].sum() / 100
        fig.add_trace(go.Scatter(x=revenue.index, y=revenue.values, mode="lines+markers",
                                 name=f"revenue ({str(currency).upper()})",
                                 line_color=PALETTE[(4 + number) % len(PALETTE)]), row=2, col=1)
    rated = series.dropna(subset=["average_rating"])
    for _, rows in rated.groupby("listing_id"):
        fig.add_trace(go.Scatter(x=rows["period"], y=rows["average_rating"], mode="lines+markers",
                                 name=f"rating: {str(rows['title'].iloc[0])[:40]}"), row=3, col=1)
    fig.update_yaxes(range=[0, 5.2], row=3, col=1)
    fig.update_layout(barmode="group")
    return _layout(fig, title, height=560)
