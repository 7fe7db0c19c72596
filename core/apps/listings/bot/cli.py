"""`python -m core listing ...`: draft a listing from a fields file or a note, list and export stored drafts.

Runs as the local operator (an admin, as every workbench command does). Nothing is posted anywhere.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.cli_groups import command_group


def register(subparsers) -> None:
    commands = command_group(subparsers, "listing", help="Listing bot: draft, list and export listing drafts.",
                             description="Listing bot commands. Drafts are never posted to real sites.")
    draft = commands.add_parser("draft", help="Draft a listing from --fields F.json and/or --note TEXT.",
                                description="Prints the draft (title, description, attributes, price and its "
                                            "basis, personal data found, missing fields). --save stores it.")
    draft.add_argument("--fields", type=Path, help="a JSON object of fields (category, brand, price, ...)")
    draft.add_argument("--note", help="a rough note, e.g. 'Gazelle city bike, 57 cm, good, 350 eur, Utrecht'")
    draft.add_argument("--no-openai", action="store_true", help="use the local templates even with a key set")
    draft.add_argument("--save", action="store_true", help="store the draft (refused if fields are missing)")
    draft.add_argument("--redact", action="store_true", help="with --save: replace personal data by labels")
    draft.add_argument("--json", action="store_true", help="print the draft as JSON")
    draft.set_defaults(handler=_cmd_draft)
    listed = commands.add_parser("list", help="Stored drafts.")
    listed.set_defaults(handler=_cmd_list)
    export = commands.add_parser("export", help="Export stored drafts as json, csv or md.")
    export.add_argument("ids", type=int, nargs="+")
    export.add_argument("--format", choices=("json", "csv", "md"), default="json")
    export.add_argument("--out", type=Path, help="write here instead of standard output")
    export.set_defaults(handler=_cmd_export)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _cmd_draft(args: argparse.Namespace) -> int:
    from core.apps.listings.bot.checks import DraftRefused, describe_pii
    from core.apps.listings.bot.drafts import save_draft
    from core.apps.listings.bot.service import draft_listing
    from core.auth import cli_principal
    from core.bootstrap import init_workbench

    fields = None
    if args.fields:
        try:
            fields = json.loads(args.fields.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return _fail(f"cannot read {args.fields}: {exc}")
    if fields is None and not args.note:
        return _fail("give --fields F.json or --note TEXT")
    init_workbench()
    principal = cli_principal()
    try:
        draft = draft_listing(principal, fields=fields, note=args.note, use_openai=not args.no_openai)
    except ValueError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps({k: v for k, v in draft.items() if k != "evidence"}, ensure_ascii=False, indent=2,
                         default=str))
    else:
        print(f"{draft['title']}\n\n{draft['description']}\n")
        for name, value in draft["attributes"].items():
            print(f"  {name}: {value}")
        print(f"\nSuggested price: {draft['price_basis'].get('note')}")
        for line in [*draft["notes"], *(f"missing: {m}" for m in draft["missing"]),
                     *(f"personal data: {p}" for p in describe_pii(draft["pii"]))]:
            print(line)
    if args.save:
        try:
            saved = save_draft(principal, draft, redact=args.redact)
        except DraftRefused as exc:
            return _fail(str(exc))
        print(f"Saved draft {saved['id']} (version {saved['version']}).", file=sys.stderr)
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from core.apps.listings.bot.drafts import list_drafts
    from core.auth import cli_principal
    from core.bootstrap import init_workbench

    init_workbench()
    for draft in list_drafts(cli_principal()):
        price = "" if draft["price"] is None else f"{draft['price']:g} {draft['currency']}"
        print(f"{draft['id']}\tv{draft['version']}\t{draft['category']}\t{price}\t{draft['title']}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from core.apps.listings.bot.export import export_drafts
    from core.auth import PermissionDenied, cli_principal
    from core.bootstrap import init_workbench

    init_workbench()
    try:
        data = export_drafts(cli_principal(), args.ids, args.format)
    except (PermissionDenied, ValueError) as exc:
        return _fail(str(exc))
    if args.out:
        args.out.write_bytes(data)
        print(f"Wrote {len(args.ids)} draft(s) to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(data.decode())
    return 0
