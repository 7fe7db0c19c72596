"""`python -m core property ...`: investment scenarios (no stores needed), valuation training and scoring.

Imports nothing heavy at load time: `property scenario` is a calculator and must start fast.
"""

from __future__ import annotations

import argparse
import json
import sys

from core.cli_groups import command_group

_SCENARIO_OPTIONS = (
    # flag, field, type, default, help
    ("--price", "price", float, None, "purchase price"),
    ("--down-pct", "down_pct", float, 20.0, "down payment, percent of the price (default 20)"),
    ("--rate", "rate", float, 6.0, "mortgage rate, percent a year (default 6)"),
    ("--years", "years", int, 30, "mortgage term in years (default 30)"),
    ("--rent", "rent", float, None, "monthly rent at full occupancy"),
    ("--vacancy", "vacancy", float, 5.0, "percent of the rent lost to vacancy (default 5)"),
    ("--costs", "costs", float, 0.0, "monthly operating costs: taxes, insurance, upkeep (default 0)"),
    ("--appreciation", "appreciation", float, 2.0, "property value growth, percent a year (default 2)"),
    ("--hold", "hold", int, 10, "holding period in years before the sale (default 10)"),
    ("--discount", "discount", float, 8.0, "discount rate for the NPV, percent a year (default 8)"),
    ("--buy-costs-pct", "buy_costs_pct", float, 0.0, "buying costs, percent of the price (default 0)"),
    ("--sell-costs-pct", "sell_costs_pct", float, 0.0, "selling costs, percent of the sale price (default 0)"),
    ("--rent-growth", "rent_growth", float, 0.0, "rent and cost growth, percent a year (default 0)"),
)


def register(subparsers) -> None:
    commands = command_group(subparsers, "property", help="Property analysis: investment scenarios and valuations.",
                             description="Property analysis commands.")
    scenario = commands.add_parser(
        "scenario", help="Mortgage payment, cash flow, cap rate, cash-on-cash, IRR and NPV of one purchase.",
        description="Figures of an investment scenario (numpy-financial). Percentages as percents (6 = 6 %%); "
                    "rent and costs per month. No stores are needed.")
    for flag, field, kind, default, text in _SCENARIO_OPTIONS:
        scenario.add_argument(flag, dest=field, type=kind, default=default, required=default is None, help=text)
    scenario.add_argument("--json", action="store_true", help="print the figures as JSON")
    scenario.set_defaults(handler=_cmd_scenario)

    train = commands.add_parser(
        "train", help="Train a valuation model (ML Lab) on listings or uploaded sales and calibrate its interval.",
        description="SOURCE is dataset:NAME (scraped listings or uploaded sales) or a CSV/Parquet file.")
    train.add_argument("source")
    train.add_argument("--name", required=True, help="model name in the ML Lab registry")
    train.add_argument("--target", default=None, help="price column (default: price, or SalePrice when present)")
    train.add_argument("--time-budget", type=float, default=120.0, help="model selection budget in seconds")
    train.add_argument("--level", type=float, default=0.8, help="interval level (default 0.8)")
    train.add_argument("--json", action="store_true")
    train.set_defaults(handler=_cmd_train)

    value = commands.add_parser(
        "value", help="Value every listing of a dataset: estimate, interval, flag and comparables, written back.",
        description="Writes the valuations beside the raw documents (MongoDB) and to SQL.")
    value.add_argument("dataset")
    value.add_argument("--model", required=True)
    value.add_argument("--version", default=None, help="number, champion or challenger (default champion)")
    value.add_argument("--json", action="store_true")
    value.set_defaults(handler=_cmd_value)


def _cmd_scenario(args: argparse.Namespace) -> int:
    from core.apps.listings.property.scenario import ScenarioError, ScenarioInputs, scenario_figures

    try:
        values = {field: getattr(args, field) for _, field, *_ in _SCENARIO_OPTIONS}
        figures = scenario_figures(ScenarioInputs(**values))
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    for key, value in figures.items():
        if key not in ("inputs", "cash_flows"):
            print(f"{key:24} {value if value is not None else '-'}")
    print("cash flows by year      " + ", ".join(f"{v:,.0f}" for v in figures["cash_flows"]))
    return 0


def _run_job(kind: str, params: dict, as_json: bool) -> int:
    from core.auth import cli_principal
    from core.bootstrap import init_workbench
    from core.store.jobs import run_foreground

    init_workbench()
    outcome = run_foreground(kind, params, cli_principal(), echo=None)
    if outcome["status"] != "succeeded":
        print(f"error: {outcome['error']}", file=sys.stderr)
        return 1
    result = outcome["result"]
    print(json.dumps(result, indent=2, default=str) if as_json else
          "\n".join(f"{k}: {v}" for k, v in result.items() if not isinstance(v, (list, dict))))
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    return _run_job("property_train", {"source": args.source, "name": args.name, "target": args.target,
                                       "time_budget_s": args.time_budget, "level": args.level}, args.json)


def _cmd_value(args: argparse.Namespace) -> int:
    return _run_job("property_value", {"dataset": args.dataset, "model": args.model, "version": args.version},
                    args.json)
