"""SQLModel tables of the monitoring (issue 16): resource samples, alert rules and alerts, drift reports.

Imported at the end of core.store.models so every table is on SQLModel.metadata (Alembic, create_all).
Logs live in MongoDB (`monitoring.logs`), not here: they are many, short-lived and searched by text.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from core.store.models import utcnow


class ResourceSample(SQLModel, table=True):
    """One reading of the machine and the stores, taken by the scheduler tick; pruned to a bounded window."""

    id: int | None = Field(default=None, primary_key=True)
    taken_at: datetime = Field(default_factory=utcnow, index=True)
    cpu_percent: float = 0.0
    memory_percent: float = 0.0
    process_rss_mb: float = 0.0
    disk_percent: float = 0.0  # of the file system holding DATA_DIR
    disk_free_gb: float = 0.0
    sql_mb: float | None = None
    mongo_mb: float | None = None
    lake_mb: float | None = None


class AlertRule(SQLModel, table=True):
    """A threshold on one metric set by a user, over their own data (a dataset, or all of it when unset)."""

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True)
    metric: str = Field(max_length=50)
    threshold: float
    dataset_id: int | None = Field(default=None, foreign_key="dataset.id")
    enabled: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class MonitoringAlert(SQLModel, table=True):
    """A rule found breached: open while it stays breached, resolved when an evaluation finds it clear."""

    id: int | None = Field(default=None, primary_key=True)
    rule_id: int = Field(foreign_key="alertrule.id", index=True)
    owner_id: int = Field(foreign_key="user.id", index=True)
    metric: str = Field(max_length=50)
    value: float | None = None
    threshold: float
    message: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    status: str = Field(default="open", index=True, max_length=10)  # open | resolved
    raised_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None


class DriftReport(SQLModel, table=True):
    """One drift comparison (two runs of a dataset, or a model's training data against what it now scores)."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)  # runs | model_inputs | model_predictions
    dataset_id: int | None = Field(default=None, foreign_key="dataset.id", index=True)
    model_name: str | None = Field(default=None, max_length=100)
    reference: str = Field(max_length=300)  # what was compared, in words ("run 3", "training data of v2")
    current: str = Field(max_length=300)
    columns_checked: int = 0
    drifted: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    report: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    retrain_job_id: int | None = Field(default=None, foreign_key="job.id")
    job_id: int | None = Field(default=None, foreign_key="job.id")
    created_by: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
