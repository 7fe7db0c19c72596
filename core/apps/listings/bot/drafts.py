"""The user's stored drafts: save (after the checks), list, open with its versions, edit, delete.

A draft belongs to the user who saved it; another supplier gets the same "no draft" answer whether the id
exists or not, and an admin sees every draft. Each save writes a new version row, so an edit never loses the
text it replaced. Rows go out as plain dicts.
"""

from __future__ import annotations

from sqlmodel import select

from core.apps.listings.bot.categories import CATEGORIES
from core.apps.listings.bot.checks import check_before_storing, redact_draft
from core.apps.listings.bot.service import with_checks
from core.auth import Principal
from core.store.models import utcnow
from core.store.models_listings import ListingDraft, ListingDraftVersion
from core.store.sql import session_scope
from core.tenancy import NotFoundOrDenied, owns, require_supplier, sees_everything

MAX_TITLE = 200
MAX_DESCRIPTION = 10_000
MAX_ATTRIBUTES = 40
EDITABLE = ("title", "description", "attributes", "price", "currency", "category")


def _clean(draft: dict) -> dict:
    """The storable part of a draft, with size limits checked (clear messages, nothing cut silently)."""
    title = " ".join(str(draft.get("title") or "").split())
    description = str(draft.get("description") or "").replace("\x00", "").strip()
    attributes = draft.get("attributes") or {}
    problems = []
    if len(title) > MAX_TITLE:
        problems.append(f"the title is {len(title)} characters long; the limit is {MAX_TITLE}")
    if len(description) > MAX_DESCRIPTION:
        problems.append(f"the description is {len(description)} characters long; the limit is {MAX_DESCRIPTION}")
    if not isinstance(attributes, dict) or len(attributes) > MAX_ATTRIBUTES:
        problems.append(f"attributes must be at most {MAX_ATTRIBUTES} name/value pairs")
    price = draft.get("price")
    if price is not None:
        try:
            price = float(price)
        except (TypeError, ValueError):
            problems.append(f"the price must be a number, got {str(price)[:30]!r}")
        else:
            if not 0 < price < 1e9:
                problems.append("the price must be more than 0")
    if draft.get("category") not in CATEGORIES:
        problems.append(f"category must be one of {', '.join(sorted(CATEGORIES))}")
    if problems:
        from core.apps.listings.bot.checks import DraftRefused

        raise DraftRefused(problems)
    attributes = {str(k)[:40]: (v if isinstance(v, int | float | bool) or v is None else str(v)[:500])
                  for k, v in attributes.items()}
    return {"category": draft["category"], "title": title, "description": description, "attributes": attributes,
            "price": price, "currency": str(draft.get("currency") or "EUR").upper()[:3]}


def _prepared(draft: dict, redact: bool) -> dict:
    prepared = redact_draft(draft) if redact else draft
    clean = {**prepared, **_clean(prepared)}
    check_before_storing(clean)
    return clean


def _version_row(row: ListingDraft, editor: Principal) -> ListingDraftVersion:
    return ListingDraftVersion(draft_id=row.id, version=row.version, title=row.title, description=row.description,
                               attributes=dict(row.attributes), price=row.price, currency=row.currency,
                               edited_by=editor.id)


def save_draft(principal: Principal | None, draft: dict, *, redact: bool = False) -> dict:
    """Store a new draft owned by the principal. Raises DraftRefused (missing fields, personal data) unless
    `redact` replaces the personal data first; missing required fields always refuse."""
    principal = require_supplier(principal, "save listing drafts")
    clean = _prepared(draft, redact)
    with session_scope() as session:
        row = ListingDraft(**{k: clean[k] for k in ("category", "title", "description", "attributes", "price",
                                                    "currency")},
                           price_basis=dict(draft.get("price_basis") or {}),
                           method=str(draft.get("method") or "template")[:100],
                           notes=list(clean.get("notes") or []), created_by=principal.id)
        session.add(row)
        session.flush()
        session.add(_version_row(row, principal))
        session.flush()
        return row.model_dump()


def _owned_row(session, principal: Principal, draft_id: int) -> ListingDraft:
    row = session.get(ListingDraft, draft_id)
    if row is None or not owns(principal, row.created_by):
        raise NotFoundOrDenied(f"No listing draft {draft_id} that you can use.")
    return row


def list_drafts(principal: Principal | None) -> list[dict]:
    """The principal's drafts, newest edit first (every draft for an admin)."""
    principal = require_supplier(principal, "see listing drafts")
    with session_scope() as session:
        query = select(ListingDraft).order_by(ListingDraft.updated_at.desc(), ListingDraft.id.desc())
        if not sees_everything(principal):
            query = query.where(ListingDraft.created_by == principal.id)
        return [row.model_dump() for row in session.exec(query)]


def get_draft(principal: Principal | None, draft_id: int) -> dict:
    """One draft with its versions (oldest first) and its current check results."""
    principal = require_supplier(principal, "open listing drafts")
    with session_scope() as session:
        row = _owned_row(session, principal, draft_id)
        versions = session.exec(select(ListingDraftVersion).where(ListingDraftVersion.draft_id == draft_id)
                                .order_by(ListingDraftVersion.version)).all()
        return with_checks({**row.model_dump(), "versions": [v.model_dump() for v in versions]})


def update_draft(principal: Principal | None, draft_id: int, changes: dict, *, redact: bool = False) -> dict:
    """Apply the user's edits as a new version, after the same checks as a first save."""
    principal = require_supplier(principal, "edit listing drafts")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"These draft parts cannot be edited: {', '.join(sorted(unknown))}.")
    with session_scope() as session:
        row = _owned_row(session, principal, draft_id)
        current = {k: getattr(row, k) for k in EDITABLE}
        clean = _prepared({**current, **changes, "notes": list(row.notes)}, redact)
        if all(clean[k] == current[k] for k in EDITABLE):
            return row.model_dump()  # nothing changed: no new version
        for key in EDITABLE:
            setattr(row, key, clean[key])
        row.notes = list(clean.get("notes") or [])
        row.version += 1
        row.updated_at = utcnow()
        session.add(row)
        session.flush()
        session.add(_version_row(row, principal))
        session.flush()
        return row.model_dump()


def delete_draft(principal: Principal | None, draft_id: int) -> None:
    principal = require_supplier(principal, "delete listing drafts")
    with session_scope() as session:
        row = _owned_row(session, principal, draft_id)
        for version in session.exec(select(ListingDraftVersion).where(ListingDraftVersion.draft_id == draft_id)):
            session.delete(version)
        session.flush()
        session.delete(row)
