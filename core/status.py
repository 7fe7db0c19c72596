"""Workbench health and the funnel counts shown on the Overview page and by `status`."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from core.bootstrap import _redacted
from core.config import get_settings
from core.store import jobs
from core.store.models import DataPackage, Item, Listing, RefinementRecord, RefinementRun, Sale
from core.store.raw import RawStoreError, get_raw_store
from core.store.sql import session_scope

STAGES = ("raw", "processed", "validated", "packaged", "listed", "sold")


def sql_health() -> dict:
    settings = get_settings()
    try:
        with session_scope() as session:
            session.exec(select(func.count()).select_from(Item)).one()
        dialect = "SQLite" if settings.sql_url.startswith("sqlite") else "PostgreSQL"
        return {"ok": True, "kind": dialect, "url": _redacted(settings.sql_url)}
    except Exception as exc:  # noqa: BLE001 - health reports any failure as text
        return {"ok": False, "kind": "SQL", "error": str(exc)}


def raw_health() -> dict:
    try:
        return get_raw_store().health()
    except (RawStoreError, RuntimeError, OSError) as exc:
        return {"ok": False, "kind": "MongoDB", "error": str(exc)}


def funnel_counts(raw_total: int | None = None) -> dict[str, int]:
    """Counts per stage. Validated counts kept items of each dataset's latest finished run."""
    if raw_total is None:
        health = raw_health()
        raw_total = health.get("total", 0) if health.get("ok") else 0
    with session_scope() as session:
        processed = session.exec(select(func.count()).select_from(Item)).one()
        latest_runs = (
            select(func.max(RefinementRun.id))
            .where(RefinementRun.status == "succeeded")
            .group_by(RefinementRun.dataset_id)
        )
        validated = session.exec(
            select(func.count()).select_from(RefinementRecord)
            .where(RefinementRecord.run_id.in_(latest_runs), RefinementRecord.kept.is_(True))
        ).one()
        packaged = session.exec(
            select(func.count()).select_from(DataPackage).where(DataPackage.status == "published")
        ).one()
        listed = session.exec(select(func.count()).select_from(Listing).where(Listing.status == "listed")).one()
        sold = session.exec(select(func.count()).select_from(Sale).where(Sale.status == "paid")).one()
    return {"raw": raw_total, "processed": processed, "validated": validated, "packaged": packaged,
            "listed": listed, "sold": sold}


def workbench_status(job_limit: int = 10) -> dict:
    raw = raw_health()
    sql = sql_health()
    counts = funnel_counts(raw.get("total", 0) if raw.get("ok") else 0) if sql["ok"] else {}
    return {"sql": sql, "raw": raw, "counts": counts, "recent_jobs": jobs.recent_jobs(job_limit) if sql["ok"] else []}
