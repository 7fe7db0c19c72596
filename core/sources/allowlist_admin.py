"""Admin-managed network allow-list entries (NetworkAllowEntry), and the allow-list a crawl uses.

Only an admin may add or remove an entry, and each change is audit-recorded with its reason:
an entry lets every crawl reach one private `host:port`, so it is an operator decision, never
part of a supplier's source config.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core import audit
from core.auth import Principal, require_role
from core.config import get_settings
from core.sources.allowlist import format_endpoint, parse_endpoint
from core.store.models import NetworkAllowEntry
from core.store.sql import session_scope

MAX_REASON = 300


def _as_dict(entry: NetworkAllowEntry) -> dict:
    return {"endpoint": format_endpoint((entry.host, entry.port)), "host": entry.host, "port": entry.port,
            "reason": entry.reason, "added_by": entry.added_by, "created_at": entry.created_at,
            "origin": "admin"}


def list_allowed_endpoints(principal: Principal | None) -> list[dict]:
    """Every allow-list entry: the NETWORK_ALLOWLIST setting's and the admin-added ones."""
    require_role(principal, "admin", action="see the network allow-list")
    from_settings = [{"endpoint": format_endpoint(e), "host": e[0], "port": e[1], "reason": "NETWORK_ALLOWLIST",
                      "added_by": None, "created_at": None, "origin": "settings"}
                     for e in sorted(get_settings().network_allowlist_endpoints)]
    with session_scope() as session:
        entries = session.exec(select(NetworkAllowEntry).order_by(NetworkAllowEntry.host, NetworkAllowEntry.port))
        return from_settings + [_as_dict(entry) for entry in entries]


def add_allowed_endpoint(principal: Principal | None, host_port: str, reason: str) -> dict:
    """Let crawls reach `host_port` (exactly that host and port) although it is private."""
    require_role(principal, "admin", action="change the network allow-list")
    host, port = parse_endpoint(host_port)
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("Say why this host:port may be reached (it is recorded in the audit log).")
    if len(reason) > MAX_REASON:
        raise ValueError(f"Keep the reason under {MAX_REASON} characters.")
    try:
        with session_scope() as session:
            entry = NetworkAllowEntry(host=host, port=port, reason=reason, added_by=principal.id)
            session.add(entry)
            session.flush()
            added = _as_dict(entry)
    except IntegrityError:
        raise ValueError(f"{format_endpoint((host, port))} is already on the allow-list.") from None
    audit.record("network_allow_added", principal.id, f"endpoint:{added['endpoint']}", reason=reason)
    return added


def remove_allowed_endpoint(principal: Principal | None, host_port: str) -> None:
    require_role(principal, "admin", action="change the network allow-list")
    host, port = parse_endpoint(host_port)
    with session_scope() as session:
        entry = session.exec(select(NetworkAllowEntry).where(
            NetworkAllowEntry.host == host, NetworkAllowEntry.port == port)).first()
        if entry is None:
            in_settings = (host, port) in get_settings().network_allowlist_endpoints
            where = " (it comes from NETWORK_ALLOWLIST; change the setting)" if in_settings else ""
            raise ValueError(f"{format_endpoint((host, port))} is not an admin allow-list entry{where}.")
        session.delete(entry)
    audit.record("network_allow_removed", principal.id, f"endpoint:{format_endpoint((host, port))}")


def workbench_allowlist() -> frozenset[tuple[str, int]]:
    """The allow-list crawls use now: NETWORK_ALLOWLIST plus admin entries (no permission needed to read
    it for a fetch; the demo sites' runtime ports are added by the guard itself)."""
    with session_scope() as session:
        entries = session.exec(select(NetworkAllowEntry.host, NetworkAllowEntry.port)).all()
    return get_settings().network_allowlist_endpoints | frozenset((host, port) for host, port in entries)
