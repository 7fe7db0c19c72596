"""`python -m core monitor ...`: the marketplace monitor from a terminal, as the local operator."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.cli_groups import command_group


def register(subparsers) -> None:
    commands = command_group(subparsers, "monitor", help="Marketplace monitor: passes over watched listing sources.",
                             description="Marketplace monitor commands (run as the local operator).")
    run = commands.add_parser(
        "run", help="Run one monitoring pass and print its events as JSON lines.",
        description="Run one pass over every enabled watched source, or over --source NAME (watched from now on, "
                    "without a schedule, if it was not). Each event the pass finds is printed as one JSON line on "
                    "standard output: new, price_drop, relist, back_in_stock or gone. Progress goes to standard "
                    "error. The first pass over a source records its baseline and prints nothing.")
    run.add_argument("--source", metavar="NAME", help="a saved marketplace or property source")
    run.set_defaults(handler=_cmd_run)
    imported = commands.add_parser(
        "import", help="Import your own exported HTML or JSON file for a source that needs a login.",
        description="Listings behind a login (Facebook Marketplace) are never scraped: export them yourself and "
                    "import the file. Prints the pass's events as JSON lines, like `monitor run`.")
    imported.add_argument("file", type=Path)
    imported.add_argument("--source", metavar="NAME", required=True)
    imported.add_argument("--complete", action="store_true",
                          help="the file lists everything the source lists now (listings missing from it are gone)")
    imported.add_argument("--attest", action="store_true", required=True,
                          help="confirm the file is your own export and that you may use it")
    imported.set_defaults(handler=_cmd_import)


def _print_events(principal, pass_id: int) -> None:
    from core.apps.listings.monitor.inbox import pass_events

    for event in pass_events(principal, pass_id):
        print(json.dumps(event, default=str, ensure_ascii=False))


def _cmd_run(args: argparse.Namespace) -> int:
    from core.apps.listings.monitor.watches import JOB_KIND, MonitorError, list_watches, save_watch, watch_of_source
    from core.auth import PermissionDenied, cli_principal
    from core.bootstrap import init_workbench
    from core.store.jobs import run_foreground

    init_workbench()
    principal = cli_principal()
    try:
        if args.source:
            watch = watch_of_source(principal, args.source) or save_watch(principal, args.source, enabled=False)
            watches = [watch]
        else:
            watches = [w for w in list_watches(principal) if w["enabled"] and not w["needs_login"]]
    except (PermissionDenied, MonitorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not watches:
        print("error: no watched source to run; save a watch on the Marketplace monitor page or pass --source NAME",
              file=sys.stderr)
        return 2
    failed = 0
    for watch in watches:
        outcome = run_foreground(JOB_KIND, {"watch_id": watch["id"]}, principal,
                                 echo=lambda line: print(line, file=sys.stderr))
        if outcome["status"] != "succeeded":
            print(f"error: {watch['source_name']}: {outcome['error']}", file=sys.stderr)
            failed += 1
            continue
        print(outcome["result"]["summary"], file=sys.stderr)
        _print_events(principal, outcome["result"]["pass_id"])
    return 1 if failed else 0


def _cmd_import(args: argparse.Namespace) -> int:
    from core.apps.listings.monitor.exports import import_export
    from core.apps.listings.monitor.watches import MonitorError
    from core.auth import PermissionDenied, cli_principal
    from core.bootstrap import init_workbench

    if not args.file.is_file():
        print(f"error: no such file: {args.file}", file=sys.stderr)
        return 2
    init_workbench()
    principal = cli_principal()
    try:
        outcome = import_export(principal, args.source, args.file.name, args.file.read_bytes(), attested=args.attest,
                                complete=args.complete)
    except (PermissionDenied, MonitorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for where, why in outcome["rejected"]:
        print(f"skipped {where}: {why}", file=sys.stderr)
    print(outcome["summary"], file=sys.stderr)
    _print_events(principal, outcome["pass_id"])
    return 0
