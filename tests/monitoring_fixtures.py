"""Datasets with planted refinement runs and jobs with planted timings, built through the real stores."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from core.auth import Principal
from core.refine import runs
from core.sources.ingest import ensure_dataset, items_from_documents
from core.store.models import Job
from core.store.raw import content_hash
from core.store.sql import session_scope


def add_items(owner: Principal, name: str, rows: list[dict], source: str | None = None, app: str = "uploads") -> dict:
    """Items of `name` (created for `owner` on first use) whose fields are `rows` (listing-like records)."""
    dataset = ensure_dataset(owner, name, app, license="CC-BY-4.0", origin="enterprise", attested=True)
    now = datetime.now(UTC)
    source = source or f"upload:{name}"
    docs = [{"_id": uuid.uuid4().hex[:24], "source_id": source, "url": f"upload://{name}/{uuid.uuid4().hex}",
             "fetched_at": now, "content_hash": content_hash(f"{name}{source}{uuid.uuid4().hex}"),
             "raw_content": json.dumps(row), "metadata": {"format": "jsonl"}} for row in rows]
    items_from_documents(app, dataset["id"], docs)
    return dataset


def listing_rows(n: int, seed: int, area_scale: float = 1.0) -> list[dict]:
    """Tabular flat records: area (m2), rooms, city and a value that follows the area (no text, no `price`,
    so they stay tabular items with every field kept)."""
    rng = np.random.default_rng(seed)
    areas = rng.normal(80, 12, n) * area_scale
    return [{"area": float(round(a, 1)), "rooms": int(r), "city": str(c),
             "value": float(round(a * 3000 + e, 0))}
            for a, r, c, e in zip(areas, rng.integers(1, 6, n), rng.choice(["Lyon", "Paris", "Nice"], n),
                                  rng.normal(0, 5000, n), strict=True)]


def finish_planted_run(dataset: dict, kept_share: float, seed: int = 0, pii_share: float = 0.0,
                       created_at: datetime | None = None) -> int:
    """A succeeded run over every item of the dataset keeping about `kept_share` (quality decides who)."""
    items = runs.load_items(dataset["id"])
    n = len(items)
    rng = np.random.default_rng(seed)
    kept = rng.random(n) < kept_share
    quality = np.where(kept, rng.uniform(0.6, 0.9, n), rng.uniform(0.1, 0.4, n))
    signals = pd.DataFrame({"id": items["id"], "quality": quality, "language": ["en"] * n,
                            "duplicate_cluster": items["id"], "pii_count": (rng.random(n) < pii_share).astype(int)})
    decisions = pd.DataFrame({"id": items["id"], "kept": kept,
                              "drop_reason": ["" if k else "min_quality" for k in kept]})
    funnel = [{"rule": "min_quality", "dropped": int((~kept).sum()), "remaining": int(kept.sum())}]
    run_id = runs.start_run(dataset["id"], {"rules": []}, "planted", dataset["created_by"], None)
    runs.finish_run(run_id, dataset["name"], items, signals, decisions, funnel, {"total_s": 1.0}, items["text"])
    if created_at is not None:
        from core.store.models import RefinementRun

        with session_scope() as session:
            run = session.get(RefinementRun, run_id)
            run.created_at = created_at
            session.add(run)
    return run_id


def plant_job(owner: Principal, kind: str, status: str, seconds: float | None, *, params: dict | None = None,
              result: dict | None = None, error: str | None = None, log: str = "", ago_s: float = 60) -> int:
    started = datetime.now(UTC) - timedelta(seconds=ago_s)
    with session_scope() as session:
        job = Job(kind=kind, status=status, params=params or {}, result=result or {}, error=error, log=log,
                  created_by=owner.id, created_at=started, started_at=started,
                  finished_at=None if seconds is None else started + timedelta(seconds=seconds))
        session.add(job)
        session.flush()
        return job.id
