"""Accounts, roles and permission checks.

Permissions are enforced here, in the functions that do the work, so a page
that forgets to hide a button still cannot let a buyer publish or a stranger
download. Passwords are hashed with argon2id (memory-hard).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import asdict, dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core.config import get_settings
from core.store.models import User
from core.store.sql import session_scope

ROLES = ("supplier", "buyer", "admin")
SELF_SERVICE_ROLES = ("supplier", "buyer")
MIN_PASSWORD_LENGTH = 10
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_hasher = PasswordHasher()

DEMO_ACCOUNTS = {
    "admin": ("demo-analyst@workbench.local", "Demo Analyst"),
    "supplier": ("demo-supplier@workbench.local", "Demo Supplier"),
    "buyer": ("demo-buyer@workbench.local", "Demo Buyer"),
}
CLI_ACCOUNT = ("cli@workbench.local", "Command line")


class AuthError(ValueError):
    """Sign-up or sign-in refused; the message is safe to show."""


class PermissionDenied(PermissionError):
    """The signed-in user's role does not allow this action."""


@dataclass(frozen=True)
class Principal:
    id: int
    email: str
    display_name: str
    role: str
    is_demo: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def _principal(user: User) -> Principal:
    return Principal(id=user.id, email=user.email, display_name=user.display_name, role=user.role,
                     is_demo=user.is_demo)


def sign_up(email: str, password: str, display_name: str, role: str, *, created_by: Principal | None = None
            ) -> Principal:
    email = (email or "").strip().lower()
    if not _EMAIL.match(email):
        raise AuthError("Enter a valid email address.")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AuthError(f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.")
    if role not in ROLES:
        raise AuthError(f"Role must be one of {', '.join(ROLES)}.")
    if role not in SELF_SERVICE_ROLES and (created_by is None or created_by.role != "admin"):
        raise PermissionDenied("Only an admin can create admin accounts.")
    user = User(email=email, display_name=(display_name or email.split("@")[0]).strip()[:200], role=role,
                password_hash=_hasher.hash(password))
    try:
        with session_scope() as session:
            session.add(user)
            session.flush()
            return _principal(user)
    except IntegrityError:
        raise AuthError("An account with this email already exists; sign in instead.") from None


def authenticate(email: str, password: str) -> Principal:
    email = (email or "").strip().lower()
    with session_scope() as session:
        user = session.exec(select(User).where(User.email == email)).first()
        if user is None or user.is_demo:
            # Same message either way, so the form does not reveal which emails exist.
            raise AuthError("Email or password is wrong.")
        try:
            _hasher.verify(user.password_hash, password or "")
        except (VerificationError, InvalidHashError):
            raise AuthError("Email or password is wrong.") from None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
            session.add(user)
        return _principal(user)


def get_user(user_id: int) -> Principal | None:
    with session_scope() as session:
        user = session.get(User, user_id)
        return _principal(user) if user else None


def list_users() -> list[dict]:
    with session_scope() as session:
        return [_principal(u).as_dict() for u in session.exec(select(User).order_by(User.id))]


def is_local_address(address: str | None) -> bool:
    """True when the server is bound to loopback only (so nobody else can use the demo login)."""
    if not address:
        return False
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def demo_login_allowed(bound_address: str | None) -> bool:
    return get_settings().demo_login and is_local_address(bound_address)


def demo_principal(role: str = "admin") -> Principal:
    """Sign in (creating on first use) the demo account for a role. Demo accounts have no usable password."""
    if role not in DEMO_ACCOUNTS:
        raise AuthError(f"No demo account for role {role!r}.")
    email, name = DEMO_ACCOUNTS[role]
    return _service_account(email, name, role)


def cli_principal() -> Principal:
    """The local operator running `python -m core`: whoever has shell access to DATA_DIR is an admin."""
    return _service_account(CLI_ACCOUNT[0], CLI_ACCOUNT[1], "admin")


def _service_account(email: str, name: str, role: str) -> Principal:
    with session_scope() as session:
        user = session.exec(select(User).where(User.email == email)).first()
        if user is None:
            user = User(email=email, display_name=name, role=role, is_demo=True, password_hash="!no-password")
            session.add(user)
            try:
                session.flush()
            except IntegrityError:  # another session created it at the same moment
                session.rollback()
                user = session.exec(select(User).where(User.email == email)).one()
        return _principal(user)


def require_role(principal: Principal | None, *roles: str, action: str = "do this") -> Principal:
    if principal is None:
        raise PermissionDenied(f"Sign in to {action}.")
    if principal.role not in roles:
        allowed = " or ".join(roles)
        raise PermissionDenied(f"Only a {allowed} can {action}; you are signed in as a {principal.role}.")
    return principal
