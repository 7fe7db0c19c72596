"""Market statistics of the watched sources, aggregated in SQL (SQLite and PostgreSQL alike).

- median price by category per day, from the daily price points (the median as the mean of the middle one or
  two prices, ranked with window functions, so no database-specific percentile function is needed);
- listing volume per day: listings on the market (price points), new and relisted ones, gone ones (events);
- time to sell: days from a listing's first sighting to its selling out or leaving the market, median per
  category. A listing taken down to be relisted did not sell and is not counted.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, or_
from sqlmodel import select

from core.apps.listings.monitor.watches import list_watches
from core.auth import Principal
from core.store.models_listings import MonitorEvent, MonitorListing, MonitorPricePoint
from core.store.sql import get_engine

NO_CATEGORY = "(no category)"


def _watch_ids(principal: Principal | None, source: str | None) -> list[int]:
    return [w["id"] for w in list_watches(principal) if source is None or w["source_name"] == source]


def _median_by(values, groups: list, where) -> tuple:
    """(subquery ranking `values` within `groups`, the condition picking its middle rows)."""
    ranked = select(*groups, values.label("value"),
                    func.row_number().over(partition_by=groups, order_by=values).label("rank"),
                    func.count().over(partition_by=groups).label("size")).where(where, values.is_not(None)).subquery()
    middle = or_(ranked.c.rank == (ranked.c.size + 1) // 2, ranked.c.rank == (ranked.c.size + 2) // 2)
    return ranked, middle


def _frame(query, columns: list[str]) -> pd.DataFrame:
    with get_engine().connect() as connection:
        return pd.DataFrame(connection.execute(query).all(), columns=columns)


def median_price_by_category(principal: Principal | None, source: str | None = None) -> pd.DataFrame:
    """day, category, currency, median_price, listings (priced listings that day)."""
    ids = _watch_ids(principal, source)
    point = MonitorPricePoint
    category = func.coalesce(point.category, NO_CATEGORY).label("category")
    ranked, middle = _median_by(point.price, [point.day, category, point.currency], point.watch_id.in_(ids or [-1]))
    query = (select(ranked.c.day, ranked.c.category, ranked.c.currency, func.avg(ranked.c.value),
                    func.max(ranked.c.size)).where(middle).group_by(ranked.c.day, ranked.c.category, ranked.c.currency)
             .order_by(ranked.c.day, ranked.c.category))
    frame = _frame(query, ["day", "category", "currency", "median_price", "listings"])
    frame["day"] = pd.to_datetime(frame["day"])
    frame["median_price"] = frame["median_price"].astype(float).round(2)
    return frame


def listing_volume(principal: Principal | None, source: str | None = None) -> pd.DataFrame:
    """day, category, on_market, new (new listings and relists), gone."""
    ids = _watch_ids(principal, source) or [-1]
    point, event, listing = MonitorPricePoint, MonitorEvent, MonitorListing
    category = func.coalesce(point.category, NO_CATEGORY)
    market = _frame(select(point.day, category, func.count()).where(point.watch_id.in_(ids))
                    .group_by(point.day, category), ["day", "category", "on_market"])
    day = func.date(event.created_at)
    event_category = func.coalesce(listing.category, NO_CATEGORY)
    changes = _frame(select(day, event_category, event.kind, func.count())
                     .join(listing, listing.id == event.listing_id)
                     .where(event.watch_id.in_(ids), event.kind.in_(("new", "relist", "gone")))
                     .group_by(day, event_category, event.kind), ["day", "category", "kind", "count"])
    for frame in (market, changes):
        frame["day"] = pd.to_datetime(frame["day"])
    if not changes.empty:
        changes["kind"] = changes["kind"].replace({"relist": "new"})
        changes = changes.pivot_table(index=["day", "category"], columns="kind", values="count", aggfunc="sum",
                                      fill_value=0).reset_index()
    volume = market.merge(changes, on=["day", "category"], how="outer") if not changes.empty else market
    for column in ("on_market", "new", "gone"):
        volume[column] = volume[column].fillna(0).astype(int) if column in volume else 0
    return volume[["day", "category", "on_market", "new", "gone"]].sort_values(["day", "category"],
                                                                               ignore_index=True)


def time_to_sell(principal: Principal | None, source: str | None = None) -> pd.DataFrame:
    """category, sold (listings that sold out or left the market), median_days."""
    ids = _watch_ids(principal, source)
    listing = MonitorListing
    category = func.coalesce(listing.category, NO_CATEGORY).label("category")
    ranked, middle = _median_by(listing.days_to_end, [category],
                                listing.watch_id.in_(ids or [-1]) & (listing.status != "relisted"))
    query = (select(ranked.c.category, func.max(ranked.c.size), func.avg(ranked.c.value)).where(middle)
             .group_by(ranked.c.category).order_by(ranked.c.category))
    frame = _frame(query, ["category", "sold", "median_days"])
    frame["median_days"] = frame["median_days"].astype(float).round(2)
    return frame
