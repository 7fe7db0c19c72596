"""`python -m core api` (serve the REST API) and `python -m core api-key create|list|revoke`."""

from __future__ import annotations

import argparse
import sys

from core.auth import ROLES

DEFAULT_PORT = 8600


def register(sub: argparse._SubParsersAction) -> None:
    api = sub.add_parser("api", help="Serve the REST API (FastAPI, OpenAPI at /openapi.json).",
                         description="Serve the REST API beside the Streamlit app, over the same stores and "
                                     "permissions. Listens on loopback unless --allow-remote is given.")
    api.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    api.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    api.add_argument("--allow-remote", action="store_true",
                     help="allow a non-loopback --host (put TLS in front of it)")
    api.set_defaults(handler=_cmd_api)

    keys = sub.add_parser("api-key", help="Create, list or revoke API keys.",
                          description="API keys for the REST API. `create` makes the account if it is missing "
                                      "and prints the key once; only a hash of it is stored.")
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a key (and the account if missing); prints the key once")
    create.add_argument("--user", required=True, help="the account's email (a bare NAME means NAME@workbench.local)")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", default="command line", help="what the key is for (default 'command line')")
    create.set_defaults(handler=_cmd_key_create)
    listing = actions.add_parser("list", help="list an account's keys (never the secrets)")
    listing.add_argument("--user", required=True)
    listing.set_defaults(handler=_cmd_key_list)
    revoke = actions.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id", type=int)
    revoke.set_defaults(handler=_cmd_key_revoke)


def _cmd_api(args: argparse.Namespace) -> int:
    from core.api.server import UnsafeBindError, serve

    if not 0 < args.port < 65536:
        print(f"error: --port must be 1 to 65535; got {args.port}.", file=sys.stderr)
        return 2
    try:
        serve(args.host, args.port, allow_remote=args.allow_remote)
    except UnsafeBindError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _account(user: str, role: str | None):
    from core.api.keys import account_for_cli
    from core.auth import AuthError

    try:
        return account_for_cli(user, role)
    except AuthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def _cmd_key_create(args: argparse.Namespace) -> int:
    from core.api.keys import ApiKeyError, create_api_key
    from core.bootstrap import init_workbench

    init_workbench()
    principal = _account(args.user, args.role)
    if principal is None:
        return 2
    try:
        created = create_api_key(principal, args.name)
    except ApiKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"API key {created['id']} ({created['name']}) for {principal.email} ({principal.role}). "
          "It is shown only now; store it safely:", file=sys.stderr)
    print(created["key"])
    return 0


def _cmd_key_list(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from core.api.keys import list_api_keys
    from core.auth import get_user
    from core.bootstrap import init_workbench
    from core.store.models import User
    from core.store.sql import session_scope

    init_workbench()
    # The local operator (shell access to DATA_DIR) may read any account's key list, as an admin could.
    email = (args.user if "@" in args.user else f"{args.user}@workbench.local").lower()
    with session_scope() as session:
        user_id = session.exec(select(User.id).where(User.email == email)).first()
    if user_id is None:
        print(f"error: no account {email}.", file=sys.stderr)
        return 2
    for row in list_api_keys(get_user(user_id)):
        state = f"revoked {row['revoked_at']:%Y-%m-%d %H:%M}" if row["revoked_at"] else "active"
        used = f"{row['last_used_at']:%Y-%m-%d %H:%M}" if row["last_used_at"] else "never"
        print(f"{row['id']:>5}  {row['prefix']}…  {row['name']:<30} {state:<24} last used {used}")
    return 0


def _cmd_key_revoke(args: argparse.Namespace) -> int:
    from core.api.keys import revoke_api_key
    from core.auth import cli_principal
    from core.bootstrap import init_workbench
    from core.tenancy import NotFoundOrDenied

    init_workbench()
    try:
        revoked = revoke_api_key(cli_principal(), args.key_id)
    except NotFoundOrDenied as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Revoked API key {revoked['id']} ({revoked['name']}).")
    return 0
