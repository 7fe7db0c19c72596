"""SQLModel tables of the REST API (issue 17): API keys.

Imported at the end of core.store.models so every table is on SQLModel.metadata (Alembic, create_all).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from core.store.models import utcnow


class ApiKey(SQLModel, table=True):
    """A user's API key. Only a keyed hash of the secret is kept; `prefix` lets the owner tell keys apart."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)  # the first characters of the key as shown once, for display
    key_hash: str = Field(index=True, unique=True, max_length=64)  # HMAC-SHA256 hex of the whole key
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
