"""SQLModel tables of GDPR requests (issue 19): erasures, the suppression list, notices on sold packages.

Imported at the end of core.store.models so every table is on SQLModel.metadata (Alembic, create_all).
None of these tables holds a plain identifier of the data subject: only keyed hashes and counts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from core.store.models import utcnow


class PrivacyErasure(SQLModel, table=True):
    """One erasure request as carried out: who asked, for which scope, and what changed in each store."""

    id: int | None = Field(default=None, primary_key=True)
    subject_key: str = Field(index=True, max_length=64)  # keyed hash of all the subject's identifiers
    scope_owner_id: int | None = Field(default=None, foreign_key="user.id")  # None: everyone's data (admin)
    job_id: int | None = Field(default=None, foreign_key="job.id")
    status: str = Field(default="running", max_length=20)  # running | succeeded | failed
    report: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    requested_by: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class SuppressedIdentifier(SQLModel, table=True):
    """An erased subject's identifier, as a keyed hash, checked on every ingest of its owner's data."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # email | phone | name
    identifier_hash: str = Field(index=True, max_length=64)
    name_words: int = Field(default=0)  # a name's word count: how long a run of words to hash when checking
    owner_id: int | None = Field(default=None, foreign_key="user.id", index=True)  # None: every owner's data
    erasure_id: int | None = Field(default=None, foreign_key="privacyerasure.id")
    created_by: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class PackageErasureNotice(SQLModel, table=True):
    """A sold package version held records of an erased subject: its buyers are told which rows to delete."""

    id: int | None = Field(default=None, primary_key=True)
    package_id: int = Field(foreign_key="datapackage.id", index=True)
    erasure_id: int = Field(foreign_key="privacyerasure.id")
    rows_affected: int = Field(default=0)
    record_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    notice: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
