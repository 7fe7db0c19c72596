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


class ModelVersion(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("name", "version", name="uq_model_version"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    version: str = Field(max_length=40)
    kind: str = Field(max_length=50)
    dataset_id: int | None = Field(default=None, foreign_key="dataset.id")
    path: str | None = Field(default=None, max_length=1000)
    metrics: dict = _json()
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
