"""`python -m core package build | list`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli_groups import command_group


def register(sub: argparse._SubParsersAction) -> None:
    actions = command_group(sub, "package", help="Build and list dataset package versions.", metavar="ACTION")
    build = actions.add_parser(
        "build", help="Build a package version from a dataset's latest (or given) refinement run.",
        description="Writes the version's directory: data files, manifest.json, croissant.json, datapackage.json "
                    "and README.md.")
    build.add_argument("--dataset", required=True)
    build.add_argument("--run", type=int, dest="run_id", help="refinement run id (default: the latest finished)")
    build.add_argument("--name", required=True, help="package title; its slug names the package")
    build.add_argument("--license", required=True, help="SPDX licence id or expression of the package")
    build.add_argument("--formats", default="jsonl,csv,parquet", help="comma-separated: jsonl,csv,parquet")
    build.add_argument("--change", default="minor", choices=("major", "minor", "patch"),
                       help="which part of the version to bump from the previous version")
    build.add_argument("--language", action="append", default=[], help="keep only this language (repeatable)")
    build.add_argument("--out", type=Path, help="write the version directory here instead of DATA_DIR/packages")
    build.set_defaults(handler=_cmd_build)
    listing = actions.add_parser("list", help="List package versions.", description="List package versions.")
    listing.add_argument("--dataset")
    listing.set_defaults(handler=_cmd_list)


def _cmd_build(args: argparse.Namespace) -> int:
    from core.auth import cli_principal
    from core.bootstrap import init_workbench
    from core.packaging.writer import PackageBuildError
    from core.refine.runs import RefineError
    from core.store.jobs import run_foreground

    init_workbench()
    params = {"dataset": args.dataset, "title": args.name, "license": args.license,
              "formats": [f.strip() for f in args.formats.split(",") if f.strip()], "run_id": args.run_id,
              "change": args.change, "languages": args.language, "out_dir": str(args.out) if args.out else None}
    outcome = run_foreground("package", params, cli_principal(), echo=print)
    if outcome["status"] != "succeeded":
        message = outcome["error"] or "unknown error"
        for known in (PackageBuildError, RefineError, FileExistsError):
            message = message.replace(f"{known.__name__}: ", "")
        print(f"error: {message}", file=sys.stderr)
        return 1
    result = outcome["result"]
    print(f"{result['name']} {result['version']}: {result['rows']} rows -> {result['path']}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from core.auth import cli_principal
    from core.bootstrap import init_workbench
    from core.packaging.build import list_packages

    init_workbench()
    table = list_packages(cli_principal(), args.dataset)
    if table.empty:
        print("No packages yet.")
        return 0
    print(table[["package_id", "name", "version", "status", "dataset", "run_id", "rows", "license", "path"]]
          .to_string(index=False))
    return 0
