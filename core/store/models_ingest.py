"""SQLModel tables of the streaming ingest and bucket sources (issue 17).

Imported at the end of core.store.models so every table is on SQLModel.metadata (Alembic, create_all).
"""

from __future__ import annotations
