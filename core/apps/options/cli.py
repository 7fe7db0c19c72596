"""`python -m core options ...`: the options application from a terminal.

Registered lazily: only `greeks` runs on the hot path of the speed benchmark, so this module imports
nothing heavy at load time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    options = sub.add_parser("options", help="Options analytics: implied volatility and greeks, chains, paper trades.",
                             description="Options analytics. Never places a real order.")
    commands = options.add_subparsers(dest="options_command", required=True, metavar="OPTIONS_COMMAND")
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
