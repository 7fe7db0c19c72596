"""`python -m core`: the workbench from a terminal, running the same functions as the app."""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from core.config import SettingsError

# Modules that add subcommands with `register(subparsers)`; each is optional until its feature lands.
COMMAND_MODULES = ("core.sources.cli", "core.refine.cli", "core.packaging.cli", "core.apps.options.cli",
                   "core.apps.news.cli", "core.apps.listings.monitor.cli", "core.apps.listings.property.cli",
                   "core.apps.listings.bot.cli", "core.api.cli")
# Commands whose own module is the only one imported: `options greeks` is timed end to end (issue 15) and
# the other modules' imports cost ~2 s of start-up.
STANDALONE_COMMANDS = {"options": "core.apps.options.cli", "property": "core.apps.listings.property.cli"}


def _cmd_init(args: argparse.Namespace) -> int:
    from core.bootstrap import init_workbench

    info = init_workbench()
    print(f"Workbench ready. Data directory: {info['data_dir']}")
    print(f"SQL store: {info['database']} (migrations applied)")
    if info["orphaned_jobs"]:
        print(f"Marked {info['orphaned_jobs']} interrupted job(s) as failed.")
    if info["failed_builds"] or info["failed_runs"]:
        print(f"Marked {info['failed_builds']} interrupted package build(s) and {info['failed_runs']} refinement "
              "run(s) as failed; their partial files were removed.")
    if info["removed_temp_files"]:
        print(f"Removed {info['removed_temp_files']} temporary file(s) left by stopped processes.")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from core.auth import cli_principal
    from core.bootstrap import init_workbench
    from core.status import workbench_status

    init_workbench()
    status = workbench_status(cli_principal(), job_limit=args.jobs)
    if args.json:
        print(json.dumps(status, indent=2, default=str))
        return 0 if status["sql"]["ok"] and status["raw"]["ok"] else 1
    for name in ("sql", "raw"):
        store = status[name]
        state = "ok" if store["ok"] else f"DOWN - {store.get('error')}"
        print(f"{name.upper():4} store: {store['kind']}: {state}")
    if status["counts"]:
        print("Funnel: " + "  ".join(f"{stage}={count}" for stage, count in status["counts"].items()))
    for job in status["recent_jobs"]:
        print(f"  job {job['id']:>4} {job['kind']:<12} {job['status']:<10} {job['progress']:5.0%} {job['message']}")
    return 0 if status["sql"]["ok"] and status["raw"]["ok"] else 1


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="DataBroker Workbench command line.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    init = sub.add_parser("init", help="Create the data directory and apply database migrations.",
                          description="Create the data directory and apply database migrations.")
    init.set_defaults(handler=_cmd_init)
    status = sub.add_parser("status", help="Show store health, funnel counts and recent jobs.",
                            description="Show store health, funnel counts and recent jobs.")
    status.add_argument("--json", action="store_true", help="print machine-readable JSON")
    status.add_argument("--jobs", type=int, default=10, help="how many recent jobs to list (default 10)")
    status.set_defaults(handler=_cmd_status)
    for module_name in COMMAND_MODULES:
        if command in STANDALONE_COMMANDS and module_name != STANDALONE_COMMANDS[command]:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if not f"{module_name}.".startswith(f"{exc.name}."):  # only the feature (or its package) may be missing
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
