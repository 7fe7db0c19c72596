"""Sign-in throttling: too many recent failures for an account, or from one client address, refuse further tries.

Failures are counted for every email typed, whether or not an account exists, so the refusal itself
says nothing about which emails are registered. A success clears the account's count (failures before
it no longer matter); an address keeps its count, so one client cannot guess through many accounts.
Refused tries are not recorded: the lockout ends a fixed time after the failure that caused it, instead
of being prolonged by whoever keeps knocking.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlmodel import select

from core.store.models import LoginAttempt, utcnow
from core.store.sql import session_scope

WINDOW = timedelta(minutes=15)
ACCOUNT_FAILURE_LIMIT = 5
ADDRESS_FAILURE_LIMIT = 20
# Attempts are only needed for the window; older rows are pruned as new ones arrive.
RETENTION = timedelta(days=1)


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without a zone; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _unlock_time(failure_times: list[datetime], limit: int) -> datetime | None:
    """When the limit-th most recent failure leaves the window, or None when under the limit."""
    if len(failure_times) < limit:
        return None
    return _aware(sorted(failure_times, reverse=True)[limit - 1]) + WINDOW


def locked_for(email: str, address: str = "", now: datetime | None = None) -> timedelta | None:
    """How long sign-ins for this email (or from this address) stay refused; None when they are allowed."""
    now = now or utcnow()
    since = now - WINDOW
    with session_scope() as session:
        account = session.exec(select(LoginAttempt.created_at, LoginAttempt.succeeded)
                               .where(LoginAttempt.email == email, LoginAttempt.created_at >= since)
                               .order_by(LoginAttempt.created_at)).all()
        by_address = session.exec(select(LoginAttempt.created_at)
                                  .where(LoginAttempt.address == address, LoginAttempt.succeeded == False,  # noqa: E712
                                         LoginAttempt.created_at >= since)).all() if address else []
    account_failures: list[datetime] = []
    for created_at, succeeded in account:
        account_failures = [] if succeeded else [*account_failures, created_at]
    unlocks = [moment for moment in (_unlock_time(account_failures, ACCOUNT_FAILURE_LIMIT),
                                     _unlock_time(list(by_address), ADDRESS_FAILURE_LIMIT)) if moment]
    if not unlocks:
        return None
    remaining = max(unlocks) - now
    return remaining if remaining > timedelta(0) else None


def minutes_to_wait(remaining: timedelta) -> int:
    return max(1, math.ceil(remaining.total_seconds() / 60))


def record_attempt(email: str, address: str, succeeded: bool) -> None:
    with session_scope() as session:
        session.add(LoginAttempt(email=email[:320], address=(address or "")[:64], succeeded=succeeded))
        session.exec(delete(LoginAttempt).where(LoginAttempt.created_at < utcnow() - RETENTION))
