"""The shape every `python -m core NAME ACTION ...` command group shares."""

from __future__ import annotations

import argparse


def command_group(subparsers: argparse._SubParsersAction, name: str, *, help: str,
                  description: str | None = None, metavar: str | None = None) -> argparse._SubParsersAction:
    """Add `name` with its own required ACTION subcommands and return them; each action sets `handler`."""
    group = subparsers.add_parser(name, help=help, description=description or help)
    dest = f"{name.replace('-', '_')}_command"
    return group.add_subparsers(dest=dest, required=True, metavar=metavar or f"{name.upper()}_COMMAND")
