"""Refinement of a stored dataset: signals once (cached), recipes applied as often as a user likes.

The Refine page calls `dataset_signals` once (as a job when not cached), then re-applies recipes to
the cached table on every slider move; `refine_dataset` turns one recipe into a recorded run.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Callable

import pandas as pd

from core import tenancy
from core.auth import Principal
from core.refine.cache import SignalCache
from core.refine.pipeline import compute_signals, executor_for
from core.refine.recipe import Recipe, default_recipe, default_recipe_names, parse_recipe
from core.refine.rules import evaluate, texts_for_export
from core.refine.runs import RefineError, fail_run, finish_run, load_items, start_run
from core.refine.signals.learned import registry_with_learned_quality, scorer_for
from core.store import lake

Progress = Callable[[float, str], None]


def recipe_for(app: str) -> Recipe:
    return default_recipe(app if app in default_recipe_names() else "text")


def signals_path(dataset_name: str) -> Path:
    return lake.zone_path("processed", dataset_name, "signals-latest.parquet")


def cached_signals(principal: Principal | None, dataset_name: str) -> pd.DataFrame | None:
    """The latest computed signals of a dataset (None when not computed yet)."""
    tenancy.dataset_for(principal, dataset_name, action="read signals")
    path = signals_path(dataset_name)
    return lake.read_parquet(path) if path.exists() else None


def _params_for(dataset: dict, recipe: Recipe):
    params = recipe.signal_params()
    if dataset.get("topic_keywords") and not params.topic_keywords:
        params = dataclasses.replace(params, topic_keywords=tuple(dataset["topic_keywords"]))
    return params


def dataset_signals(principal: Principal | None, dataset_name: str, recipe: Recipe | None = None,
                    progress: Progress | None = None, workers: int | None = None,
                    use_cache: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compute (reusing the per-family cache unless use_cache is False) the signals of every item;
    returns (items, signals). workers: processes for the signal batches (None: by size, see executor_for)."""
    dataset = tenancy.dataset_for(principal, dataset_name, action="compute signals")
    recipe = recipe or recipe_for(dataset["app"])
    items = load_items(dataset["id"])
    if items.empty:
        raise RefineError(f"Dataset '{dataset_name}' has no items yet.")
    cache = SignalCache(lake.zone_path("processed", dataset_name, "signal-cache")) if use_cache else None
    executor = executor_for(len(items), workers)
    # A dataset with its own quality model (ML Lab) also gets the learned_quality column.
    scorer = scorer_for(principal, dataset_name)
    registry = registry_with_learned_quality(scorer) if scorer is not None else None
    with executor:
        signals = compute_signals(items, _params_for(dataset, recipe), executor, progress=progress, cache=cache,
                                  registry=registry)
    lake.write_parquet(signals, signals_path(dataset_name))
    return items, signals


def preview(signals: pd.DataFrame, recipe: Recipe) -> dict:
    """What a recipe would do to cached signals: decisions and the per-rule funnel (no writes)."""
    outcome = evaluate(signals, recipe)  # one pass gives both
    return {"decisions": outcome.decisions, "funnel": outcome.funnel}


def refine_dataset(principal: Principal | None, dataset_name: str, recipe: Recipe | dict | None = None,
                   job_id: int | None = None, progress: Progress | None = None, workers: int | None = None,
                   use_cache: bool = True) -> dict:
    """Run a recipe over a dataset and record it: RefinementRun, one record per item, validated file.

    workers and use_cache: as for dataset_signals."""
    notify = progress or (lambda fraction, message: None)
    dataset = tenancy.dataset_for(principal, dataset_name, action="refine datasets")
    if isinstance(recipe, dict):
        recipe = parse_recipe(recipe)
    recipe = recipe or recipe_for(dataset["app"])
    run_id = start_run(dataset["id"], recipe.to_dict(), recipe.hash, principal.id, job_id)
    try:
        started = time.perf_counter()
        items, signals = dataset_signals(principal, dataset_name, recipe,
                                         progress=lambda f, m: notify(0.02 + 0.8 * f, m), workers=workers,
                                         use_cache=use_cache)
        signals_s = time.perf_counter() - started
        notify(0.85, "Applying the recipe")
        decisions, funnel = evaluate(signals, recipe)  # one pass: the decisions and the funnel agree
        texts = texts_for_export(items["text"], signals, recipe)
        notify(0.9, "Writing the run and the validated items")
        timings = {"signals_s": round(signals_s, 3), "total_s": round(time.perf_counter() - started, 3)}
        summary = finish_run(run_id, dataset_name, items, signals, decisions, funnel, timings, texts)
    except BaseException as exc:
        fail_run(run_id, f"{type(exc).__name__}: {exc}")
        raise
    notify(1.0, f"Kept {summary['counts']['kept']:,} of {summary['counts']['input']:,} items")
    return summary
