"""Saved sources: what to collect, from where, under which licence and politeness exceptions."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core import audit, tenancy
from core.auth import PermissionDenied, Principal, require_role
from core.licenses import is_valid_license, normalize_license
from core.sources.crawl_config import network_policy_problem, without_network_policy
from core.store.models import Source
from core.store.raw import validate_app_name
from core.store.sql import session_scope

KINDS = ("feed", "sitemap", "listing_index", "json_api", "url_list", "bucket", "social")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,99}$")


class SourceError(ValueError):
    """A source definition is not usable; the message says what to fix."""


def save_source(principal: Principal, name: str, app: str, kind: str, config: dict, license: str | None = None,
                robots_override: bool = False) -> dict:
    """Create or update a source. Ignoring robots.txt needs an admin and is recorded; private hosts are
    never a source's choice (see core.sources.allowlist)."""
    require_role(principal, "supplier", "admin", action="configure sources")
    if not _NAME.match(name or ""):
        raise SourceError("Name the source with letters, digits, spaces, '_', '.', ':' or '-' (max 100).")
    if kind not in KINDS:
        raise SourceError(f"Kind must be one of {', '.join(KINDS)}.")
    validate_app_name(app)
    if kind == "bucket":
        config = _bucket_config(config, license)
    elif kind == "social":
        config = _social_config(principal, config, license, robots_override)
    else:
        config = _crawl_config(principal, config, license, robots_override)
    with session_scope() as session:
        source = session.exec(select(Source).where(Source.name == name)).first()
        if source is None:
            source = Source(name=name, app=app, kind=kind, created_by=principal.id)
        elif not tenancy.owns(principal, source.created_by):
            # Same words as for a name in use, so names of other suppliers' sources cannot be probed.
            raise PermissionDenied(f"A source named '{name}' already exists and is not yours; choose another name.")
        source.app, source.kind, source.config = app, kind, config
        source.license = normalize_license(license) if license else None
        source.robots_override = robots_override
        session.add(source)
        try:
            session.flush()
        except IntegrityError:
            raise SourceError(f"A source named '{name}' already exists.") from None
        saved = source.model_dump()
    audit.record("source_saved", principal.id, f"source:{name}", kind=kind, app=app,
                 robots_override=robots_override)
    return saved


def _crawl_config(principal: Principal, config: dict, license: str | None, robots_override: bool) -> dict:
    urls = [u.strip() for u in config.get("urls", []) if u and u.strip()]
    if not urls:
        raise SourceError("Give at least one start URL.")
    if any(not u.startswith(("http://", "https://")) for u in urls):
        raise SourceError("Start URLs must begin with http:// or https://.")
    if license and not is_valid_license(license):
        raise SourceError(f"'{license}' is not an SPDX licence identifier.")
    if robots_override and principal.role != "admin":
        raise SourceError("Only an admin can override robots.txt for a source.")
    if policy_problem := network_policy_problem(config):
        raise SourceError(f"Refused: {policy_problem}.")
    return {**without_network_policy(config), "urls": urls}


def _bucket_config(config: dict, license: str | None) -> dict:
    """A bucket source (s3://bucket/prefix): no secrets in its config, a licence, a dataset and the attestation."""
    from core.safe_names import UnsafeNameError, safe_name
    from core.sources.buckets import BucketError, check_bucket_config

    try:
        cleaned = check_bucket_config(config)
        safe_name(str(config.get("dataset") or ""), "dataset name")
    except (BucketError, UnsafeNameError) as exc:
        raise SourceError(str(exc)) from None
    if not license or not is_valid_license(license):
        raise SourceError("A bucket source needs the SPDX licence of its data (for example CC-BY-4.0).")
    if config.get("attested") is not True:
        raise SourceError("Confirm that you have the right to supply the bucket's data; the source was not saved.")
    return cleaned


def _social_config(principal: Principal, config: dict, license: str | None, robots_override: bool) -> dict:
    """Public posts from a Mastodon-compatible server or Bluesky's public API (core/sources/social_config.py)."""
    from core.sources.social_config import SocialConfigError, check_social_config

    if license and not is_valid_license(license):
        raise SourceError(f"'{license}' is not an SPDX licence identifier.")
    if robots_override and principal.role != "admin":
        raise SourceError("Only an admin can override robots.txt for a source.")
    try:
        return check_social_config(config)
    except SocialConfigError as exc:
        raise SourceError(str(exc)) from None


def list_sources(principal: Principal | None) -> list[dict]:
    """The principal's saved sources (admins: everyone's)."""
    tenancy.require_supplier(principal, "see sources")
    with session_scope() as session:
        query = select(Source).order_by(Source.name)
        if not tenancy.sees_everything(principal):
            query = query.where(Source.created_by == principal.id)
        return [s.model_dump() for s in session.exec(query)]


def get_source(principal: Principal | None, name: str) -> dict:
    return tenancy.source_for(principal, name)


def delete_source(principal: Principal, name: str) -> None:
    tenancy.source_for(principal, name, action="delete sources")
    with session_scope() as session:
        source = session.exec(select(Source).where(Source.name == name)).first()
        session.delete(source)
    audit.record("source_deleted", principal.id, f"source:{name}")
