"""SQLModel tables of the streaming ingest and bucket sources (issue 17).

Imported at the end of core.store.models so every table is on SQLModel.metadata (Alembic, create_all).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.store.models import _json, utcnow


class IngestCheckpoint(SQLModel, table=True):
    """How far a streamed ingest of one file into one dataset has committed, so a crash resumes there.

    A file is known by its fingerprint (name, size, head and tail hashes), not its path: the API spools
    each upload to a new temporary path. Counts so far travel in `report` so a resumed run reports the
    whole file. A finished ingest keeps its row (status done); ingesting the same file again starts over
    and finds every record already present."""

    __table_args__ = (UniqueConstraint("dataset_name", "fingerprint", name="uq_ingest_checkpoint"),)
    id: int | None = Field(default=None, primary_key=True)
    dataset_name: str = Field(index=True, max_length=200)
    fingerprint: str = Field(max_length=64)
    filename: str = Field(max_length=300)
    bytes_total: int = Field(sa_column=Column(BigInteger, nullable=False))
    line: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))  # last line of the last committed batch
    byte_offset: int | None = Field(default=None, sa_column=Column(BigInteger))  # just after `line`, when seekable
    status: str = Field(default="running", max_length=20)  # running | done | failed
    report: dict = _json()
    created_by: int = Field(foreign_key="user.id", index=True)
    started_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class BucketObjectSeen(SQLModel, table=True):
    """An object of a bucket source as it was when last ingested: a new ETag, size or mtime means changed."""

    __table_args__ = (UniqueConstraint("source_id", "key", name="uq_bucket_object"),)
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", index=True)
    key: str = Field(max_length=1024)
    etag: str | None = Field(default=None, max_length=200)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    mtime: str | None = Field(default=None, max_length=64)
    status: str = Field(default="ingested", max_length=20)  # ingested | failed
    report: dict = _json()  # counts of the last ingest of this object, or its error
    ingested_at: datetime = Field(default_factory=utcnow)
