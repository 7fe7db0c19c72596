"""`python -m core options ...`: the options application from a terminal.

Registered lazily: only `greeks` runs on the hot path of the speed benchmark, so this module imports
nothing heavy at load time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.cli_groups import command_group


def register(sub: argparse._SubParsersAction) -> None:
    commands = command_group(sub, "options",
                             help="Options analytics: implied volatility and greeks, chains, paper trades.",
                             description="Options analytics. Never places a real order.")
    greeks = commands.add_parser(
        "greeks", help="Implied volatility and greeks for a CSV of option quotes.",
        description="Input columns: id, type (call|put), spot, strike, expiry_years, rate, dividend_yield "
                    "(continuous, decimals), price (mid). Output: id, implied_vol, delta, gamma, vega, theta, rho, "
                    "reason. Vega and rho per 1 percentage point, theta per calendar day (/365). Rows that cannot "
                    "be solved get an empty implied_vol and a reason.")
    greeks.add_argument("input", type=Path, metavar="IN.csv")
    greeks.add_argument("--out", type=Path, required=True, metavar="OUT.csv")
    greeks.add_argument("--threads", type=int, default=None, help="worker threads (default: CPU count, max 4)")
    greeks.add_argument("--max-vol-uncertainty", type=float, default=None,
                        help="flag rows whose quote pins the volatility down less tightly than this "
                             "(absolute; default 3e-7)")
    greeks.add_argument("--json", action="store_true", help="print the summary as JSON")
    greeks.set_defaults(handler=_cmd_greeks)

    simulate = commands.add_parser("simulate", help="Serve the offline market simulator on 127.0.0.1.",
                                   description="Serve the offline market simulator (the broker API shape) until "
                                               "interrupted.")
    simulate.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    simulate.add_argument("--seed", type=int, default=7)
    simulate.set_defaults(handler=_cmd_simulate)

    snapshot = commands.add_parser("snapshot", help="Snapshot chains from the configured broker into the stores.",
                                   description="Fetch chains (Schwab when configured, else the local simulator), "
                                               "store them raw and standardized, mark paper positions to market.")
    snapshot.add_argument("symbols", nargs="*", metavar="SYMBOL")
    snapshot.set_defaults(handler=_cmd_snapshot)

    watch = commands.add_parser("watch", help="Run the snapshot scheduler: submit every saved schedule's due jobs.",
                                description="Loop until interrupted: every --poll seconds, submit an "
                                            "options_snapshot job for each saved schedule that is due (the app "
                                            "does the same in a background thread while it runs; a run is "
                                            "never submitted twice).")
    watch.add_argument("--poll", type=float, default=10.0, help="seconds between checks (default 10)")
    watch.add_argument("--once", action="store_true", help="check once, wait for the jobs submitted, exit")
    watch.set_defaults(handler=_cmd_watch)


def _cmd_greeks(args: argparse.Namespace) -> int:
    from core.apps.options.greeks_table import OptionsInputError, greeks_csv
    from core.apps.options.iv import MAX_VOL_UNCERTAINTY

    try:
        summary = greeks_csv(args.input, args.out, threads=args.threads,
                             max_vol_uncertainty=args.max_vol_uncertainty or MAX_VOL_UNCERTAINTY)
    except OptionsInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{summary['rows']} rows, {summary['solved']} solved; written to {args.out}", file=sys.stderr)
        for reason, count in summary["unsolved_by_reason"].items():
            print(f"  {count:>8}  {reason}", file=sys.stderr)
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from core.apps.options.simulator_server import serve_forever

    return serve_forever(port=args.port, seed=args.seed)


def _cmd_snapshot(args: argparse.Namespace) -> int:
    from core.apps.options.snapshots import snapshot_from_configured_broker
    from core.auth import cli_principal
    from core.bootstrap import init_workbench

    init_workbench()
    report = snapshot_from_configured_broker(cli_principal(), args.symbols or None)
    print(json.dumps(report, indent=2, default=str))
    return 0


def _cmd_watch(args: argparse.Namespace) -> int:
    import time

    from core.apps.options.schedule import run_due
    from core.bootstrap import init_workbench
    from core.store.jobs import wait_for

    init_workbench()
    if args.once:
        submitted = run_due()
        results = [wait_for(job_id, timeout_s=600) for job_id in submitted]
        print(json.dumps([{k: r[k] for k in ("id", "status", "message", "error", "result")} for r in results],
                         indent=2, default=str))
        return 0 if all(r["status"] == "succeeded" for r in results) else 1
    print(f"Options snapshot scheduler: checking every {args.poll:g} s (Ctrl+C to stop)", file=sys.stderr)
    try:
        while True:
            for job_id in run_due():
                print(f"submitted options_snapshot job {job_id}", file=sys.stderr)
            time.sleep(args.poll)
    except KeyboardInterrupt:
        return 0
