"""Raw Explorer queries: server-side pages of raw documents, one record in full, labels, deletes, export.

Pages never load a whole collection: each query asks the raw store for one
page (plus one row to know whether there is a next page) and leaves the large
`raw_content` out of list views.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from typing import Iterator

import pandas as pd
from bson import ObjectId
from sqlmodel import delete, select

from core import audit, tenancy
from core.auth import Principal
from core.packaging.writer import escape_csv_formula
from core.store.models import Feedback, Item, Prediction, RefinementRecord, RefinementRun
from core.store.raw import day_number, get_raw_store
from core.store.sql import session_scope

LIST_PROJECTION = {"raw_content": 0}
SORTS = {"newest": [("fetched_at", -1)], "oldest": [("fetched_at", 1)], "url": [("url", 1)]}
EXPORT_LIMIT = 100_000
COUNT_CAP = 10_000  # matches are counted up to here ("more than 10,000"): a full count of a big match is slow


@dataclass(frozen=True)
class RawFilter:
    source_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    status: int | None = None  # HTTP status recorded at fetch time
    has_field: str | None = None  # an extracted field that must be present
    text: str | None = None  # case-insensitive search in URL and raw content

    def query(self) -> dict:
        # NUL is never in a stored key or a search word, and the store fails on it (a NUL typed or pasted
        # into the search box crashed the page), so it is dropped from everything the user typed.
        source_id, has_field, text = (_without_nul(v) for v in (self.source_id, self.has_field, self.text))
        query: dict = {}
        if source_id:
            query["source_id"] = source_id
        if self.date_from or self.date_to:
            span = {}
            if self.date_from:
                span["$gte"] = day_number(self.date_from)
            if self.date_to:
                span["$lte"] = day_number(self.date_to)
            query["fetched_day"] = span
        if self.status is not None:
            query["metadata.status"] = self.status
        if has_field:
            query[f"metadata.extracted.{has_field}"] = {"$exists": True, "$nin": [None, ""]}
        if text and text.strip():
            query["$text"] = {"$search": text.strip()}
        return query


def _without_nul(value: str | None) -> str | None:
    return value.replace("\x00", " ").strip() if isinstance(value, str) else value


def _row(doc: dict) -> dict:
    meta = doc.get("metadata") or {}
    extracted = meta.get("extracted") or {}
    url = doc.get("url")
    return {
        # upload:// names a file row, not a page anyone can open: no link for it.
        "id": doc["_id"], "source_id": doc.get("source_id"),
        "url": url if isinstance(url, str) and url.startswith(("http://", "https://")) else None,
        "fetched_at": doc.get("fetched_at"), "status": meta.get("status"), "kind": meta.get("kind"),
        "title": extracted.get("title"), "license": meta.get("license"),
    }


def _item_titles(raw_ids: list[str]) -> dict[str, str]:
    """Titles of the items standardized from these records (an uploaded row's title, name or headline
    column; otherwise the start of its text)."""
    if not raw_ids:
        return {}
    with session_scope() as session:
        rows = session.exec(select(Item.raw_id, Item.title, Item.text).where(Item.raw_id.in_(raw_ids))).all()
    titles = {}
    for raw_id, title, text in rows:
        words = (title or "").strip() or " ".join(str(text or "").split()[:12])
        if words:
            titles[raw_id] = words
    return titles


def raw_page(principal: Principal | None, app: str, flt: RawFilter = RawFilter(), sort: str = "newest",
             page: int = 0, page_size: int = 50) -> tuple[pd.DataFrame, bool]:
    """One page of the principal's raw documents as a table, and whether another page follows."""
    query = tenancy.scoped_query(principal, flt.query())
    # A word search is answered from the full-text index in index order: sorting every match by date
    # first took 4.5 s for a common word over 100k records on the embedded server, unsorted 0.3 s.
    order = None if flt.text else SORTS.get(sort, SORTS["newest"])
    docs = get_raw_store().find(app, query, sort=order, skip=page * page_size, limit=page_size + 1,
                                projection=LIST_PROJECTION)
    has_more = len(docs) > page_size
    rows = [_row(d) for d in docs[:page_size]]
    untitled = _item_titles([r["id"] for r in rows if not r["title"]])
    for row in rows:
        row["title"] = row["title"] or untitled.get(row["id"])
    frame = pd.DataFrame(rows, columns=["id", "source_id", "url", "fetched_at", "status", "kind", "title", "license"])
    return frame, has_more


def count_matches(principal: Principal | None, app: str, flt: RawFilter = RawFilter()) -> tuple[int, bool]:
    """(how many of the principal's records match the filter, whether there are more than COUNT_CAP)."""
    query = tenancy.scoped_query(principal, flt.query())
    if not query:  # everything (an admin without filters): the store's estimate is exact enough and instant
        return get_raw_store().estimated_count(app), False
    found = get_raw_store().collection(app).count_documents(query, limit=COUNT_CAP + 1)
    return min(found, COUNT_CAP), found > COUNT_CAP


def raw_apps(principal: Principal | None) -> list[str]:
    """The applications with a raw store (suppliers and admins browse them; records inside stay scoped)."""
    tenancy.require_supplier(principal, "see raw records")
    return get_raw_store().apps()


def source_ids(principal: Principal | None, app: str) -> list[str]:
    """Source ids present in an application's raw store that the principal may filter by."""
    present = {s for s in get_raw_store().collection(app).distinct("source_id") if s}
    tenancy.require_supplier(principal, "see raw records")
    owned = tenancy.raw_source_ids(principal)
    return sorted(present if owned is None else present & set(owned))


def _owned_ids(principal: Principal | None, app: str, raw_ids: list[str], action: str) -> list[str]:
    """The subset of `raw_ids` that are documents of the principal (ids of others' records are dropped)."""
    query = tenancy.scoped_query(principal, {}, action)
    if not query:
        return list(raw_ids)
    object_ids = [ObjectId(r) for r in raw_ids if ObjectId.is_valid(r)]
    found = get_raw_store().collection(app).find({"_id": {"$in": object_ids}, **query}, {"_id": 1})
    mine = {str(doc["_id"]) for doc in found}
    return [r for r in raw_ids if r in mine]


def _require_owned_ids(principal: Principal | None, app: str, raw_ids: list[str], action: str) -> list[str]:
    """`raw_ids` when every one is the principal's; a change naming anyone else's record is refused whole."""
    owned = _owned_ids(principal, app, raw_ids, action)
    if tenancy.sees_everything(principal) or len(owned) == len(set(raw_ids)):
        return owned
    foreign = [r for r in raw_ids if r not in set(owned)]
    raise tenancy.NotFoundOrDenied(f"Nothing was changed: {len(foreign)} of these records are not yours to "
                                   f"{action.split(' ')[0]} ({', '.join(foreign[:3])}).")


def record_media(principal: Principal | None, app: str, raw_id: str) -> dict | None:
    """A preview of an uploaded image, audio or video record: {"kind", "mime_type", "data"} (a small PNG for an
    image, the file itself for audio and video, plus "container" metadata for video) or {"kind", "problem"}
    when it does not decode. None for other records and for records the principal may not see."""
    from core.refine.signals.media import UPLOADS_DATABASE
    from core.refine.signals.media_image import MediaProblem, thumbnail_png

    if not _owned_ids(principal, app, [raw_id], "see raw records"):
        return None
    metadata = (get_raw_store().get(app, raw_id) or {}).get("metadata") or {}
    if metadata.get("kind") != "binary" or not metadata.get("gridfs_id"):
        return None
    mime_type = str(metadata.get("mime_type") or "")
    data = get_raw_store().get_file(UPLOADS_DATABASE, str(metadata["gridfs_id"]))[0]
    if mime_type.startswith("image/"):
        try:
            return {"kind": "image", "mime_type": "image/png", "data": thumbnail_png(data)}
        except MediaProblem as exc:
            return {"kind": "image", "problem": str(exc)}
    if mime_type.startswith("video/"):
        return {"kind": "video", "mime_type": mime_type, "data": data, "container": metadata.get("container") or {}}
    return {"kind": "audio", "mime_type": mime_type, "data": data}


def record_detail(principal: Principal | None, app: str, raw_id: str) -> dict | None:
    """Everything about one raw record: the document, its other versions, its item and refinement outcome.

    None when there is no such record among the principal's documents.
    """
    if not _owned_ids(principal, app, [raw_id], "see raw records"):
        return None
    raw = get_raw_store()
    doc = raw.get(app, raw_id)
    if doc is None:
        return None
    versions = raw.find(app, {"source_id": doc["source_id"], "url": doc["url"]}, sort=[("fetched_at", -1)],
                        limit=20, projection={"raw_content": 0})
    with session_scope() as session:
        item = session.exec(select(Item).where(Item.raw_id == raw_id)).first()
        item_data = item.model_dump() if item else None
        refinement = None
        if item is not None:
            row = session.exec(
                select(RefinementRecord, RefinementRun.recipe_hash)
                .join(RefinementRun, RefinementRun.id == RefinementRecord.run_id)
                .where(RefinementRecord.item_id == item.id).order_by(RefinementRecord.run_id.desc())
            ).first()
            if row:
                record, recipe_hash = row
                refinement = {**record.model_dump(), "recipe_hash": recipe_hash}
    meta = doc.get("metadata") or {}
    provenance = {k: meta.get(k) for k in ("license", "origin", "attested", "attested_by", "notes", "upload",
                                           "job_id", "status", "final_url", "content_type") if k in meta}
    return {"document": doc, "versions": [{"id": v["_id"], "fetched_at": v["fetched_at"],
                                           "content_hash": v["content_hash"]} for v in versions],
            "item": item_data, "refinement": refinement, "provenance": provenance,
            "predictions": record_predictions(principal, app, raw_id)}


def record_predictions(principal: Principal | None, app: str, raw_id: str) -> list[dict]:
    """The latest prediction of each ML Lab model that scored this record (of the principal's datasets)."""
    with session_scope() as session:
        if session.exec(select(Prediction.id).where(Prediction.raw_id == str(raw_id)).limit(1)).first() is None:
            return []  # nothing scored it: ml/ stays unloaded
    from ml.predict import read_predictions  # noqa: PLC0415 - ML is loaded only for scored records

    frame = read_predictions(principal, app=app, raw_ids=[str(raw_id)])
    columns = ["model_name", "model_version", "prediction", "probability", "created_at", "item_id"]
    return [{k: (None if k == "probability" and v != v else v) for k, v in row.items()}  # NaN -> None
            for row in frame[columns].to_dict(orient="records")]


def label_records(principal: Principal, app: str, raw_ids: list[str], label: str) -> int:
    """Store good/bad labels (one per user and record; relabelling replaces)."""
    if label not in ("good", "bad"):
        raise ValueError("A label is 'good' or 'bad'.")
    raw_ids = _require_owned_ids(principal, app, raw_ids, "label records")
    with session_scope() as session:
        session.exec(delete(Feedback).where(Feedback.app == app, Feedback.user_id == principal.id,
                                            Feedback.raw_id.in_(raw_ids)))
        session.add_all(Feedback(app=app, raw_id=r, label=label, user_id=principal.id) for r in raw_ids)
    audit.record("label", principal.id, f"{app}:{len(raw_ids)} records", label=label, raw_ids=raw_ids[:100])
    return len(raw_ids)


def labels_for(principal: Principal | None, app: str, raw_ids: list[str]) -> dict[str, str]:
    """Labels given to these records (by anyone: labels describe the owner's own records)."""
    raw_ids = _owned_ids(principal, app, raw_ids, "see labels")
    with session_scope() as session:
        rows = session.exec(select(Feedback.raw_id, Feedback.label).where(Feedback.app == app,
                                                                           Feedback.raw_id.in_(raw_ids)))
        return dict(rows.all())


def delete_records(principal: Principal, app: str, raw_ids: list[str]) -> dict:
    """Delete raw records and the items made from them; items already judged by a run are kept as history."""
    raw_ids = _require_owned_ids(principal, app, raw_ids, "delete records")
    with session_scope() as session:
        judged = set(session.exec(
            select(Item.raw_id).join(RefinementRecord, RefinementRecord.item_id == Item.id)
            .where(Item.raw_id.in_(raw_ids))
        ).all())
        removable = [r for r in raw_ids if r not in judged]
        session.exec(delete(Item).where(Item.raw_id.in_(removable)))
    deleted = get_raw_store().delete_documents(app, raw_ids)
    audit.record("delete_raw", principal.id, f"{app}:{deleted} records", raw_ids=raw_ids[:100],
                 items_kept_as_history=len(judged))
    return {"deleted": deleted, "items_kept_as_history": len(judged)}


def escape_csv_cell(value) -> str:
    """Neutralise spreadsheet formulas (a cell starting with = + - @ tab CR gets a leading quote)."""
    return escape_csv_formula("" if value is None else str(value))


def iter_export(principal: Principal | None, app: str, flt: RawFilter, fmt: str,
                batch: int = 2000) -> Iterator[str]:
    """The principal's records under the current filter as JSONL or CSV text chunks (at most EXPORT_LIMIT)."""
    if fmt not in ("jsonl", "csv"):
        raise ValueError("Export format is jsonl or csv.")
    query = tenancy.scoped_query(principal, flt.query(), "export raw records")
    raw = get_raw_store()
    columns = ["id", "source_id", "url", "fetched_at", "content_hash", "title", "raw_content", "metadata"]
    if fmt == "csv":
        yield _csv_line(columns)
    for start in range(0, EXPORT_LIMIT, batch):
        docs = raw.find(app, query, sort=SORTS["newest"], skip=start, limit=batch)
        for doc in docs:
            row = {"id": doc["_id"], "source_id": doc.get("source_id"), "url": doc.get("url"),
                   "fetched_at": doc.get("fetched_at"), "content_hash": doc.get("content_hash"),
                   "title": ((doc.get("metadata") or {}).get("extracted") or {}).get("title"),
                   "raw_content": doc.get("raw_content"), "metadata": doc.get("metadata")}
            if fmt == "jsonl":
                yield json.dumps(row, ensure_ascii=False, default=str) + "\n"
            else:
                row["metadata"] = json.dumps(row["metadata"], ensure_ascii=False, default=str)
                yield _csv_line([row[c] for c in columns])
        if len(docs) < batch:
            return


def _csv_line(values: list) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([escape_csv_cell(v) for v in values])
    return buffer.getvalue()


def export_bytes(principal: Principal | None, app: str, flt: RawFilter, fmt: str) -> bytes:
    return "".join(iter_export(principal, app, flt, fmt)).encode("utf-8")
