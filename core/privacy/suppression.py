"""The suppression list: erased subjects' identifiers, kept only as keyed hashes, checked on ingest.

A re-scrape of a page that named an erased person would otherwise bring them back. On ingest every email,
phone number (each E.164 form it can be) and run of up to the longest suppressed name's words in a document
is hashed with the same key and looked up; a document with any hit is dropped before it reaches the raw
store and reported as suppressed. A supplier's erasure suppresses within their own data; an admin's
(owner NULL) within everyone's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlmodel import or_, select

from core.privacy.places import flatten_text
from core.privacy.subject import Subject, keyed_hash, phone_forms
from core.refine.signals.pii_patterns import find_emails, find_phones
from core.store.models import Dataset
from core.store.models_privacy import SuppressedIdentifier
from core.store.sql import session_scope

SUPPRESSED_REASON = "suppressed: names a data subject whose data was erased (privacy request)"
_WORD_RUN = re.compile(r"\w+(?:\s+\w+)*")
_WORD = re.compile(r"\w+")


def add_subject(subject: Subject, owner_id: int | None, created_by: int, erasure_id: int | None) -> int:
    """Add the subject's identifiers for `owner_id`'s data (None: everyone's); returns how many were new."""
    added = 0
    # `owner_id = NULL` is never true in SQL: an everyone-wide entry is looked up with IS NULL.
    same_owner = (SuppressedIdentifier.owner_id.is_(None) if owner_id is None
                  else SuppressedIdentifier.owner_id == owner_id)
    with session_scope() as session:
        for kind, digest, words in subject.identifier_hashes():
            present = session.exec(select(SuppressedIdentifier.id).where(
                SuppressedIdentifier.identifier_hash == digest, same_owner)).first()
            if present is None:
                session.add(SuppressedIdentifier(kind=kind, identifier_hash=digest, name_words=words,
                                                 owner_id=owner_id, erasure_id=erasure_id, created_by=created_by))
                added += 1
    return added


def _active_hashes(dataset_id: int) -> tuple[set[str], int]:
    """The hashes that apply to a dataset's owner, and the longest suppressed name in words."""
    with session_scope() as session:
        owner_id = session.exec(select(Dataset.created_by).where(Dataset.id == dataset_id)).first()
        rows = session.exec(select(SuppressedIdentifier.identifier_hash, SuppressedIdentifier.name_words).where(
            or_(SuppressedIdentifier.owner_id.is_(None), SuppressedIdentifier.owner_id == owner_id))).all()
    return {digest for digest, _ in rows}, max((words for _, words in rows), default=0)


def text_hashes(text: str, name_words: int) -> set[str]:
    """Keyed hashes of every identifier-shaped piece of `text`, in the forms the list stores."""
    hashes = {keyed_hash("email", text[s:e].casefold()) for _, s, e in find_emails(text)} if "@" in text else set()
    for _, start, end in find_phones(text):
        hashes |= {keyed_hash("phone", form) for form in phone_forms(text[start:end])}
    if name_words:
        # Whole-word runs separated by spaces only, as a name is matched in a search.
        for run in _WORD_RUN.finditer(text.casefold()):
            words = _WORD.findall(run.group())
            for size in range(1, min(name_words, len(words)) + 1):
                hashes |= {keyed_hash("name", " ".join(words[i:i + size])) for i in range(len(words) - size + 1)}
    return hashes


def document_texts(document: dict) -> Iterable[str]:
    if isinstance(document.get("raw_content"), str):
        yield document["raw_content"]
    yield str(document.get("url") or "")
    yield from flatten_text(document.get("metadata") or {}).values()


def drop_suppressed(dataset_id: int, documents: list[dict]) -> tuple[list[dict], list[int]]:
    """The documents to store, and the positions of those dropped because they name a suppressed subject.

    One SQL query when nothing is suppressed for this owner, so ingest pays nothing for the feature."""
    suppressed, name_words = _active_hashes(dataset_id)
    if not suppressed:
        return documents, []
    kept, dropped = [], []
    for position, document in enumerate(documents):
        if any(text_hashes(text, name_words) & suppressed for text in document_texts(document) if text):
            dropped.append(position)
        else:
            kept.append(document)
    return kept, dropped


def suppression_count(owner_id: int | None = None) -> int:
    with session_scope() as session:
        query = select(SuppressedIdentifier.id)
        if owner_id is not None:
            query = query.where(SuppressedIdentifier.owner_id == owner_id)
        return len(session.exec(query).all())
