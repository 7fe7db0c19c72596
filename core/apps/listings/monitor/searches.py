"""Saved searches: which listings a user wants to hear about.

A search names one of its owner's listing sources or none (then it covers every source its owner owns),
and any of: a category, words (each must occur in the title or description), a price range and a place
(part of the listing's location). Every condition given must hold. Searches are their owner's alone: an
admin may name any source, a supplier only their own, and nobody sees another user's searches.
"""

from __future__ import annotations

import re

from sqlmodel import select, update

from core.applications import LISTING_APPS
from core.apps.listings.monitor.changes import Listing
from core.auth import Principal
from core.store.models import User
from core.store.models_listings import MonitorInboxItem, MonitorSearch
from core.store.sql import session_scope
from core.tenancy import NotFoundOrDenied, require_supplier, source_for

_WORD = re.compile(r"\w+")
MAX_NAME = 200


class SearchError(ValueError):
    """A search cannot be saved as given; the message says what to change."""


def words_of(text: str | None) -> list[str]:
    return _WORD.findall((text or "").casefold())


def listing_source(principal: Principal | None, name: str, action: str = "watch this source") -> dict:
    """The principal's source `name`, when it collects listings (marketplace or property)."""
    source = source_for(principal, name, action)
    if source["app"] not in LISTING_APPS:
        raise SearchError(f"{name} collects {source['app']} documents, not listings.")
    return source


def _price(value, label: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        price = float(value)
    except (TypeError, ValueError):
        raise SearchError(f"The {label} price must be a number.") from None
    if not price >= 0:
        raise SearchError(f"The {label} price cannot be negative.")
    return price


def _optional(text: str | None, limit: int = 200) -> str | None:
    return (text or "").strip()[:limit] or None


def save_search(principal: Principal | None, name: str, *, source: str | None = None, category: str | None = None,
                words: str = "", min_price=None, max_price=None, location: str | None = None) -> dict:
    require_supplier(principal, "save searches")
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise SearchError(f"Name the search (1 to {MAX_NAME} characters).")
    source = _optional(source)
    if source:
        listing_source(principal, source, "search this source")
    low, high = _price(min_price, "lowest"), _price(max_price, "highest")
    if low is not None and high is not None and low > high:
        raise SearchError("The lowest price is above the highest.")
    with session_scope() as session:
        row = MonitorSearch(name=name, source_name=source, category=_optional(category),
                            words=" ".join(words_of(words))[:500], min_price=low, max_price=high,
                            location=_optional(location), created_by=principal.id)
        session.add(row)
        session.flush()
        return row.model_dump()


def list_searches(principal: Principal | None) -> list[dict]:
    """The principal's own searches, newest first (an admin's too: searches are personal)."""
    require_supplier(principal, "see searches")
    with session_scope() as session:
        rows = session.exec(select(MonitorSearch).where(MonitorSearch.created_by == principal.id)
                            .order_by(MonitorSearch.id.desc()))
        return [row.model_dump() for row in rows]


def _own_search(session, principal: Principal | None, search_id: int) -> MonitorSearch:
    require_supplier(principal, "change searches")
    row = session.get(MonitorSearch, int(search_id))
    if row is None or row.created_by != principal.id:
        raise NotFoundOrDenied(f"No search {search_id} that you can use.")
    return row


def set_search_active(principal: Principal | None, search_id: int, active: bool) -> dict:
    with session_scope() as session:
        row = _own_search(session, principal, search_id)
        row.active = bool(active)
        session.add(row)
        session.flush()
        return row.model_dump()


def delete_search(principal: Principal | None, search_id: int) -> None:
    """Delete a search; events it brought stay in the inbox, under the search's name."""
    with session_scope() as session:
        row = _own_search(session, principal, search_id)
        session.exec(update(MonitorInboxItem).where(MonitorInboxItem.search_id == row.id).values(search_id=None))
        session.delete(row)


def search_matches(search: dict, listing: Listing) -> bool:
    """Whether a listing meets every condition of a search (the source is checked by the caller)."""
    if search.get("category") and (listing.category or "").casefold() != search["category"].casefold():
        return False
    if search.get("location") and search["location"].casefold() not in (listing.location or "").casefold():
        return False
    if search.get("min_price") is not None or search.get("max_price") is not None:
        if listing.price is None:
            return False
        if search.get("min_price") is not None and listing.price < search["min_price"]:
            return False
        if search.get("max_price") is not None and listing.price > search["max_price"]:
            return False
    wanted = search.get("words", "").split()
    if wanted:
        present = set(words_of(listing.title)) | set(words_of(listing.fields.get("description")))
        if not all(word in present for word in wanted):
            return False
    return True


def searches_for_source(source: dict) -> list[dict]:
    """Active searches that apply to a source: unnamed ones of the source's owner, and ones naming it whose
    owner may still use it (its owner, or an admin). System work for a pass; each row has `owner_role`."""
    with session_scope() as session:
        rows = session.exec(select(MonitorSearch, User.role).join(User, User.id == MonitorSearch.created_by).where(
            MonitorSearch.active == True,  # noqa: E712 - SQL expression
            (MonitorSearch.source_name == source["name"])
            | ((MonitorSearch.source_name == None) & (MonitorSearch.created_by == source["created_by"]))))  # noqa: E711
        return [{**row.model_dump(), "owner_role": role} for row, role in rows
                if row.created_by == source["created_by"] or role == "admin"]
