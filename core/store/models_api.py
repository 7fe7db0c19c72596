"""SQLModel tables of the REST API (issue 17): API keys.

Imported at the end of core.store.models so every table is on SQLModel.metadata (Alembic, create_all).
"""

from __future__ import annotations
