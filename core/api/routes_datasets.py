"""Datasets, their items (paged) and uploads (the request body streamed to disk, then ingested)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import select

from core import tenancy
from core.api.deps import Caller
from core.api.errors import ApiProblem
from core.api.paging import SAFE_NAME_PATTERN, Limit, Offset
from core.api.uploads import check_target, ingest_spooled, spool_file, upload_limit_bytes
from core.auth import Principal
from core.sources.ingest import ORIGINS
from core.store.models import Item
from core.store.sql import session_scope

router = APIRouter(tags=["datasets"])
APP_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,40}$"  # core.store.raw.validate_app_name


class DatasetOut(BaseModel):
    id: int
    name: str
    app: str
    description: str
    license: str | None
    origin: str | None
    attested: bool
    created_by: int | None
    created_at: datetime


class ItemOut(BaseModel):
    id: int
    source_id: str
    url: str | None
    title: str | None
    text: str
    data_type: str
    fields_json: str  # the standardized fields as JSON text: their keys differ per source
    created_at: datetime


class ItemPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[ItemOut]


class RejectedLine(BaseModel):
    file: str
    line: int
    reason: str


class IngestReportOut(BaseModel):
    dataset: str
    app: str
    new: int
    already_present: int
    items_created: int
    rejected_count: int
    rejected: list[RejectedLine]  # the first 1,000, so one huge bad file does not make a huge response
    streamed: bool  # False for formats read whole (text, HTML, ZIP), within UPLOAD_MAX_MB


def _dataset_out(row: dict) -> DatasetOut:
    return DatasetOut(**{k: row.get(k) for k in DatasetOut.model_fields})


@router.get("/datasets", response_model=list[DatasetOut], summary="Datasets you own (admins: all)")
def list_datasets(principal: Caller) -> list[DatasetOut]:
    return [_dataset_out(row) for row in tenancy.visible_datasets(principal)]


@router.get("/datasets/{name}", response_model=DatasetOut, summary="One dataset")
def get_dataset(name: str, principal: Caller) -> DatasetOut:
    return _dataset_out(tenancy.dataset_for(principal, name, action="see this dataset"))


def items_page(principal: Principal, name: str, offset: int, limit: int) -> ItemPage:
    dataset = tenancy.dataset_for(principal, name, action="read items")
    with session_scope() as session:
        total = session.exec(select(func.count(Item.id)).where(Item.dataset_id == dataset["id"])).one()
        rows = session.exec(select(Item).where(Item.dataset_id == dataset["id"]).order_by(Item.id)
                            .offset(offset).limit(limit)).all()
        items = [ItemOut(id=r.id, source_id=r.source_id, url=r.url, title=r.title, text=r.text,
                         data_type=r.data_type, fields_json=json.dumps(r.fields, default=str),
                         created_at=r.created_at) for r in rows]
    return ItemPage(total=total, offset=offset, limit=limit, items=items)


@router.get("/datasets/{name}/items", response_model=ItemPage, summary="A page of the dataset's standardized items")
def list_items(name: str, principal: Caller, offset: Offset = 0, limit: Limit = 50) -> ItemPage:
    return items_page(principal, name, offset, limit)


UPLOAD_BODY = {"requestBody": {"required": True, "description": "The file's bytes, sent as the request body",
                               "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                   "format": "binary"}}}}}


@router.post("/datasets/{name}/uploads", response_model=IngestReportOut, openapi_extra=UPLOAD_BODY,
             summary="Upload a file (CSV, JSONL, JSON, Parquet, text or ZIP) into the dataset",
             description="The body is streamed to a temporary file on the server, never held in memory, then "
                         "ingested a record at a time (CSV, JSONL, JSON, Parquet, optionally .gz) up to "
                         "INGEST_MAX_GB; the answer comes when the file is stored. The dataset is created if it "
                         "does not exist.")
async def upload(request: Request, name: Annotated[str, Path(pattern=SAFE_NAME_PATTERN)], principal: Caller,
                 filename: Annotated[str, Query(min_length=1, max_length=255, description="e.g. reviews.jsonl")],
                 license: Annotated[str, Query(min_length=1, max_length=100, description="SPDX id, e.g. CC-BY-4.0")],
                 attest: Annotated[bool, Query(description="You have the right to supply this data")],
                 app: Annotated[str, Query(pattern=APP_NAME_PATTERN, description="raw-store application")] = "uploads",
                 origin: Annotated[Literal[ORIGINS], Query()] = "enterprise",
                 notes: Annotated[str, Query(max_length=2000)] = "") -> IngestReportOut:
    tenancy.require_supplier(principal, "upload data")
    if not attest:
        raise ApiProblem(400, "Confirm that you have the right to supply this data (attest=true); "
                              "nothing was ingested.")
    await run_in_threadpool(check_target, principal, name.strip(), app)
    limit = upload_limit_bytes()
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiProblem(413, f"The body is {int(declared):,} bytes; the API accepts up to {limit:,}.")
    with spool_file(filename) as spool_path:
        size = 0
        with open(spool_path, "wb") as spool:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise ApiProblem(413, f"The body passed {limit:,} bytes, the API's upload limit; "
                                          "nothing was ingested.")
                spool.write(chunk)
        if size == 0:
            raise ApiProblem(400, "The request body is empty; send the file's bytes as the body.")
        report = await run_in_threadpool(
            ingest_spooled, principal, spool_path, filename, app=app, dataset=name, license=license,
            origin=origin, notes=notes)
    rejected = [RejectedLine(file=str(f), line=int(n), reason=str(r)) for f, n, r in report.get("rejected", [])]
    return IngestReportOut(dataset=report["dataset"], app=report["app"], new=report["new"],
                           already_present=report["already_present"], items_created=report["items_created"],
                           rejected_count=report.get("rejected_count", len(rejected)), rejected=rejected[:1000],
                           streamed=bool(report.get("streamed")))
