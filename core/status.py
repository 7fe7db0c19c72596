"""Workbench health and the funnel counts shown on the Overview page and by `status`."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from core import tenancy
from core.auth import Principal
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


def funnel_counts(principal: Principal, raw_total: int | None = None) -> dict[str, int]:
    """Counts per stage over what the principal owns (admins: everything).

    Validated counts kept items of each dataset's latest finished run.
    """
    datasets = tenancy.visible_dataset_ids(principal)
    if datasets is not None:
        raw_total = _owned_raw_total(principal)
    elif raw_total is None:
        health = raw_health()
        raw_total = health.get("total", 0) if health.get("ok") else 0

    def mine(query, dataset_column):
        return query if datasets is None else query.where(dataset_column.in_(datasets))

    with session_scope() as session:
        processed = session.exec(mine(select(func.count()).select_from(Item), Item.dataset_id)).one()
        latest_runs = mine(
            select(func.max(RefinementRun.id)).where(RefinementRun.status == "succeeded"), RefinementRun.dataset_id,
        ).group_by(RefinementRun.dataset_id)
        validated = session.exec(
            select(func.count()).select_from(RefinementRecord)
            .where(RefinementRecord.run_id.in_(latest_runs), RefinementRecord.kept.is_(True))
        ).one()
        packaged = session.exec(mine(
            select(func.count()).select_from(DataPackage).where(DataPackage.status == "published"),
            DataPackage.dataset_id)).one()
        listings = select(Listing.id).where(Listing.status == "listed")
        sales = select(func.count()).select_from(Sale).where(Sale.status == "paid")
        if datasets is not None:
            listings = listings.where(Listing.seller_id == principal.id)
            sales = sales.join(Listing, Listing.id == Sale.listing_id).where(Listing.seller_id == principal.id)
        listed = session.exec(select(func.count()).select_from(listings.subquery())).one()
        sold = session.exec(sales).one()
    return {"raw": raw_total, "processed": processed, "validated": validated, "packaged": packaged,
            "listed": listed, "sold": sold}


def _owned_raw_total(principal: Principal) -> int:
    return sum(raw_counts_by_app(principal).values())


def raw_counts_by_app(principal: Principal | None) -> dict[str, int]:
    """Raw documents per application that the principal owns (admins: all, from the cheap estimate)."""
    tenancy.require_supplier(principal, "see raw counts")
    owned = tenancy.raw_source_ids(principal)
    if owned is None:
        health = raw_health()
        return dict(health.get("documents", {})) if health.get("ok") else {}
    if not owned:
        return {}
    try:
        raw = get_raw_store()
        return {app: raw.count(app, {"source_id": {"$in": owned}}) for app in raw.apps()}
    except (RawStoreError, RuntimeError, OSError):
        return {}


def workbench_status(principal: Principal | None, job_limit: int = 10) -> dict:
    """Store health, the funnel and recent jobs as the principal may see them (suppliers: their own)."""
    tenancy.require_supplier(principal, "see the workbench status")
    raw = raw_health()
    sql = sql_health()
    counts = funnel_counts(principal, raw.get("total", 0) if raw.get("ok") else 0) if sql["ok"] else {}
    if not tenancy.sees_everything(principal):
        sql = {k: v for k, v in sql.items() if k != "url"}  # the database address is for admins
    return {"sql": sql, "raw": raw, "counts": counts,
            "recent_jobs": jobs.recent_jobs(principal, job_limit) if sql["ok"] else []}
