"""SQLModel tables of the monitoring (issue 16): metric samples, alerts, drift reports.

Imported at the end of core.store.models so every table is on SQLModel.metadata (Alembic, create_all).
"""

from __future__ import annotations
