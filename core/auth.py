"""Accounts, roles and permission checks.

Permissions are enforced here, in the functions that do the work, so a page
that forgets to hide a button still cannot let a buyer publish or a stranger
download. Passwords are hashed with argon2id (memory-hard).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import secrets
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core import login_throttle
from core.config import get_settings
from core.store.models import User
from core.store.sql import session_scope

ROLES = ("supplier", "buyer", "admin")
SELF_SERVICE_ROLES = ("supplier", "buyer")
MIN_PASSWORD_LENGTH = 10
# argon2 hashes any length, but a megabyte "password" is only a way to burn the server's CPU.
MAX_PASSWORD_LENGTH = 1024
MIN_DISTINCT_CHARACTERS = 5
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
    problem = password_problem(password or "", email)
    if problem:
        raise AuthError(problem)
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


def password_problem(password: str, email: str = "") -> str | None:
    """Why a new password is refused, or None.

    Length is what makes a password hard to guess; the other rules only catch passwords that reach the
    length while being trivial: all spaces, the email address itself, one or two characters repeated.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Choose a password of at most {MAX_PASSWORD_LENGTH} characters."
    if not password.strip():
        return "A password cannot be only spaces."
    guessable = {email.lower(), email.split("@")[0].lower()} - {""}
    if password.strip().lower() in guessable:
        return "Do not use your email address as your password."
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        return f"Use at least {MIN_DISTINCT_CHARACTERS} different characters in your password."
    return None


@functools.cache
def _dummy_hash() -> str:
    # Hashed with the same parameters as real passwords, so verifying against it costs the same.
    return _hasher.hash(secrets.token_urlsafe(24))


def _password_matches(stored_hash: str | None, password: str) -> bool:
    """Always spends one argon2 verification, so an unknown email fails as slowly as a wrong password."""
    usable = bool(stored_hash) and stored_hash.startswith("$argon2")
    try:
        _hasher.verify(stored_hash if usable else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return usable


def authenticate(email: str, password: str, address: str = "") -> Principal:
    """Check a password sign-in; address is the client's network address ("" when unknown) for throttling."""
    email = (email or "").strip().lower()[:320]
    password = (password or "")[:MAX_PASSWORD_LENGTH + 1]
    # Not every front end knows the client (Streamlit's test harness hands back a stand-in object).
    address = address.strip()[:64] if isinstance(address, str) else ""
    locked = login_throttle.locked_for(email, address)
    if locked:
        # Said the same way for unknown emails, whose failures are counted too.
        minutes = login_throttle.minutes_to_wait(locked)
        raise AuthError(f"Too many failed sign-ins; try again in {minutes} minute{'s' if minutes != 1 else ''}.")
    with session_scope() as session:
        user = session.exec(select(User).where(User.email == email)).first()
        account = _principal(user) if user is not None and not user.is_demo else None
        stored_hash = user.password_hash if account else None
    # Demo and unknown accounts still pay for a verification, so timing does not tell which emails exist.
    matched = _password_matches(stored_hash, password) and len(password) <= MAX_PASSWORD_LENGTH
    login_throttle.record_attempt(email, address, succeeded=matched)
    if not matched:
        raise AuthError("Email or password is wrong.")
    if _hasher.check_needs_rehash(stored_hash):
        with session_scope() as session:
            session.exec(update(User).where(User.id == account.id, User.password_hash == stored_hash)
                         .values(password_hash=_hasher.hash(password)))
    return account


def get_user(user_id: int) -> Principal | None:
    with session_scope() as session:
        user = session.get(User, user_id)
        return _principal(user) if user else None


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
    """Password-less demo accounts only when nobody else can reach them: the server listens on loopback
    and the address it is published under (PUBLIC_BASE_URL, which a proxy in front would use) is loopback too."""
    settings = get_settings()
    public_host = urlsplit(settings.public_base_url or "").hostname
    return settings.demo_login and is_local_address(bound_address) and is_local_address(public_host)


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
