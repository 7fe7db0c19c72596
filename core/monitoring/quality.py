"""Data quality over time: per refinement run of a dataset, overall and per source.

Figures per (run, source), from the run's per-item RefinementRecords joined with their items:
kept share, drop reasons, mean quality signal, PII rate (items with any PII finding) and duplicate
rate (items in a near-duplicate cluster of two or more within the run).

A change marker says a run differs *clearly* from the runs before it. "Clearly" means both:
- the change is large enough to matter: at least CHANGE_FLOOR_RATE (5 percentage points) for a rate,
  CHANGE_FLOOR_MEAN (0.05) for the mean quality (signals are on a 0..1 scale);
- it is unlikely to be sampling noise: more than CHANGE_Z (3) standard errors of the difference
  between this run and the pooled previous runs (binomial for rates, Welch for the mean).
The baseline pools up to BASELINE_RUNS earlier runs of the same source, so one odd run does not become
the yardstick; a source needs one earlier run to be compared at all.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sqlmodel import select

from core import tenancy
from core.auth import Principal
from core.store.models import Item, RefinementRecord, RefinementRun
from core.store.sql import get_engine, session_scope

ALL_SOURCES = "(all sources)"
BASELINE_RUNS = 5
RECENT_RUNS = 12
CHANGE_Z = 3.0
CHANGE_FLOOR_RATE = 0.05
CHANGE_FLOOR_MEAN = 0.05
RATE_METRICS = {"kept_share": "kept share", "pii_rate": "PII rate", "duplicate_rate": "duplicate rate"}
COLUMNS = ["run_id", "created_at", "source", "items", "kept", "kept_share", "mean_quality", "quality_var",
           "pii_rate", "duplicate_rate", "drop_reasons", "changes"]


def _succeeded_runs(dataset_id: int, limit: int) -> list[dict]:
    with session_scope() as session:
        runs = session.exec(select(RefinementRun).where(RefinementRun.dataset_id == dataset_id,
                                                        RefinementRun.status == "succeeded")
                            .order_by(RefinementRun.id.desc()).limit(limit)).all()
        return [{"run_id": r.id, "created_at": r.created_at, "counts": r.counts} for r in reversed(runs)]


def _records(run_ids: list[int]) -> pd.DataFrame:
    query = (select(RefinementRecord.run_id, Item.source_id, RefinementRecord.kept, RefinementRecord.drop_reason,
                    RefinementRecord.duplicate_cluster, RefinementRecord.signals)
             .join(Item, Item.id == RefinementRecord.item_id).where(RefinementRecord.run_id.in_(run_ids)))
    with get_engine().connect() as connection:
        rows = connection.execute(query).all()
    frame = pd.DataFrame(rows, columns=["run_id", "source", "kept", "drop_reason", "cluster", "signals"])
    signals = [s if isinstance(s, dict) else {} for s in frame["signals"]]
    frame["quality"] = pd.to_numeric(pd.Series([s.get("quality") for s in signals], dtype=object), errors="coerce")
    pii = pd.to_numeric(pd.Series([s.get("pii_count") for s in signals], dtype=object), errors="coerce")
    frame["has_pii"] = pii.fillna(0).to_numpy() > 0
    sizes = frame.groupby(["run_id", "cluster"])["kept"].transform("size")
    frame["in_duplicates"] = frame["cluster"].notna().to_numpy() & (sizes.fillna(0).to_numpy() > 1)
    return frame.drop(columns=["signals"])


def _figures(group: pd.DataFrame) -> dict:
    quality = group["quality"].dropna()
    reasons = group.loc[~group["kept"], "drop_reason"].fillna("unknown").value_counts()
    return {"items": len(group), "kept": int(group["kept"].sum()), "kept_share": float(group["kept"].mean()),
            "mean_quality": float(quality.mean()) if len(quality) else None,
            "quality_var": float(quality.var(ddof=1)) if len(quality) > 1 else None,
            "pii_rate": float(group["has_pii"].mean()), "duplicate_rate": float(group["in_duplicates"].mean()),
            "drop_reasons": {str(k): int(v) for k, v in reasons.items()}}


def quality_over_time(principal: Principal | None, dataset: str, runs: int = RECENT_RUNS) -> dict:
    """{"runs": one row per (run, source) oldest first incl. ALL_SOURCES, with `changes` markers,
    "reasons": long table run_id, source, reason, items} for the dataset's last `runs` succeeded runs."""
    owned = tenancy.dataset_for(principal, dataset, action="see this dataset's quality")
    run_rows = _succeeded_runs(owned["id"], runs)
    if not run_rows:
        return {"runs": pd.DataFrame(columns=COLUMNS), "reasons": pd.DataFrame(
            columns=["run_id", "source", "reason", "items"])}
    records = _records([r["run_id"] for r in run_rows])
    created = {r["run_id"]: r["created_at"] for r in run_rows}
    rows = []
    for run_id, run_records in records.groupby("run_id", sort=True):
        rows.append({"run_id": int(run_id), "source": ALL_SOURCES, **_figures(run_records)})
        for source, group in run_records.groupby("source", sort=True):
            rows.append({"run_id": int(run_id), "source": str(source), **_figures(group)})
    table = pd.DataFrame(rows)
    if table["source"].nunique() <= 2:  # one source: its rows would repeat the dataset's own
        table = table[table["source"] == ALL_SOURCES].reset_index(drop=True)
        rows = [r for r in rows if r["source"] == ALL_SOURCES]
    table["created_at"] = table["run_id"].map(created)
    table["changes"] = mark_changes(table)
    reasons = [{"run_id": r["run_id"], "source": r["source"], "reason": reason, "items": n}
               for r in rows for reason, n in r["drop_reasons"].items()]
    return {"runs": table[COLUMNS].sort_values(["run_id", "source"]).reset_index(drop=True),
            "reasons": pd.DataFrame(reasons, columns=["run_id", "source", "reason", "items"])}


def mark_changes(table: pd.DataFrame) -> list[list[str]]:
    """For each row (run_id, source, items, rates, mean_quality, quality_var): readable clear changes
    against the same source's previous runs (see the module docstring for what counts as clear)."""
    ordered = table.reset_index(drop=True)
    markers: list[list[str]] = [[] for _ in range(len(ordered))]
    for _source, group in ordered.groupby("source", sort=False):
        positions = list(group.sort_values("run_id").index)
        for index, position in enumerate(positions[1:], start=1):
            baseline = ordered.loc[positions[max(0, index - BASELINE_RUNS):index]]
            markers[position] = _changes(ordered.loc[position], baseline)
    return markers


def _changes(row: pd.Series, baseline: pd.DataFrame) -> list[str]:
    found = []
    runs = f"the previous {len(baseline)} run" + ("s" if len(baseline) > 1 else "")
    n_now, n_before = float(row["items"]), float(baseline["items"].sum())
    for metric, label in RATE_METRICS.items():
        before = float((baseline[metric] * baseline["items"]).sum() / n_before) if n_before else math.nan
        now = float(row[metric])
        if rate_changed_clearly(now, n_now, before, n_before):
            found.append(f"{label} {before:.0%} -> {now:.0%} ({(now - before) * 100:+.0f} points vs {runs})")
    means = baseline.dropna(subset=["mean_quality"])
    if row["mean_quality"] is not None and not pd.isna(row["mean_quality"]) and len(means):
        weights = means["items"].astype(float)
        before = float(np.average(means["mean_quality"], weights=weights))
        before_var = float(np.average(means["quality_var"].fillna(0.0), weights=weights))
        now, now_var = float(row["mean_quality"]), float(row["quality_var"] or 0.0)
        if mean_changed_clearly(now, now_var, n_now, before, before_var, float(weights.sum())):
            found.append(f"mean quality {before:.2f} -> {now:.2f} ({now - before:+.2f} vs {runs})")
    return found


def rate_changed_clearly(now: float, n_now: float, before: float, n_before: float) -> bool:
    """A rate moved by at least the floor and by more than CHANGE_Z standard errors (two proportions)."""
    if not n_now or not n_before or math.isnan(before) or abs(now - before) < CHANGE_FLOOR_RATE:
        return False
    pooled = (now * n_now + before * n_before) / (n_now + n_before)
    error = math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n_now + 1 / n_before))
    return abs(now - before) / error > CHANGE_Z


def mean_changed_clearly(now: float, now_var: float, n_now: float, before: float, before_var: float,
                         n_before: float) -> bool:
    """A mean moved by at least the floor and by more than CHANGE_Z standard errors (Welch)."""
    if n_now < 2 or n_before < 2 or abs(now - before) < CHANGE_FLOOR_MEAN:
        return False
    error = math.sqrt(max(now_var / n_now + before_var / n_before, 1e-12))
    return abs(now - before) / error > CHANGE_Z


def latest_kept_share(principal: Principal | None, dataset_id: int | None = None) -> list[dict]:
    """The kept share of the latest succeeded run of each of the principal's datasets (or one): for alerts."""
    from core.store.models import Dataset

    tenancy.require_supplier(principal, "see refinement runs")
    with session_scope() as session:
        query = (select(RefinementRun, Dataset.name).join(Dataset, Dataset.id == RefinementRun.dataset_id)
                 .where(RefinementRun.status == "succeeded").order_by(RefinementRun.id.desc()))
        if not tenancy.sees_everything(principal):
            query = query.where(Dataset.created_by == principal.id)
        if dataset_id is not None:
            query = query.where(RefinementRun.dataset_id == dataset_id)
        latest: dict[int, dict] = {}
        for run, name in session.exec(query.limit(500)):
            if run.dataset_id not in latest and run.counts.get("input"):
                latest[run.dataset_id] = {"dataset_id": run.dataset_id, "dataset": name, "run_id": run.id,
                                          "kept_share": run.counts.get("kept", 0) / run.counts["input"]}
    return list(latest.values())
