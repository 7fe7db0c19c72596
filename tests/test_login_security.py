"""Sign-in hardening: throttling per account and per address, failures that take the same time, password rule."""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import timedelta

import pytest

from core import auth, login_throttle
from core.config import reset_settings_cache

GOOD_PASSWORD = "correct horse battery"


def _email() -> str:
    return f"u{uuid.uuid4().hex[:10]}@example.org"


def _address() -> str:
    return f"client-{uuid.uuid4().hex[:12]}"  # opaque to the throttle; unique so tests do not share counts


def _fail(email: str, address: str = "", times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(auth.AuthError, match="Email or password is wrong"):
            auth.authenticate(email, "not the password", address=address)


def test_account_is_locked_after_five_failures_even_with_the_right_password(workbench):
    email = _email()
    auth.sign_up(email, GOOD_PASSWORD, "Lee", "buyer")
    _fail(email, times=login_throttle.ACCOUNT_FAILURE_LIMIT)
    with pytest.raises(auth.AuthError, match=r"^Too many failed sign-ins; try again in 15 minutes\.$"):
        auth.authenticate(email, GOOD_PASSWORD)
    # After the window the right password works again, and a success clears the count.
    later = login_throttle.utcnow() + login_throttle.WINDOW + timedelta(seconds=1)
    assert login_throttle.locked_for(email, "", now=later) is None


def test_success_clears_the_account_count(workbench):
    email = _email()
    auth.sign_up(email, GOOD_PASSWORD, "Lee", "buyer")
    _fail(email, times=login_throttle.ACCOUNT_FAILURE_LIMIT - 1)
    assert auth.authenticate(email, GOOD_PASSWORD).email == email
    _fail(email, times=login_throttle.ACCOUNT_FAILURE_LIMIT - 1)
    assert auth.authenticate(email, GOOD_PASSWORD).email == email


def test_unknown_email_is_throttled_with_the_same_message(workbench):
    email = _email()  # no such account
    _fail(email, times=login_throttle.ACCOUNT_FAILURE_LIMIT)
    with pytest.raises(auth.AuthError, match=r"^Too many failed sign-ins; try again in 15 minutes\.$"):
        auth.authenticate(email, "anything at all")


def test_one_address_guessing_across_accounts_is_throttled(workbench):
    address = _address()
    victim = _email()
    auth.sign_up(victim, GOOD_PASSWORD, "Vic", "supplier")
    for _ in range(login_throttle.ADDRESS_FAILURE_LIMIT):
        _fail(_email(), address=address)  # a new email each time: no account reaches its own limit
    with pytest.raises(auth.AuthError, match="Too many failed sign-ins"):
        auth.authenticate(victim, GOOD_PASSWORD, address=address)
    # The account itself is not locked for everyone else.
    assert auth.authenticate(victim, GOOD_PASSWORD, address=_address()).email == victim


def _median_failure_seconds(email: str, runs: int = 3) -> float:
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        with pytest.raises(auth.AuthError):
            auth.authenticate(email, "not the password", address=_address())
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def test_unknown_and_known_emails_fail_in_about_the_same_time(workbench):
    known = _email()
    auth.sign_up(known, GOOD_PASSWORD, "Kim", "buyer")
    demo = auth.demo_principal("buyer").email
    known_s, unknown_s, demo_s = (_median_failure_seconds(e) for e in (known, _email(), demo))
    print(f"failure timings: known {known_s * 1000:.1f} ms, unknown {unknown_s * 1000:.1f} ms, "
          f"demo {demo_s * 1000:.1f} ms")
    assert known_s > 0.01 and unknown_s > 0.01 and demo_s > 0.01
    assert 0.5 < unknown_s / known_s < 2 and 0.5 < demo_s / known_s < 2


@pytest.mark.parametrize("password, problem", [
    (" " * 10, "only spaces"),
    (" " * 30, "only spaces"),
    ("short", "at least 10"),
    ("aaaaaaaaaaaa", "different characters"),
    ("ab" * 8, "different characters"),
    ("x" * 2000, "at most"),
])
def test_weak_passwords_are_refused(workbench, password, problem):
    with pytest.raises(auth.AuthError, match=problem):
        auth.sign_up(_email(), password, "Pat", "buyer")


def test_the_email_is_not_a_password(workbench):
    email = _email()
    for password in (email, email.upper(), f"  {email} "):
        with pytest.raises(auth.AuthError, match="email address"):
            auth.sign_up(email, password, "Pat", "buyer")
    long_local = f"{uuid.uuid4().hex[:12]}@example.org"
    with pytest.raises(auth.AuthError, match="email address"):
        auth.sign_up(long_local, long_local.split("@")[0], "Pat", "buyer")
    assert auth.sign_up(email, GOOD_PASSWORD, "Pat", "buyer").email == email


@pytest.mark.parametrize("public_url, allowed", [
    ("http://localhost:8501", True), ("http://127.0.0.1:8501", True), ("http://[::1]:8501", True),
    ("https://workbench.example.com", False), ("http://203.0.113.7:8501", False), ("", False),
])
def test_demo_login_needs_a_loopback_public_url_too(workbench, monkeypatch, public_url, allowed):
    monkeypatch.setenv("PUBLIC_BASE_URL", public_url)
    reset_settings_cache()
    try:
        assert auth.demo_login_allowed("127.0.0.1") is allowed
        assert auth.demo_login_allowed("0.0.0.0") is False
    finally:
        monkeypatch.delenv("PUBLIC_BASE_URL")
        reset_settings_cache()
