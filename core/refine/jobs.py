"""Refinement jobs: compute a dataset's signals, or run a recipe and record it."""

from __future__ import annotations

from sqlmodel import select

from core.refine.recipe import parse_recipe
from core.refine.service import dataset_signals, refine_dataset
from core.store.jobs import JobContext, job_function, submit
from core.store.models import ModelWatch
from core.store.sql import session_scope


@job_function("signals")
def signals_job(ctx: JobContext, params: dict) -> dict:
    # A recipe, when given, switches on the signals its rules need computed on demand (semantic neighbours).
    recipe = parse_recipe(params["recipe"]) if params.get("recipe") else None
    items, signals = dataset_signals(ctx.principal, params["dataset"], recipe, progress=ctx.progress)
    return {"items": len(items), "columns": len(signals.columns)}


@job_function("refine")
def refine_job(ctx: JobContext, params: dict) -> dict:
    def progress(fraction: float, message: str) -> None:
        ctx.progress(fraction, message)
        ctx.check_cancelled()

    summary = refine_dataset(ctx.principal, params["dataset"], params.get("recipe"), job_id=ctx.job_id,
                             progress=progress, workers=params.get("workers"),
                             use_cache=params.get("use_cache", True))
    counts = summary["counts"]
    ctx.log(f"Run {summary['run_id']}: kept {counts['kept']:,} of {counts['input']:,}; "
            + ", ".join(f"{rule} dropped {n:,}" for rule, n in counts["dropped_by_rule"].items()))
    if _watched(params["dataset"]):  # continuous training (ml/continuous.py): retrain the models watching it
        ctx.log(f"Retrain job {submit('retrain', {'dataset': params['dataset']}, ctx.principal)} submitted")
    return {"run_id": summary["run_id"], "kept": counts["kept"], "input": counts["input"]}


def _watched(dataset: str) -> bool:
    with session_scope() as session:
        return session.exec(select(ModelWatch.id).where(ModelWatch.dataset_name == dataset)).first() is not None
