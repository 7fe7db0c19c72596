"""Refinement: start a run (a job), list runs, a run's summary and its per-item decisions (paged)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import select

from core import tenancy
from core.api.deps import Caller
from core.api.paging import Limit, Offset, RowId
from core.api.routes_jobs import JobOut, submitted
from core.refine.recipe import recipe_from_yaml
from core.refine.runs import run_detail
from core.store import jobs
from core.store.models import Item, RefinementRecord, RefinementRun
from core.store.sql import session_scope

router = APIRouter(tags=["refinement"])


class RefineRequest(BaseModel):
    recipe_yaml: str | None = Field(default=None, max_length=200_000,
                                    description="A recipe as YAML (the Refine page's export); default: the "
                                                "dataset application's default recipe")


class FunnelStep(BaseModel):
    rule: str
    dropped: int
    remaining: int | None = None


class RunOut(BaseModel):
    id: int
    dataset: str
    status: str
    recipe_hash: str
    input: int | None
    kept: int | None
    dropped: int | None
    dropped_by_rule: dict[str, int]
    funnel: list[FunnelStep]
    metrics: dict[str, float | int | None] = Field(description="mean quality and sub-scores, PII and duplicate counts")
    languages_kept: dict[str, int]
    error: str | None
    created_at: datetime


class DecisionOut(BaseModel):
    item_id: int
    title: str | None
    kept: bool
    drop_reason: str | None
    duplicate_cluster: str | None


class DecisionPage(BaseModel):
    total: int
    offset: int
    limit: int
    decisions: list[DecisionOut]


def _run_out(run: dict) -> RunOut:
    counts, metrics = run.get("counts") or {}, run.get("metrics") or {}
    steps = [FunnelStep(rule=str(s.get("rule")), dropped=int(s.get("dropped") or 0),
                        remaining=s.get("remaining") if isinstance(s.get("remaining"), int) else None)
             for s in counts.get("funnel", []) if isinstance(s, dict)]
    return RunOut(id=run["id"], dataset=run["dataset"], status=run["status"], recipe_hash=run["recipe_hash"],
                  input=counts.get("input"), kept=counts.get("kept"), dropped=counts.get("dropped"),
                  dropped_by_rule={str(k): int(v) for k, v in (counts.get("dropped_by_rule") or {}).items()},
                  funnel=steps,
                  metrics={k: v for k, v in metrics.items() if v is None or isinstance(v, int | float)},
                  languages_kept={str(k): int(v) for k, v in (metrics.get("languages") or {}).items()},
                  error=run.get("error"), created_at=run["created_at"])


@router.post("/datasets/{name}/refinements", response_model=JobOut, status_code=202,
             summary="Start a refinement run of the dataset (a job; poll /jobs/{id})")
def start_refinement(name: str, body: RefineRequest, principal: Caller) -> JobOut:
    tenancy.dataset_for(principal, name, action="refine datasets")
    params: dict = {"dataset": name}
    if body.recipe_yaml:
        params["recipe"] = recipe_from_yaml(body.recipe_yaml).to_dict()  # a bad recipe is a 400 now, not a failed job
    return submitted(jobs.submit("refine", params, principal), principal)


@router.get("/runs", response_model=list[RunOut], summary="Refinement runs of your datasets, newest first")
def list_runs(principal: Caller, dataset: Annotated[str | None, Query(max_length=200)] = None,
              limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[RunOut]:
    tenancy.require_supplier(principal, "see refinement runs")
    dataset_id = tenancy.dataset_for(principal, dataset)["id"] if dataset else None
    owned = tenancy.visible_dataset_ids(principal)
    with session_scope() as session:
        query = select(RefinementRun.id).order_by(RefinementRun.id.desc()).limit(limit)
        if dataset_id is not None:
            query = query.where(RefinementRun.dataset_id == dataset_id)
        if owned is not None:
            query = query.where(RefinementRun.dataset_id.in_(owned))
        run_ids = list(session.exec(query).all())
    return [_run_out(run_detail(principal, run_id)) for run_id in run_ids]


@router.get("/runs/{run_id}", response_model=RunOut, summary="A run's summary: counts, funnel, metrics")
def get_run(run_id: RowId, principal: Caller) -> RunOut:
    return _run_out(run_detail(principal, run_id))


@router.get("/runs/{run_id}/decisions", response_model=DecisionPage,
            summary="A page of the run's per-item decisions: kept, or the rule that dropped it")
def list_decisions(run_id: RowId, principal: Caller, offset: Offset = 0, limit: Limit = 100,
                   kept: Annotated[bool | None, Query(description="only kept (true) or dropped (false)")] = None
                   ) -> DecisionPage:
    tenancy.run_for(principal, run_id)
    condition = [RefinementRecord.run_id == run_id]
    if kept is not None:
        condition.append(RefinementRecord.kept == kept)
    with session_scope() as session:
        total = session.exec(select(func.count(RefinementRecord.id)).where(*condition)).one()
        rows = session.exec(select(RefinementRecord, Item.title).join(Item, Item.id == RefinementRecord.item_id)
                            .where(*condition).order_by(RefinementRecord.id).offset(offset).limit(limit)).all()
        decisions = [DecisionOut(item_id=r.item_id, title=title, kept=r.kept, drop_reason=r.drop_reason,
                                 duplicate_cluster=r.duplicate_cluster) for r, title in rows]
    return DecisionPage(total=total, offset=offset, limit=limit, decisions=decisions)
