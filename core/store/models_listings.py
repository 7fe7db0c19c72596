"""SQLModel tables of the listings app (issue 14): marketplace monitor, property valuations, listing drafts.

Imported at the end of core.store.models so every table is on SQLModel.metadata (Alembic, create_all).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.store.models import _json, utcnow


# -- listing bot (drafts) -------------------------------------------------------------------------
class ListingDraft(SQLModel, table=True):
    """A listing a user drafted with the listing bot: the current text, owned by its creator. Every save
    (creation or edit) also writes a ListingDraftVersion, so edits can be reviewed and nothing is lost."""

    id: int | None = Field(default=None, primary_key=True)
    category: str = Field(max_length=40, index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    attributes: dict = _json()  # brand, condition, size, location... as given or parsed, never invented
    price: float | None = None
    currency: str = Field(default="EUR", max_length=3)
    price_basis: dict = _json()  # the suggestion: method, estimate, comparables, spread, note
    method: str = Field(default="template", max_length=100)  # template:<variant> | openai:<model>
    notes: list = _json(list)  # fallback reasons, redactions, warnings shown with the draft
    version: int = 1
    created_by: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ListingDraftVersion(SQLModel, table=True):
    """One saved state of a draft (version 1 is the first save); the draft row holds the latest."""

    __table_args__ = (UniqueConstraint("draft_id", "version", name="uq_listingdraftversion_draft_version"),)
    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="listingdraft.id", index=True)
    version: int
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    attributes: dict = _json()
    price: float | None = None
    currency: str = Field(default="EUR", max_length=3)
    edited_by: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


# -- property analysis (valuations) ---------------------------------------------------------------
class PropertyValuationModel(SQLModel, table=True):
    """What property analysis adds to an ML Lab model version: its interval calibration (quantiles of
    log(actual / estimate) on out-of-sample rows and the coverage measured on held-out rows), the features
    comparables are matched on, and where its comparables pool (the training sales) is kept in the lake."""

    __table_args__ = (UniqueConstraint("model_name", "model_version", name="uq_propertyvaluationmodel_version"),)
    id: int | None = Field(default=None, primary_key=True)
    model_name: str = Field(index=True, max_length=100)
    model_version: int
    kind: str = Field(max_length=20)  # listings (scraped property listings) | table (uploaded sales)
    source: str = Field(max_length=500)
    target: str = Field(max_length=300)
    currency: str | None = Field(default=None, max_length=10)
    feature_columns: list = _json(list)
    distance_features: list = _json(list)
    interval_level: float
    log_ratio_low: float
    log_ratio_high: float
    coverage: float | None = None  # share of held-out rows inside their interval
    holdout_rows: int = 0
    mae: float | None = None
    mape: float | None = None
    training_rows: int = 0
    pool_path: str = Field(max_length=1000)
    notes: list = _json(list)
    created_by: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class PropertyValuation(SQLModel, table=True):
    """One listing valued by one model version: estimate, interval and flag, for sorting and filtering.
    The comparables sit beside the raw document (MongoDB `valuations` collection)."""

    __table_args__ = (UniqueConstraint("item_id", "model_name", "model_version", name="uq_propertyvaluation_item"),)
    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    raw_id: str = Field(index=True, max_length=64)
    model_name: str = Field(index=True, max_length=100)
    model_version: int
    title: str | None = Field(default=None, max_length=500)
    url: str | None = Field(default=None, max_length=2000)
    city: str | None = Field(default=None, max_length=200)
    offer: str | None = Field(default=None, max_length=10)  # sale | rent, for scraped listings
    area_m2: float | None = None
    listed_price: float | None = None
    currency: str | None = Field(default=None, max_length=10)
    estimate: float | None = None
    low: float | None = None
    high: float | None = None
    diff_pct: float | None = None  # (listed / estimate - 1) x 100
    flag: str = Field(index=True, max_length=20)  # under | near | over | not valued
    reason: str | None = Field(default=None, max_length=300)
    created_by: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


# -- marketplace monitor --------------------------------------------------------------------------
class MonitorSearch(SQLModel, table=True):
    """A saved search: which listings its owner wants to hear about (every condition given must hold)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    source_name: str | None = Field(default=None, max_length=200)  # None: any of the owner's watched sources
    category: str | None = Field(default=None, max_length=200)
    words: str = Field(default="", max_length=500)  # each word must be in the title or description
    min_price: float | None = None
    max_price: float | None = None
    location: str | None = Field(default=None, max_length=200)  # part of the listing's location
    active: bool = True
    created_by: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class MonitorWatch(SQLModel, table=True):
    """A watched listing source, re-scraped every `every_minutes` while the workbench runs. A due row is
    claimed by moving `next_run_at` with a compare-and-set update; `pass_started_at` is the pass lock.
    The source is named, not a foreign key, so deleting a source stays possible (its watch then refuses)."""

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(index=True, unique=True)
    source_name: str = Field(max_length=200)
    owner_id: int = Field(foreign_key="user.id", index=True)  # the source's owner
    every_minutes: int = 60
    enabled: bool = True
    notify_all: bool = False  # every change to the owner's inbox, not only listings matching a search
    next_run_at: datetime | None = Field(default=None, index=True)
    last_run_at: datetime | None = None
    last_job_id: int | None = Field(default=None, foreign_key="job.id")
    passes: int = 0  # finished passes; the first one records the baseline
    pass_started_at: datetime | None = None
    created_by: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class MonitorPass(SQLModel, table=True):
    """One pass over a watched source: a crawl, or the import of the user's own exported files."""

    id: int | None = Field(default=None, primary_key=True)
    watch_id: int = Field(foreign_key="monitorwatch.id", index=True)
    job_id: int | None = Field(default=None, foreign_key="job.id")
    kind: str = Field(default="crawl", max_length=20)  # crawl | export
    status: str = Field(default="running", max_length=20)  # running | succeeded | failed
    baseline: bool = False
    complete: bool = False  # every listing page answered, so a listing not seen is gone
    listings: int = 0
    events: int = 0
    counts: dict = _json()  # events per kind, pages, not modified, errors
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_by: int = Field(foreign_key="user.id")
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class MonitorListing(SQLModel, table=True):
    """What the monitor last knew of one listing of a watched source (key: its URL path)."""

    __table_args__ = (UniqueConstraint("watch_id", "key", name="uq_monitorlisting_watch_key"),)
    id: int | None = Field(default=None, primary_key=True)
    watch_id: int = Field(foreign_key="monitorwatch.id", index=True)
    key: str = Field(max_length=1000)
    url: str = Field(max_length=2000)
    raw_id: str | None = Field(default=None, max_length=40)
    title: str | None = Field(default=None, max_length=1000)
    price: float | None = None
    currency: str | None = Field(default=None, max_length=10)
    in_stock: bool | None = None
    category: str | None = Field(default=None, max_length=200)
    location: str | None = Field(default=None, max_length=200)
    fields: dict = _json()  # sku, description, seller...: what searches and relist matching read
    status: str = Field(default="active", index=True, max_length=20)  # active | gone | relisted
    relist_of_id: int | None = Field(default=None, foreign_key="monitorlisting.id")
    first_seen_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    gone_at: datetime | None = None
    ended_at: datetime | None = None  # first seen sold out or gone (time to sell)
    days_to_end: float | None = None


class MonitorEvent(SQLModel, table=True):
    """One change a pass found: new, price_drop, relist, back_in_stock or gone."""

    id: int | None = Field(default=None, primary_key=True)
    watch_id: int = Field(foreign_key="monitorwatch.id", index=True)
    pass_id: int = Field(foreign_key="monitorpass.id", index=True)
    listing_id: int = Field(foreign_key="monitorlisting.id", index=True)
    kind: str = Field(index=True, max_length=20)
    title: str | None = Field(default=None, max_length=1000)
    url: str | None = Field(default=None, max_length=2000)
    raw_id: str | None = Field(default=None, max_length=40)
    old_price: float | None = None
    new_price: float | None = None
    currency: str | None = Field(default=None, max_length=10)
    drop_amount: float | None = None
    drop_pct: float | None = None
    relist_of_id: int | None = Field(default=None, foreign_key="monitorlisting.id")
    detail: dict = _json()
    created_at: datetime = Field(default_factory=utcnow, index=True)


class MonitorInboxItem(SQLModel, table=True):
    """An event delivered to one user (because a search of theirs matched, or they watch everything)."""

    __table_args__ = (UniqueConstraint("user_id", "event_id", name="uq_monitorinboxitem_user_event"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    event_id: int = Field(foreign_key="monitorevent.id", index=True)
    search_id: int | None = Field(default=None, foreign_key="monitorsearch.id")
    search_name: str | None = Field(default=None, max_length=200)  # kept when the search is deleted
    read_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class MonitorPricePoint(SQLModel, table=True):
    """A listing's price and stock on one day (the last pass of the day wins): the statistics' input."""

    __table_args__ = (UniqueConstraint("listing_id", "day", name="uq_monitorpricepoint_listing_day"),)
    id: int | None = Field(default=None, primary_key=True)
    watch_id: int = Field(foreign_key="monitorwatch.id", index=True)
    listing_id: int = Field(foreign_key="monitorlisting.id")
    day: date = Field(index=True)
    price: float | None = None
    currency: str | None = Field(default=None, max_length=10)
    category: str | None = Field(default=None, max_length=200)
    in_stock: bool | None = None
