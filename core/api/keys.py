"""API keys: created and revoked by their owner, stored only as a keyed hash, looked up on every call.

A key is 32 random bytes (URL-safe text behind a `dbw_` marker). Guessing one is hopeless, so a slow
password hash would only cost every request time: a keyed HMAC-SHA256 under SECRET_KEY is enough, and a
stolen database alone does not let anyone check guesses. The owner sees the key once, when it is
created; afterwards only its first characters (`prefix`) identify it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core import audit
from core.auth import ROLES, AuthError, Principal, get_user
from core.config import get_settings
from core.store.models import User
from core.store.models_api import ApiKey
from core.store.sql import session_scope
from core.tenancy import NotFoundOrDenied, owns, require_signed_in

KEY_MARKER = "dbw_"
PREFIX_LENGTH = 12
MAX_NAME_LENGTH = 100
# The same rule as create_api_key's check, for request schemas: no control characters, something besides spaces.
NAME_PATTERN = r"^(?=.*\S)[^\x00-\x1f\x7f]+$"
MAX_ACTIVE_KEYS = 20
# Writing last_used_at on every request would turn each read into a write; a minute's precision is enough.
LAST_USED_PRECISION = timedelta(minutes=1)
API_ONLY_PASSWORD = "!api-only"  # never an argon2 hash, so such an account cannot sign in with a password


class ApiKeyError(ValueError):
    """A key request that cannot be done; the message says why."""


def _key_hash(key: str) -> str:
    secret = get_settings().resolved_secret_key.encode()
    return hmac.new(secret, b"dbw.api-key.v1:" + key.encode(), hashlib.sha256).hexdigest()


def _public(row: ApiKey) -> dict:
    return row.model_dump(exclude={"key_hash"})


def create_api_key(principal: Principal | None, name: str) -> dict:
    """A new key for the principal: the stored row's public fields plus `key`, shown this once."""
    require_signed_in(principal, "create API keys")
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ApiKeyError(f"Name the key (1 to {MAX_NAME_LENGTH} printable characters), for example 'nightly sync'.")
    key = KEY_MARKER + secrets.token_urlsafe(32)
    with session_scope() as session:
        active = session.exec(select(ApiKey.id).where(ApiKey.user_id == principal.id,
                                                      ApiKey.revoked_at.is_(None))).all()
        if len(active) >= MAX_ACTIVE_KEYS:
            raise ApiKeyError(f"You already have {MAX_ACTIVE_KEYS} active keys; revoke one you no longer use first.")
        row = ApiKey(user_id=principal.id, name=name, prefix=key[:PREFIX_LENGTH], key_hash=_key_hash(key))
        session.add(row)
        session.flush()
        created = _public(row)
    audit.record("api_key_create", principal.id, f"api_key:{created['id']}", name=name, prefix=created["prefix"])
    return {**created, "key": key}


def list_api_keys(principal: Principal | None) -> list[dict]:
    """The principal's own keys, newest first (never the secret or its hash)."""
    require_signed_in(principal, "see API keys")
    with session_scope() as session:
        rows = session.exec(select(ApiKey).where(ApiKey.user_id == principal.id).order_by(ApiKey.id.desc()))
        return [_public(row) for row in rows]


def revoke_api_key(principal: Principal | None, key_id: int) -> dict:
    """Revoke one of the principal's keys (admins: anyone's). Revoking twice is harmless."""
    require_signed_in(principal, "revoke API keys")
    with session_scope() as session:
        row = session.get(ApiKey, key_id)
        if row is None or not owns(principal, row.user_id):
            raise NotFoundOrDenied(f"No API key {key_id} that you can revoke.")
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
            session.add(row)
        revoked = _public(row)
    audit.record("api_key_revoke", principal.id, f"api_key:{key_id}")
    return revoked


def principal_for_key(key: str | None) -> tuple[Principal, int] | None:
    """The account behind a live key and the key's id, or None (unknown, malformed or revoked)."""
    if not key or not key.startswith(KEY_MARKER) or len(key) > 200:
        return None
    digest = _key_hash(key)
    now = datetime.now(UTC)
    with session_scope() as session:
        row = session.exec(select(ApiKey).where(ApiKey.key_hash == digest)).first()
        # compare_digest on the hash too: the index lookup already matched, this only keeps the check explicit.
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, digest):
            return None
        key_id, user_id, last_used = row.id, row.user_id, row.last_used_at
        if last_used is None or now - _aware(last_used) >= LAST_USED_PRECISION:
            session.exec(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
    principal = get_user(user_id)  # the role as it is now, not as it was when the key was made
    return (principal, key_id) if principal is not None else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def account_for_cli(user: str, role: str) -> Principal:
    """The account `user` (an email; a bare name becomes NAME@workbench.local), created with `role` if missing.

    An existing account keeps its role: a different --role is refused rather than silently changing it.
    """
    if role not in ROLES:
        raise AuthError(f"Role must be one of {', '.join(ROLES)}.")
    name = (user or "").strip()
    if not name or len(name) > 200 or any(c.isspace() for c in name):
        raise AuthError("Give --user as an email address or a name without spaces.")
    email = (name if "@" in name else f"{name}@workbench.local").lower()
    with session_scope() as session:
        row = session.exec(select(User).where(User.email == email)).first()
        if row is None:
            row = User(email=email, display_name=name.split("@")[0][:200], role=role,
                       password_hash=API_ONLY_PASSWORD)
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise AuthError(f"The account {email} was created by someone else at the same moment; "
                                "run the command again.") from None
            created = True
        else:
            created = False
        user_id, existing_role = row.id, row.role
    if existing_role != role:
        raise AuthError(f"The account {email} exists with the role {existing_role}, not {role}; "
                        f"use --role {existing_role} or another user.")
    if created:
        audit.record("account_create", None, f"user:{user_id}", via="api-key create", role=role)
    return get_user(user_id)
