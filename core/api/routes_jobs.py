"""Jobs (scrape, refine, package, predict...) and their progress: the caller's own (admins: all)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from core.api.deps import Caller
from core.api.paging import RowId
from core.store import jobs
from core.tenancy import NotFoundOrDenied

router = APIRouter(tags=["jobs"])
Scalar = str | int | float | bool | None


class JobOut(BaseModel):
    id: int
    kind: str
    status: str = Field(description="queued | running | succeeded | failed")
    progress: float = Field(description="0 to 1")
    message: str
    error: str | None
    result: dict[str, Scalar] = Field(description="the job's result, its plain values only")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def job_out(row: dict) -> JobOut:
    result = {k: v for k, v in (row.get("result") or {}).items() if isinstance(v, str | int | float | bool)}
    return JobOut(id=row["id"], kind=row["kind"], status=row["status"], progress=row["progress"],
                  message=row["message"], error=row.get("error"), result=result, created_at=row["created_at"],
                  started_at=row.get("started_at"), finished_at=row.get("finished_at"))


def submitted(job_id: RowId, principal) -> JobOut:
    return job_out(jobs.get_job(principal, job_id))


@router.get("/jobs", response_model=list[JobOut], summary="Your latest jobs, newest first")
def list_jobs(principal: Caller, limit: Annotated[int, Query(ge=1, le=200)] = 20,
              kind: Annotated[str | None, Query(max_length=50)] = None) -> list[JobOut]:
    return [job_out(row) for row in jobs.recent_jobs(principal, limit=limit, kind=kind)]


@router.get("/jobs/{job_id}", response_model=JobOut, summary="One job with its progress")
def get_job(job_id: RowId, principal: Caller) -> JobOut:
    row = jobs.get_job(principal, job_id)
    if row is None:
        raise NotFoundOrDenied(f"No job {job_id} that you can see.")
    return job_out(row)


@router.post("/jobs/{job_id}/cancel", response_model=JobOut, summary="Ask a queued or running job to stop")
def cancel_job(job_id: RowId, principal: Caller) -> JobOut:
    if jobs.get_job(principal, job_id) is None:
        raise NotFoundOrDenied(f"No job {job_id} that you can stop.")
    jobs.request_cancel(principal, job_id)
    return job_out(jobs.get_job(principal, job_id))
