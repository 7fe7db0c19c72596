"""SQLModel tables: the system of record.

Flexible, per-kind detail (recipes, counts, field maps) lives in JSON columns so
that a new signal or source option does not need a migration; anything that is
filtered, joined or constrained gets a real column.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def _json(default=dict):
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(index=True, unique=True, max_length=320)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=20)  # supplier | buyer | admin
    password_hash: str = Field(max_length=200)
    is_demo: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Source(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=200)
    app: str = Field(index=True, max_length=50)  # news | marketplace | property | uploads | ...
    kind: str = Field(max_length=30)  # feed | sitemap | listing_index | json_api | url_list | upload
    config: dict = _json()
    license: str | None = Field(default=None, max_length=100)
    robots_override: bool = False
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class Job(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True, max_length=50)
    status: str = Field(default="queued", index=True, max_length=20)  # queued|running|succeeded|failed
    progress: float = 0.0
    message: str = Field(default="", max_length=500)
    log: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    error: str | None = Field(default=None, sa_column=Column(Text))
    params: dict = _json()
    result: dict = _json()
    owner_pid: int | None = None  # lets start-up tell a live job from one whose process died
    cancel_requested: bool = False
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class Dataset(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=200)
    app: str = Field(index=True, max_length=50)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    topic_keywords: list = _json(list)
    license: str | None = Field(default=None, max_length=100)
    origin: str | None = Field(default=None, max_length=30)  # university | enterprise | crowd | web
    attested: bool = False
    attested_by: int | None = Field(default=None, foreign_key="user.id")
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class Item(SQLModel, table=True):
    # Mirrors the raw store's uniqueness: the same content from two sources stays two items, so
    # refinement (not ingest) decides which copy survives and records why.
    __table_args__ = (UniqueConstraint("dataset_id", "source_id", "content_hash", name="uq_item_source_hash"),)
    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    source_app: str = Field(max_length=50)
    source_id: str = Field(index=True, max_length=200)
    raw_id: str = Field(max_length=64)  # MongoDB _id of the original document
    data_type: str = Field(max_length=20)  # text | listing | tabular | image | audio
    url: str | None = Field(default=None, max_length=2000)
    content_hash: str = Field(max_length=64)
    title: str | None = Field(default=None, max_length=1000)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    fields: dict = _json()
    created_at: datetime = Field(default_factory=utcnow)


class RefinementRun(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    job_id: int | None = Field(default=None, foreign_key="job.id")
    recipe: dict = _json()
    recipe_hash: str = Field(index=True, max_length=64)
    status: str = Field(default="running", max_length=20)
    counts: dict = _json()
    metrics: dict = _json()
    timings: dict = _json()
    code_version: str = Field(default="", max_length=100)
    validated_path: str | None = Field(default=None, max_length=1000)
    error: str | None = Field(default=None, sa_column=Column(Text))  # why a run failed or was interrupted
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class RefinementRecord(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("run_id", "item_id", name="uq_record_run_item"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="refinementrun.id", index=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    kept: bool
    drop_reason: str | None = Field(default=None, max_length=200)
    duplicate_cluster: str | None = Field(default=None, max_length=64)
    signals: dict = _json()


class DataPackage(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("name", "version", name="uq_package_version"),)
    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="refinementrun.id")
    name: str = Field(index=True, max_length=200)
    title: str = Field(max_length=300)
    version: str = Field(max_length=40)
    status: str = Field(default="building", max_length=20)  # building | published | failed
    path: str | None = Field(default=None, max_length=1000)
    license: str = Field(max_length=100)
    files: dict = _json()
    manifest: dict = _json()
    metrics: dict = _json()
    changelog: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    job_id: int | None = Field(default=None, foreign_key="job.id")  # the build job, to tell live from dead builds
    error: str | None = Field(default=None, sa_column=Column(Text))  # why a build failed or was interrupted
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class Listing(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    package_id: int = Field(foreign_key="datapackage.id", index=True)
    seller_id: int = Field(foreign_key="user.id", index=True)
    title: str = Field(max_length=300)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    tags: list = _json(list)
    category: str = Field(default="", max_length=100)
    price_cents: int = 0
    currency: str = Field(default="usd", max_length=3)
    license: str = Field(max_length=100)
    status: str = Field(default="listed", index=True, max_length=20)  # listed | unlisted
    created_at: datetime = Field(default_factory=utcnow)


class Sale(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("provider", "provider_ref", name="uq_sale_provider_ref"),)
    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listing.id", index=True)
    package_id: int = Field(foreign_key="datapackage.id")
    buyer_id: int = Field(foreign_key="user.id", index=True)
    amount_cents: int
    currency: str = Field(max_length=3)
    provider: str = Field(max_length=20)  # ledger | stripe
    provider_ref: str = Field(max_length=200)  # ledger id or Stripe Checkout Session id
    status: str = Field(default="pending", max_length=20)  # pending | paid | refunded
    created_at: datetime = Field(default_factory=utcnow)
    fulfilled_at: datetime | None = None


class Download(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    sale_id: int | None = Field(default=None, foreign_key="sale.id")
    user_id: int = Field(foreign_key="user.id")
    package_id: int = Field(foreign_key="datapackage.id")
    token_id: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class Review(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("listing_id", "buyer_id", name="uq_review_listing_buyer"),)
    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listing.id", index=True)
    buyer_id: int = Field(foreign_key="user.id")
    rating: int
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)


class Feedback(SQLModel, table=True):
    """A person's good/bad label on a raw record, later used to train a quality model."""

    __table_args__ = (UniqueConstraint("app", "raw_id", "user_id", name="uq_feedback_record_user"),)
    id: int | None = Field(default=None, primary_key=True)
    app: str = Field(max_length=50)
    raw_id: str = Field(max_length=64)
    label: str = Field(max_length=10)  # good | bad
    user_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    action: str = Field(index=True, max_length=100)
    target: str = Field(default="", max_length=300)
    detail: dict = _json()
    created_at: datetime = Field(default_factory=utcnow)


class LoginAttempt(SQLModel, table=True):
    """One sign-in try, kept for a short window so failures can be throttled per account and per address."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(index=True, max_length=320)
    address: str = Field(default="", index=True, max_length=64)  # client address, "" when unknown
    succeeded: bool = False
    created_at: datetime = Field(default_factory=utcnow, index=True)


class NetworkAllowEntry(SQLModel, table=True):
    """A private/loopback `host:port` an admin allowed crawls to reach (settings can add more; users never can)."""

    __table_args__ = (UniqueConstraint("host", "port", name="uq_network_allow_host_port"),)
    id: int | None = Field(default=None, primary_key=True)
    host: str = Field(max_length=255)
    port: int
    reason: str = Field(default="", max_length=300)
    added_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class Prediction(SQLModel, table=True):
    """A model version's prediction for one item, written by ml/predict.py (also beside the raw document)."""

    __table_args__ = (UniqueConstraint("item_id", "model_name", "model_version", name="uq_prediction_item_model"),)
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    raw_id: str = Field(index=True, max_length=64)  # MongoDB _id of the scored document
    app: str = Field(max_length=50)
    model_name: str = Field(index=True, max_length=100)
    model_version: int
    prediction: object = Field(default=None, sa_column=Column(JSON))  # a class label or a number
    probability: float | None = None  # classification: probability of the predicted class
    created_at: datetime = Field(default_factory=utcnow)


class ModelWatch(SQLModel, table=True):
    """Continuous training (ml/continuous.py): retrain `model_name` when its source gets new data."""

    id: int | None = Field(default=None, primary_key=True)
    model_name: str = Field(index=True, unique=True, max_length=100)
    source: str = Field(max_length=500)  # dataset:NAME | package:NAME | a file path
    dataset_name: str | None = Field(default=None, index=True, max_length=200)  # for dataset: sources
    target: str = Field(max_length=300)
    settings: dict = _json()  # task, text_columns, time_budget_s, seed, holdout_fraction
    last_marker: str | None = Field(default=None, max_length=200)  # the data version last trained on
    last_decision: dict = _json()
    last_checked_at: datetime | None = None
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


# -- options application (core/apps/options) --------------------------------------------------------
class OptionSnapshot(SQLModel, table=True):
    """One chain fetched from a broker (or the simulator); the raw JSON sits in the options raw store."""

    id: int | None = Field(default=None, primary_key=True)
    symbol: str = Field(index=True, max_length=20)
    broker: str = Field(max_length=20)  # schwab | simulator
    as_of: str = Field(index=True, max_length=10)  # market date of the chain, YYYY-MM-DD
    underlying_price: float
    rate: float = 0.0
    dividend_yield: float = 0.0
    atm_vol_30d: float | None = None  # IV of the ~30-day at-the-money contracts: feeds IV rank
    contracts: int = 0
    raw_id: str | None = Field(default=None, max_length=64)
    created_by: int | None = Field(default=None, foreign_key="user.id")
    taken_at: datetime = Field(default_factory=utcnow, index=True)


class OptionQuote(SQLModel, table=True):
    """A standardized contract quote of a snapshot, with its implied volatility and greeks (trader units)."""

    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="optionsnapshot.id", index=True)
    contract: str = Field(max_length=60)
    put_call: str = Field(max_length=4)  # call | put
    strike: float
    expiry: str = Field(max_length=10)
    days: int
    bid: float | None = None
    ask: float | None = None
    mid: float | None = None
    volume: int = 0
    open_interest: int = 0
    implied_vol: float | None = None
    delta: float | None = None
    gamma: float | None = None
    vega: float | None = None
    theta: float | None = None
    rho: float | None = None
    reason: str = Field(default="", max_length=200)


class PaperTrade(SQLModel, table=True):
    """A proposed or accepted paper position. Owned by the user it was proposed to; never a real order."""

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True)
    symbol: str = Field(index=True, max_length=20)
    strategy: str = Field(max_length=40)
    status: str = Field(default="proposed", index=True, max_length=12)  # proposed | open | rejected | closed
    legs: list = _json(list)
    reasons: list = _json(list)
    risk: dict = _json()  # at entry: max loss, max gain, breakevens, greeks
    snapshot_id: int | None = Field(default=None, foreign_key="optionsnapshot.id")
    entry_value: float = 0.0  # what the position cost to open (negative for a credit), in currency
    last_value: float | None = None
    unrealized_pnl: float | None = None
    marked_at: datetime | None = None
    decided_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class PaperMark(SQLModel, table=True):
    """A paper trade's value at one snapshot: its mark-to-market history."""

    id: int | None = Field(default=None, primary_key=True)
    trade_id: int = Field(foreign_key="papertrade.id", index=True)
    snapshot_id: int = Field(foreign_key="optionsnapshot.id")
    value: float
    pnl: float
    marked_at: datetime = Field(default_factory=utcnow)


class OptionSchedule(SQLModel, table=True):
    """A user's saved snapshot schedule: which underlyings, how often; the scheduler submits due jobs."""

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True, unique=True)  # one schedule per user
    symbols: list = _json(list)
    interval_minutes: int = 60
    enabled: bool = True
    next_run_at: datetime | None = Field(default=None, index=True)  # when the scheduler submits the next job
    last_run_at: datetime | None = None  # when it last submitted one
    last_job_id: int | None = Field(default=None, foreign_key="job.id")
    updated_at: datetime = Field(default_factory=utcnow)


class NewsAnalysis(SQLModel, table=True):
    """One analysed article of a dataset (issue 13): the queryable part; the full evidence sits in MongoDB
    beside the raw article (`<app>.nlp`, keyed by raw document id). Re-analysis replaces the row."""

    __table_args__ = (UniqueConstraint("item_id", name="uq_newsanalysis_item"),)
    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    item_id: int = Field(foreign_key="item.id")
    raw_id: str = Field(max_length=64)
    source_app: str = Field(max_length=50)
    source_id: str = Field(index=True, max_length=200)
    url: str | None = Field(default=None, max_length=2000)
    title: str | None = Field(default=None, max_length=1000)
    language: str = Field(default="", index=True, max_length=10)
    published_at: datetime | None = Field(default=None, index=True)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    summary_method: str = Field(default="", max_length=100)
    topic: str = Field(default="", index=True, max_length=300)
    tone: str = Field(default="unknown", index=True, max_length=20)
    sentiment: float | None = None
    subjectivity_rate: float = 0.0
    loaded_per_100_words: float = 0.0
    hedging_rate: float = 0.0
    quote_share: float = 0.0
    source_count: int = 0
    one_sided: bool = False
    job_id: int | None = Field(default=None, foreign_key="job.id")
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class NewsDigest(SQLModel, table=True):
    """A generated digest (daily/weekly): Markdown plus what it was made from and by which generator."""

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    period: str = Field(max_length=20)  # the workflow: daily | weekly | topic (brief) | run (report)
    period_start: datetime
    period_end: datetime
    title: str = Field(max_length=300)
    markdown: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    generator: str = Field(max_length=100)
    inputs: dict = _json()  # analysis ids, filters, fallback reason, cost
    pii_findings: int = 0
    status: str = Field(default="draft", index=True, max_length=20)  # draft | approved | rejected
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class NewsSchedule(SQLModel, table=True):
    """A saved news workflow (digest, topic brief) that the scheduler runs as a `news_generate` job every
    `every_hours`, as its owner; claimed by a compare-and-set on `next_run_at` (as OptionSchedule)."""

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    workflow: str = Field(max_length=20)  # daily | weekly | topic | run
    params: dict = _json()  # topic, run_id, use_openai, analyse_first
    every_hours: int = 24
    enabled: bool = True
    next_run_at: datetime = Field(index=True)
    last_run_at: datetime | None = None
    last_job_id: int | None = Field(default=None, foreign_key="job.id")
    created_by: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


# Tables of later features live in their own modules (kept small); importing them here registers them.
from core.store import (  # noqa: E402, F401, E501
    models_api,
    models_ingest,
    models_listings,
    models_market_extras,
    models_monitoring,
    models_privacy,
)
