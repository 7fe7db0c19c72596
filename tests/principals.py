"""The demo accounts as acting principals, for tests that call core functions directly."""

import uuid

from core import auth
from core.store.models import User
from core.store.sql import session_scope


def as_admin() -> auth.Principal:
    return auth.demo_principal("admin")


def as_supplier() -> auth.Principal:
    return auth.demo_principal("supplier")


def as_buyer() -> auth.Principal:
    return auth.demo_principal("buyer")


def new_user(role: str) -> auth.Principal:
    """A fresh user row without a password hash (argon2 would cost ~0.1 s per user for nothing here)."""
    with session_scope() as session:
        user = User(email=f"{role}-{uuid.uuid4().hex[:12]}@example.com", display_name=f"Test {role}",
                    role=role, password_hash="!test")
        session.add(user)
        session.flush()
        return auth.Principal(id=user.id, email=user.email, display_name=user.display_name, role=role)
