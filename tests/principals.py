"""The demo accounts as acting principals, for tests that call core functions directly."""

from core import auth


def as_admin() -> auth.Principal:
    return auth.demo_principal("admin")


def as_supplier() -> auth.Principal:
    return auth.demo_principal("supplier")


def as_buyer() -> auth.Principal:
    return auth.demo_principal("buyer")
