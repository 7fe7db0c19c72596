"""Refinement runs inside the stores: load a dataset's items, persist a run and its per-item records.

A run writes, in order: the signals and decisions tables under data/processed/<dataset>/ (Parquet),
the kept items under data/validated/<dataset>/ (atomically, so an interrupted run leaves no partial
file), then the RefinementRun row with its counts and one RefinementRecord per item.
"""

from __future__ import annotations

import json
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert
from sqlmodel import select

from core import tenancy
from core.auth import Principal
from core.config import PROJECT_ROOT
from core.recovery import in_progress_mark
from core.refine.recipe import RecipeError, default_recipe, default_recipe_names, parse_recipe
from core.store import lake, processes
from core.store.models import Dataset, Item, RefinementRecord, RefinementRun
from core.store.sql import get_engine, session_scope

# Signal columns copied into each RefinementRecord so the Raw Explorer can show them without Parquet.
RECORD_SIGNALS = ("quality", "completeness", "clarity", "relevance", "validity", "language", "language_confidence",
                  "content_type", "topic_label", "pii_count", "word_count", "price_outlier", "learned_quality")
ITEM_COLUMNS = ["id", "item_id", "source_id", "source_app", "data_type", "url", "title", "text", "fields",
                "created_at"]


class RefineError(ValueError):
    """A run cannot start or finish; the message says why."""


@lru_cache(maxsize=1)
def code_version() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def list_datasets(principal: Principal | None) -> list[dict]:
    """The datasets the principal may refine and package (a supplier's own; every one for an admin)."""
    return tenancy.visible_datasets(principal)


def load_items(dataset_id: int) -> pd.DataFrame:
    """All items of a dataset in the signal-contract shape (id is the item id as a string)."""
    query = select(Item.id, Item.source_id, Item.source_app, Item.data_type, Item.url, Item.title, Item.text,
                   Item.fields, Item.created_at).where(Item.dataset_id == dataset_id).order_by(Item.id)
    with get_engine().connect() as connection:
        rows = connection.execute(query).all()
    frame = pd.DataFrame(rows, columns=["item_id", "source_id", "source_app", "data_type", "url", "title", "text",
                                        "fields", "created_at"])
    frame.insert(0, "id", frame["item_id"].astype(str))
    frame["fields"] = [f if isinstance(f, dict) else (json.loads(f) if isinstance(f, str) else {})
                       for f in frame["fields"]]
    return frame[ITEM_COLUMNS]


def run_dir(dataset_name: str) -> Path:
    return lake.zone_path("processed", dataset_name)


def start_run(dataset_id: int, recipe: dict, recipe_hash: str, user_id: int | None, job_id: int | None) -> int:
    # The "running" mark lets start-up recovery tell this run from one whose process died (finish_run
    # replaces the timings); a run started by a job is judged by its job instead.
    with session_scope() as session:
        run = RefinementRun(dataset_id=dataset_id, recipe=recipe, recipe_hash=recipe_hash, status="running",
                            created_by=user_id, job_id=job_id, code_version=code_version(),
                            timings={"running": in_progress_mark()})
        session.add(run)
        session.flush()
        run_id = run.id
    processes.mark_in_progress(f"run:{run_id}")
    return run_id


def fail_run(run_id: int, error: str) -> None:
    """Record why a run failed and remove what it wrote, so a failed run never looks usable."""
    dataset_name = None
    with session_scope() as session:
        run = session.get(RefinementRun, run_id)
        if run:
            run.status, run.error = "failed", error[:2000]
            run.metrics = {**run.metrics, "error": error[:2000]}
            session.add(run)
            dataset_name = session.get(Dataset, run.dataset_id).name
    processes.mark_done(f"run:{run_id}")
    if dataset_name is not None:
        discard_run_outputs(dataset_name, run_id)


def run_output_paths(dataset_name: str, run_id: int) -> list[Path]:
    """The files only this run writes (items.parquet and the latest signals are shared by every run)."""
    directory = run_dir(dataset_name)
    return [directory / f"run-{run_id}-signals.parquet", directory / f"run-{run_id}-decisions.parquet",
            lake.zone_path("validated", dataset_name, f"run-{run_id}.parquet")]


def discard_run_outputs(dataset_name: str, run_id: int) -> None:
    """Delete a failed run's files and per-item records (a crash can land after either was written)."""
    for path in run_output_paths(dataset_name, run_id):
        path.unlink(missing_ok=True)
    with session_scope() as session:
        session.execute(delete(RefinementRecord).where(RefinementRecord.run_id == run_id))


def finish_run(run_id: int, dataset_name: str, items: pd.DataFrame, signals: pd.DataFrame,
               decisions: pd.DataFrame, funnel: list[dict], timings: dict, validated_text: pd.Series) -> dict:
    """Persist files, counts and per-item records of a finished run; returns the run summary."""
    directory = run_dir(dataset_name)
    lake.write_parquet(signals, directory / f"run-{run_id}-signals.parquet")
    lake.write_parquet(decisions, directory / f"run-{run_id}-decisions.parquet")
    lake.write_parquet(items.drop(columns=["fields"]).assign(fields=items["fields"].map(json.dumps)),
                       directory / "items.parquet")
    kept_mask = decisions["kept"].to_numpy(dtype=bool)
    validated = items.loc[kept_mask, ["id", "source_id", "source_app", "data_type", "url", "title"]].copy()
    validated["text"] = validated_text[kept_mask].to_numpy()
    validated["fields"] = items.loc[kept_mask, "fields"].map(json.dumps).to_numpy()
    for column in ("quality", "language", "topic_label", "content_type"):
        if column in signals.columns:
            validated[column] = signals.loc[kept_mask, column].to_numpy()
    validated["run_id"] = run_id
    validated_path = lake.zone_path("validated", dataset_name, f"run-{run_id}.parquet")
    lake.write_parquet(validated, validated_path)

    counts = _counts(decisions, funnel)
    metrics = _metrics(signals, kept_mask)
    _insert_records(run_id, items, signals, decisions)
    with session_scope() as session:
        run = session.get(RefinementRun, run_id)
        run.status, run.counts, run.metrics, run.timings = "succeeded", counts, metrics, timings
        run.validated_path = str(validated_path)
        session.add(run)
    processes.mark_done(f"run:{run_id}")
    return {"run_id": run_id, "counts": counts, "metrics": metrics, "validated_path": str(validated_path)}


def _counts(decisions: pd.DataFrame, funnel: list[dict]) -> dict:
    kept = int(decisions["kept"].sum())
    return {"input": len(decisions), "kept": kept, "dropped": len(decisions) - kept,
            "dropped_by_rule": {step["rule"]: int(step["dropped"]) for step in funnel},
            "funnel": [{k: (int(v) if isinstance(v, (int, np.integer)) else v) for k, v in step.items()}
                       for step in funnel]}


def _metrics(signals: pd.DataFrame, kept_mask: np.ndarray) -> dict:
    metrics: dict = {}
    for column in ("quality", "completeness", "clarity", "relevance", "validity"):
        if column in signals.columns:
            values = pd.to_numeric(signals[column], errors="coerce")
            metrics[f"mean_{column}"] = round(float(values.mean()), 4) if len(values) else None
            metrics[f"mean_{column}_kept"] = round(float(values[kept_mask].mean()), 4) if kept_mask.any() else None
    if "language" in signals.columns:
        metrics["languages"] = signals.loc[kept_mask, "language"].value_counts().head(20).to_dict()
    if "pii_count" in signals.columns:
        metrics["items_with_pii"] = int((pd.to_numeric(signals["pii_count"]) > 0).sum())
    if "duplicate_cluster" in signals.columns:
        sizes = signals["duplicate_cluster"].value_counts()
        metrics["duplicate_clusters"] = int((sizes > 1).sum())
    return metrics


def _plain(value):
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else round(float(value), 4)
    return value


def _insert_records(run_id: int, items: pd.DataFrame, signals: pd.DataFrame, decisions: pd.DataFrame) -> None:
    present = [c for c in RECORD_SIGNALS if c in signals.columns]
    summary = signals[present].to_dict(orient="records") if present else [{}] * len(signals)
    no_clusters = pd.Series([None] * len(items))
    clusters = signals["duplicate_cluster"] if "duplicate_cluster" in signals.columns else no_clusters
    rows = [
        {"run_id": run_id, "item_id": int(item_id), "kept": bool(kept), "drop_reason": reason or None,
         "duplicate_cluster": None if cluster is None else str(cluster)[:64],
         "signals": {k: _plain(v) for k, v in sig.items()}}
        for item_id, kept, reason, cluster, sig in zip(items["item_id"], decisions["kept"], decisions["drop_reason"],
                                                       clusters, summary, strict=True)
    ]
    with session_scope() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(RefinementRecord), rows[start:start + 5000])


def list_runs(principal: Principal | None, dataset_id: int | None = None, limit: int = 50) -> pd.DataFrame:
    """Recent runs over the principal's datasets (admins: all), newest first."""
    tenancy.require_supplier(principal, "see refinement runs")
    with session_scope() as session:
        query = (select(RefinementRun, Dataset.name, Dataset.app)
                 .join(Dataset, Dataset.id == RefinementRun.dataset_id)
                 .order_by(RefinementRun.id.desc()).limit(limit))
        if dataset_id is not None:
            query = query.where(RefinementRun.dataset_id == dataset_id)
        if not tenancy.sees_everything(principal):
            query = query.where(Dataset.created_by == principal.id)
        rows = [{"run_id": run.id, "dataset": name, "status": run.status, "recipe_hash": run.recipe_hash,
                 "recipe_name": (run.recipe or {}).get("name", ""), "rules_changed": rules_changed(run.recipe, app),
                 "input": run.counts.get("input"), "kept": run.counts.get("kept"),
                 "mean_quality_kept": run.metrics.get("mean_quality_kept"), "created_at": run.created_at}
                for run, name, app in session.exec(query)]
    return pd.DataFrame(rows, columns=["run_id", "dataset", "status", "recipe_hash", "recipe_name", "rules_changed",
                                       "input", "kept", "mean_quality_kept", "created_at"])


def rules_changed(recipe: dict | None, app: str) -> list[str]:
    """The rules of a run's recipe that differ from the application's default recipe, as funnel labels."""
    try:
        rules = parse_recipe(recipe).rules
    except (RecipeError, TypeError):
        return []
    defaults = {rule.label for rule in default_recipe(app if app in default_recipe_names() else "text").rules}
    return [rule.label for rule in rules if rule.label not in defaults]


def run_choice_label(run: dict) -> str:
    """How a run reads in a selector: number, date, recipe and what was changed in it, and what it kept."""
    created = pd.Timestamp(run["created_at"]).strftime("%Y-%m-%d %H:%M") if run.get("created_at") else "?"
    changed = run.get("rules_changed") or []
    recipe = run.get("recipe_name") or run.get("recipe_hash") or "recipe"
    recipe += f" ({', '.join(changed)})" if changed else " (default rules)"
    kept = f"{int(run['kept']):,} of {int(run['input']):,} kept" if run.get("input") is not None else "no counts"
    return f"run {run['run_id']} · {created} · {recipe} · {kept}"


def run_detail(principal: Principal | None, run_id: int) -> dict:
    run = tenancy.run_for(principal, run_id)
    with session_scope() as session:
        return {**run, "dataset": session.get(Dataset, run["dataset_id"]).name}


def run_tables(principal: Principal | None, run_id: int) -> pd.DataFrame:
    """Items joined with the run's signals and decisions (one row per item), for the Quality page."""
    detail = run_detail(principal, run_id)
    directory = run_dir(detail["dataset"])
    signals = lake.read_parquet(directory / f"run-{run_id}-signals.parquet")
    decisions = lake.read_parquet(directory / f"run-{run_id}-decisions.parquet")
    # Texts stay out (they are most of the bytes); pages fetch the few they show with items_by_ids.
    items = lake.read_parquet(directory / "items.parquet", columns=["id", "source_id", "url", "title", "created_at"])
    merged = signals.merge(decisions, on="id", how="left", suffixes=("", "_decision"))
    return merged.merge(items, on="id", how="left", suffixes=("", "_item"))


def items_by_ids(principal: Principal | None, item_ids: list[str]) -> pd.DataFrame:
    """A few items by id (samples on the Refine and Quality pages) without loading the dataset.

    Items of datasets the principal does not own are left out, as if they did not exist.
    """
    tenancy.require_supplier(principal, "read items")
    numbers = [int(i) for i in item_ids]
    query = select(Item.id, Item.title, Item.text, Item.url, Item.source_id).where(Item.id.in_(numbers))
    owned = tenancy.visible_dataset_ids(principal)
    if owned is not None:
        query = query.where(Item.dataset_id.in_(owned))
    with session_scope() as session:
        rows = session.exec(query).all()
    frame = pd.DataFrame(rows, columns=["item_id", "title", "text", "url", "source_id"])
    frame.insert(0, "id", frame["item_id"].astype(str))
    return frame.drop(columns=["item_id"])


PREVIEW_CHARS = 300


def with_item_texts(principal: Principal | None, rows: pd.DataFrame, id_column: str = "id",
                    text_chars: int = PREVIEW_CHARS, fields: tuple[str, ...] = ("title", "text")) -> pd.DataFrame:
    """`rows` (a sample: run records, predictions, cluster members) with each item's `fields` (title, the start
    of its text, url...) beside it, for a page to show. Items the principal may not read get empty strings,
    as if missing."""
    keys = rows[id_column].astype(str).tolist()
    found = items_by_ids(principal, keys).set_index("id")
    values = {}
    for field in fields:
        column = found[field].fillna("").astype(str) if field in found else pd.Series("", index=found.index)
        by_id = (column.str.slice(0, text_chars) if field == "text" else column).to_dict()
        values[field] = [by_id.get(key, "") for key in keys]
    return rows.drop(columns=[c for c in fields if c in rows.columns]).assign(**values)
