"""System resources while the workbench runs: CPU, memory, the disk of DATA_DIR and the stores' sizes.

The monitoring tick takes a sample every MONITORING_SAMPLE_SECONDS and prunes the table to the last
MONITORING_KEEP_HOURS and at most MONITORING_MAX_SAMPLES rows, so the history stays bounded whatever
the uptime. Machine figures are not anyone's data, so every signed-in supplier and admin sees them.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import psutil
from sqlalchemy import delete, func
from sqlmodel import select

from core import tenancy
from core.auth import Principal
from core.config import get_settings
from core.store.models_monitoring import ResourceSample
from core.store.sql import session_scope

MB = 1024 * 1024
LAKE_ZONES = ("raw", "processed", "validated", "packages", "models")


def directory_mb(path: Path) -> float:
    """Bytes under `path` in MB (files that vanish while walking are skipped)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return round(total / MB, 2)


def _sql_mb() -> float | None:
    settings = get_settings()
    if settings.sql_url.startswith("sqlite"):
        database = Path(settings.sql_url.split("///", 1)[-1])
        files = [database, database.with_name(database.name + "-wal")]
        return round(sum(f.stat().st_size for f in files if f.exists()) / MB, 2)
    from sqlalchemy import text

    with session_scope() as session:
        return round(float(session.execute(text("SELECT pg_database_size(current_database())")).scalar()) / MB, 2)


def _mongo_mb() -> float | None:
    settings = get_settings()
    if settings.mongodb_uri:
        from core.store.raw import get_raw_store

        client = get_raw_store().client
        return round(sum(client[name].command("dbstats").get("storageSize", 0)
                         for name in client.list_database_names()) / MB, 2)
    return directory_mb(settings.data_dir / "mongo")


def take_sample() -> dict:
    """One reading, not stored. A store that cannot be measured reads None rather than failing the sample."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    disk = psutil.disk_usage(str(settings.data_dir))
    sample = {"taken_at": datetime.now(UTC), "cpu_percent": float(psutil.cpu_percent(interval=0.1)),
              "memory_percent": float(psutil.virtual_memory().percent),
              "process_rss_mb": round(psutil.Process().memory_info().rss / MB, 1),
              "disk_percent": float(disk.percent), "disk_free_gb": round(disk.free / 1024 ** 3, 2)}
    for key, measure in (("sql_mb", _sql_mb), ("mongo_mb", _mongo_mb),
                         ("lake_mb", lambda: round(sum(directory_mb(settings.data_dir / z) for z in LAKE_ZONES), 2))):
        try:
            sample[key] = measure()
        except Exception:  # noqa: BLE001 - one unreadable store must not lose the other figures
            sample[key] = None
    return sample


def record_sample(sample: dict | None = None) -> dict:
    """Store a sample (a new one by default) and prune the window; returns what was stored."""
    sample = sample or take_sample()
    with session_scope() as session:
        session.add(ResourceSample(**sample))
    prune_samples()
    return sample


def sample_if_due(now: datetime | None = None) -> dict | None:
    """The tick's entry: a new sample when the last one is older than MONITORING_SAMPLE_SECONDS."""
    now = now or datetime.now(UTC)
    with session_scope() as session:
        last = session.exec(select(func.max(ResourceSample.taken_at))).one()
    if last is not None:
        last = last if last.tzinfo else last.replace(tzinfo=UTC)
        if (now - last).total_seconds() < get_settings().monitoring_sample_seconds:
            return None
    return record_sample()


def prune_samples(now: datetime | None = None) -> int:
    """Drop samples older than the window and beyond the row limit; returns how many went."""
    settings = get_settings()
    now = now or datetime.now(UTC)
    with session_scope() as session:
        removed = session.execute(delete(ResourceSample).where(
            ResourceSample.taken_at < now - timedelta(hours=settings.monitoring_keep_hours))).rowcount or 0
        boundary = session.exec(select(ResourceSample.id).order_by(ResourceSample.id.desc())
                                .offset(settings.monitoring_max_samples).limit(1)).first()
        if boundary is not None:
            removed += session.execute(delete(ResourceSample).where(ResourceSample.id <= boundary)).rowcount or 0
    return removed


def resource_history(principal: Principal | None, hours: float | None = None) -> pd.DataFrame:
    """Samples of the last `hours` (the whole window by default), oldest first."""
    tenancy.require_supplier(principal, "see system resources")
    since = datetime.now(UTC) - timedelta(hours=hours or get_settings().monitoring_keep_hours)
    with session_scope() as session:
        rows = [r.model_dump(exclude={"id"}) for r in session.exec(
            select(ResourceSample).where(ResourceSample.taken_at >= since).order_by(ResourceSample.taken_at))]
    columns = list(ResourceSample.model_fields)[1:]
    return pd.DataFrame(rows, columns=columns)


def latest_sample() -> dict | None:
    with session_scope() as session:
        row = session.exec(select(ResourceSample).order_by(ResourceSample.id.desc())).first()
        return row.model_dump() if row else None
