"""Audit trail: who did what to which object, written in the same short session style."""

from __future__ import annotations

from sqlmodel import select

from core.store.models import AuditEvent
from core.store.sql import session_scope


def record(action: str, user_id: int | None, target: str = "", **detail) -> None:
    with session_scope() as session:
        session.add(AuditEvent(action=action, user_id=user_id, target=target, detail=detail))


def recent(limit: int = 50, action: str | None = None) -> list[dict]:
    with session_scope() as session:
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if action:
            query = query.where(AuditEvent.action == action)
        return [event.model_dump() for event in session.exec(query)]
