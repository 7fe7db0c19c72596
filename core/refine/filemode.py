"""File-mode refinement: `python -m core refine INPUT.jsonl --out DIR [--recipe RECIPE.yaml]`.

Reads one JSON object per line (an `id` and either `text` or listing fields), computes every signal,
applies the recipe and writes DIR/signals.parquet, DIR/decisions.parquet and DIR/summary.json. Bad
lines are reported with their line numbers and skipped. The three files are first written beside their
targets and renamed into place only once all three are complete, so a failed or interrupted run leaves
the previous outputs (or nothing) but never a partial file. The same input and recipe give the same
signals and decisions, byte for byte.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

import pandas as pd

from core.refine.cache import SignalCache
from core.refine.pipeline import compute_signals, executor_for
from core.refine.recipe import Recipe, RecipeError, default_recipe, load_recipe
from core.refine.rules import evaluate
from core.refine.signals.families import default_registry
from core.store.lake import atomic_path

DATA_TYPES = ("text", "listing", "tabular", "image", "audio")
TOP_LEVEL_KEYS = ("id", "text", "title", "data_type", "fields", "source_app", "url")
LISTING_KEYS = ("price", "currency", "location", "category", "sku", "beds", "baths", "area_m2")
MAX_REPORTED_BAD_LINES = 100
CACHE_DIRNAME = ".signal_cache"


class RefineInputError(ValueError):
    """The input file cannot be read at all (missing, unreadable, or not one usable line)."""


def _item_from_line(obj, seen: dict[str, int], line_number: int) -> dict:
    """The contract row for one parsed line; raises ValueError with the reason the line is unusable."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    raw_id = obj.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or not str(raw_id).strip():
        raise ValueError("missing or empty 'id' (a string or an integer)")
    item_id = str(raw_id)
    if item_id in seen:
        raise ValueError(f"duplicate id {item_id!r} (first on line {seen[item_id]})")
    text, title, url = obj.get("text"), obj.get("title"), obj.get("url")
    for name, value in (("text", text), ("url", url), ("source_app", obj.get("source_app"))):
        if value is not None and not isinstance(value, str):
            raise ValueError(f"'{name}' must be a string, got {type(value).__name__}")
    if title is not None and not isinstance(title, (str, int, float)):
        raise ValueError(f"'title' must be a string, got {type(title).__name__}")
    fields = obj.get("fields")
    if fields is not None and not isinstance(fields, dict):
        raise ValueError(f"'fields' must be an object, got {type(fields).__name__}")
    fields = {**(fields or {}), **{k: v for k, v in obj.items() if k not in TOP_LEVEL_KEYS}}
    has_listing_fields = any(key in fields for key in LISTING_KEYS)
    if text is None and not has_listing_fields:
        raise ValueError("needs 'text' or listing fields (title, price, currency, ...)")
    data_type = obj.get("data_type") or (
        "listing" if text is None or has_listing_fields and title else "text"
    )
    if data_type not in DATA_TYPES:
        raise ValueError(f"unknown data_type {data_type!r}; expected one of {', '.join(DATA_TYPES)}")
    seen[item_id] = line_number
    return {
        "id": item_id,
        "text": text or "",
        "title": None if title is None else str(title),
        "data_type": data_type,
        "fields": fields or None,
        "source_app": obj.get("source_app") or "file",
        "url": url,
    }


def read_items_jsonl(path: Path) -> tuple[pd.DataFrame, list[dict], int]:
    """(items in the signal contract, bad lines as {line, error}, number of non-blank lines)."""
    columns: dict[str, list] = {name: [] for name in TOP_LEVEL_KEYS}
    bad, seen, lines = [], {}, 0
    try:
        with open(path, "rb") as handle:
            for line_number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                lines += 1
                try:
                    item = _item_from_line(json.loads(raw.decode("utf-8")), seen, line_number)
                    for name, value in item.items():
                        columns[name].append(value)
                except UnicodeDecodeError as exc:
                    bad.append(
                        {"line": line_number, "error": f"not UTF-8 ({exc.reason} at byte {exc.start})"}
                    )
                except json.JSONDecodeError as exc:
                    bad.append(
                        {"line": line_number, "error": f"invalid JSON: {exc.msg} (column {exc.colno})"}
                    )
                except ValueError as exc:
                    bad.append({"line": line_number, "error": str(exc)})
    except OSError as exc:
        raise RefineInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    # Object columns keep the parsed strings as they are; pandas' default string dtype would copy every
    # text into an Arrow buffer, and the signal code would then turn them back into Python strings.
    items = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in columns.items()})
    return items, bad, lines


def _code_version() -> str:
    from core.refine.runs import code_version  # the lead's git lookup; imported late to keep start-up light

    return code_version()


def refine_file(
    input_jsonl: Path,
    out_dir: Path,
    recipe_path: Path | None = None,
    progress: Callable[[float, str], None] | None = None,
    *,
    workers: int | None = None,
    use_cache: bool = True,
) -> dict:
    """Refine a JSONL file into out_dir; returns the summary that is also written to summary.json.

    workers: processes for the signal batches (None: by input size, see core.refine.pipeline.executor_for).
    The signal cache lives in out_dir/.signal_cache, so re-running with another recipe reuses signals.
    """
    report = progress or (lambda fraction, message: None)
    timings, started = {}, time.perf_counter()
    recipe = load_recipe(recipe_path) if recipe_path else default_recipe("text")
    items, bad_lines, line_count = read_items_jsonl(Path(input_jsonl))
    if items.empty:
        raise RefineInputError(
            f"{input_jsonl}: no usable line ({line_count} non-blank line(s), "
            f"{len(bad_lines)} bad; first: {bad_lines[:3]})"
        )
    timings["read_s"] = time.perf_counter() - started
    report(0.02, f"Read {len(items):,} items ({len(bad_lines)} bad line(s) skipped)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    step = time.perf_counter()
    with executor_for(len(items), workers) as executor:
        signals = compute_signals(
            items,
            recipe.signal_params(),
            executor,
            lambda fraction, message: report(0.02 + 0.88 * fraction, message),
            cache=SignalCache(out_dir / CACHE_DIRNAME) if use_cache else None,
        )
    timings["signals_s"] = time.perf_counter() - step
    step = time.perf_counter()
    decisions, funnel = evaluate(signals, recipe)
    timings["rules_s"] = time.perf_counter() - step
    report(0.92, "Writing outputs")
    summary = _summary(input_jsonl, recipe, recipe_path, items, bad_lines, line_count, decisions, funnel)
    step = time.perf_counter()
    _write_outputs(out_dir, signals, decisions, summary, timings, step, started)
    report(1.0, f"Kept {summary['counts']['kept']:,} of {len(items):,} items")
    return summary


def _summary(
    input_jsonl, recipe: Recipe, recipe_path, items, bad_lines, line_count, decisions, funnel
) -> dict:
    kept = int(decisions["kept"].sum())
    reasons = Counter(decisions.loc[~decisions["kept"], "drop_reason"])
    return {
        "input": str(input_jsonl),
        "counts": {
            "lines": line_count,
            "items": len(items),
            "bad_lines": len(bad_lines),
            "kept": kept,
            "dropped": len(items) - kept,
        },
        "bad_lines": bad_lines[:MAX_REPORTED_BAD_LINES],
        "drop_reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        "funnel": funnel,
        "recipe": {
            "name": recipe.name,
            "hash": recipe.hash,
            "path": str(recipe_path) if recipe_path else None,
        },
        "code_version": _code_version(),
        "signal_versions": default_registry().versions(),
    }


def _write_outputs(
    out_dir: Path,
    signals: pd.DataFrame,
    decisions: pd.DataFrame,
    summary: dict,
    timings: dict,
    write_started: float,
    run_started: float,
) -> None:
    """All three files to temporaries first; renamed into place only when every one is complete."""
    targets = [out_dir / name for name in ("signals.parquet", "decisions.parquet", "summary.json")]
    with ExitStack() as stack:
        temporaries = [stack.enter_context(atomic_path(target)) for target in targets]
        signals.to_parquet(temporaries[0], index=False)
        decisions.to_parquet(temporaries[1], index=False)
        timings["write_s"] = time.perf_counter() - write_started
        timings["total_s"] = time.perf_counter() - run_started
        summary["timings"] = {k: round(v, 3) for k, v in timings.items()}
        temporaries[2].write_text(
            json.dumps(summary, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
        for temporary in temporaries:
            os.chmod(temporary, 0o644)
    # atomic_path renames on a clean exit, in order; an exception above removes every temporary.


def run_refine_file_cli(args: argparse.Namespace) -> int:
    """The file-mode subcommand (options: core.refine.cli.add_refine_arguments): 0 on success, 2 when the
    input or recipe cannot be used."""
    last_shown = [-1]

    def show(fraction: float, message: str) -> None:
        tenth = int(fraction * 10)
        if tenth != last_shown[0]:
            last_shown[0] = tenth
            print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    try:
        summary = refine_file(
            args.input,
            args.out,
            args.recipe,
            show,
            workers=args.workers,
            use_cache=not args.no_cache,
        )
    except (RefineInputError, RecipeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    counts = summary["counts"]
    print(
        f"Refined {counts['items']:,} items with recipe '{summary['recipe']['name']}' "
        f"({summary['recipe']['hash']}): kept {counts['kept']:,}, dropped {counts['dropped']:,}."
    )
    for line in summary["bad_lines"][:10]:
        print(f"  skipped line {line['line']}: {line['error']}")
    if counts["bad_lines"] > 10:
        print(f"  ... and {counts['bad_lines'] - 10} more bad line(s), listed in summary.json")
    for step in summary["funnel"]:
        print(f"  {step['rule']:<50} dropped {step['dropped']:>8,}  remaining {step['remaining']:>8,}")
    print(
        f"Outputs in {args.out}: signals.parquet, decisions.parquet, summary.json "
        f"({summary['timings']['total_s']:.1f} s)"
    )
    return 0
