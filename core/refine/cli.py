"""`python -m core refine`: a JSONL file headlessly, or a stored dataset as a recorded run."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    refine = sub.add_parser(
        "refine", help="Refine a JSONL file (--out DIR) or a stored dataset (--dataset NAME).",
        description="File mode: each input line is a JSON object with 'id' and either 'text' or listing fields; "
                    "writes DIR/signals.parquet, DIR/decisions.parquet and DIR/summary.json. Dataset mode: runs "
                    "the recipe inside the stores and records a refinement run. Diff mode "
                    "(`refine diff RUN_A RUN_B [--json]`): the items added, removed and changed from one run's "
                    "kept set to another's, with reasons.")
    add_refine_arguments(refine)
    refine.set_defaults(handler=_cmd_refine)


def add_refine_arguments(parser: argparse.ArgumentParser) -> None:
    """The one definition of the refine options, for file, dataset and diff mode alike."""
    parser.add_argument("input", nargs="?", type=Path, help="JSONL file (file mode): one object per line with 'id' "
                        "and 'text' or listing fields (title, price, currency, location, ...)")
    parser.add_argument("--out", type=Path, help="output directory (file mode; created if missing)")
    parser.add_argument("--recipe", type=Path, help="recipe YAML (default: the application's default recipe; "
                        "in file mode core/refine/recipes/text.yaml)")
    parser.add_argument("--dataset", help="refine this stored dataset instead of a file")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes for signals (default: 2 for large inputs, else in-process; "
                             "see core.refine.pipeline.executor_for)")
    parser.add_argument("--no-cache", action="store_true",
                        help="recompute every signal instead of reusing the signal cache")
    parser.add_argument("runs", nargs="*", metavar="RUN",
                        help="`refine diff RUN_A RUN_B [--json]`: what changed from run A's kept items to run B's")
    parser.add_argument("--json", action="store_true", help="diff: print the whole comparison as JSON")


def _cmd_refine(args: argparse.Namespace) -> int:
    if str(args.input) == "diff":
        return _diff_runs(args)
    if args.runs:
        print("error: extra arguments; to compare two runs use `refine diff RUN_A RUN_B`", file=sys.stderr)
        return 2
    if args.dataset:
        return _refine_dataset(args)
    if args.input is None or args.out is None:
        print("error: give INPUT.jsonl and --out DIR, or --dataset NAME", file=sys.stderr)
        return 2
    from core.refine.filemode import run_refine_file_cli

    return run_refine_file_cli(args)


def _refine_dataset(args: argparse.Namespace) -> int:
    from core.auth import cli_principal
    from core.bootstrap import init_workbench
    from core.refine.recipe import RecipeError, load_recipe
    from core.store.jobs import run_foreground

    init_workbench()
    params = {"dataset": args.dataset, "use_cache": not args.no_cache}
    if args.workers is not None:
        params["workers"] = args.workers
    if args.recipe:
        try:
            params["recipe"] = load_recipe(args.recipe).to_dict()
        except RecipeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    outcome = run_foreground("refine", params, cli_principal(), echo=print)
    if outcome["status"] != "succeeded":
        print(f"error: {outcome['error']}", file=sys.stderr)
        return 1
    print(json.dumps(outcome["result"]))
    return 0


def _diff_runs(args: argparse.Namespace) -> int:
    from core.auth import PermissionDenied, cli_principal
    from core.bootstrap import init_workbench
    from core.refine.versions import VersionError, changes_table, compare_runs

    if len(args.runs) != 2 or not all(r.isdigit() for r in args.runs):
        print("error: give two run ids: refine diff RUN_A RUN_B", file=sys.stderr)
        return 2
    init_workbench()
    try:
        comparison = compare_runs(cli_principal(), int(args.runs[0]), int(args.runs[1]), page_size=500)
    except (VersionError, PermissionDenied) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(comparison, default=str))
        return 0
    counts = comparison["counts"]
    print(f"A: run {comparison['run_a']['run_id']} {comparison['run_a']['label']} ({counts['kept_a']:,} kept)")
    print(f"B: run {comparison['run_b']['run_id']} {comparison['run_b']['label']} ({counts['kept_b']:,} kept)")
    print(f"added {counts['added']:,}  removed {counts['removed']:,}  changed {counts['changed']:,}  "
          f"unchanged {counts['unchanged_kept']:,}")
    table = changes_table(comparison)
    if not table.empty:
        print(table.to_string(index=False, max_colwidth=60))
    if max(counts["added"], counts["removed"], counts["changed"]) > comparison["page_size"]:
        print(f"(the first {comparison['page_size']} of each kind, by item id)")
    return 0
