"""SQLModel tables of the listings app (issue 14): marketplace monitor, property valuations, listing drafts.

Imported at the end of core.store.models so every table is on SQLModel.metadata (Alembic, create_all).
"""

from __future__ import annotations
