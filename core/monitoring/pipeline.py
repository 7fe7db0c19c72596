"""Pipeline performance from the Job table: durations, throughput, failures and retries.

Per job kind and per source (a scraped source's name, or the `dataset:NAME` a job worked on):
- duration: finished_at - started_at of jobs that ran (median, 90th percentile, longest);
- documents: what the job's result says it processed (refine `input`, predict `rows`, signals `items`,
  scrape `pages`, ...); throughput is documents / seconds over the jobs that report both;
- failures: jobs that ended `failed`, and the failure rate among finished jobs;
- retries: the job runner does not retry by itself, so a retry is a person (or a schedule) starting the
  same kind with the same parameters again after a failure of it; counted on the later job.
A scrape of several sources is split over them by their pages (fetch errors are per source already).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sqlmodel import select

from core import tenancy
from core.auth import Principal
from core.store.models import Job
from core.store.sql import session_scope

DOCUMENT_KEYS = ("documents", "input", "rows", "items", "pages", "articles", "analysed", "snapshots")
STAT_COLUMNS = ["jobs", "finished", "failed", "failure_rate", "retries", "median_s", "p90_s", "max_s",
                "documents", "docs_per_s"]


def documents_of(result: dict | None) -> int | None:
    """How many documents a finished job processed, from its result (None when it does not say)."""
    for key in DOCUMENT_KEYS:
        value = (result or {}).get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value)
    return None


def _seconds(started: datetime | None, finished: datetime | None) -> float | None:
    if started is None or finished is None:
        return None
    return max((finished - started).total_seconds(), 0.0)


def job_rows(principal: Principal | None, since: datetime | None = None, limit: int = 5000) -> pd.DataFrame:
    """One row per job of the principal (admins: everyone's) created since `since` (default: 7 days)."""
    tenancy.require_supplier(principal, "see pipeline performance")
    since = since or datetime.now(UTC) - timedelta(days=7)
    with session_scope() as session:
        query = select(Job).where(Job.created_at >= since).order_by(Job.id).limit(limit)
        if not tenancy.sees_everything(principal):
            query = query.where(Job.created_by == principal.id)
        jobs = [job.model_dump(exclude={"log"}) for job in session.exec(query)]
    failed_before: set[tuple] = set()
    rows = []
    for job in jobs:
        signature = (job["kind"], job["created_by"], json.dumps(_retry_params(job["params"]), sort_keys=True,
                                                                default=str))
        rows.append({"job_id": job["id"], "kind": job["kind"], "status": job["status"],
                     "created_by": job["created_by"], "created_at": job["created_at"],
                     "seconds": _seconds(job["started_at"], job["finished_at"]),
                     "documents": documents_of(job["result"]) if job["status"] == "succeeded" else None,
                     "retry": signature in failed_before, "sources": _sources(job)})
        if job["status"] == "failed":
            failed_before.add(signature)
    return pd.DataFrame(rows, columns=["job_id", "kind", "status", "created_by", "created_at", "seconds",
                                       "documents", "retry", "sources"])


def _retry_params(params: dict) -> dict:
    # A schedule's run stamps its own id and time; the work asked for is the rest.
    return {k: v for k, v in (params or {}).items() if k not in ("schedule_id", "end", "requested_at")}


def _sources(job: dict) -> dict[str, float]:
    """{source: share of the job} : scraped sources by pages, else the dataset the job worked on."""
    per_source = (job.get("result") or {}).get("sources")
    if isinstance(per_source, dict) and per_source:
        pages = {name: float((info or {}).get("pages") or 0) for name, info in per_source.items()}
        total = sum(pages.values())
        return {name: (n / total if total else 1 / len(pages)) for name, n in pages.items()}
    names = (job.get("params") or {}).get("sources")
    if isinstance(names, list) and names:
        return {str(n): 1 / len(names) for n in names}
    dataset = (job.get("params") or {}).get("dataset")
    return {f"dataset:{dataset}" if dataset else "-": 1.0}


def _stats(group: pd.DataFrame, shares: pd.Series | None = None) -> dict:
    shares = shares if shares is not None else pd.Series(1.0, index=group.index)
    finished = group["status"].isin(["succeeded", "failed"])
    seconds = (group["seconds"].astype(float) * shares).dropna()
    ran = group["status"] == "succeeded"
    documents = (group["documents"].astype(float) * shares)[ran]
    timed = documents.notna() & (group["seconds"].astype(float) * shares)[ran].gt(0)
    total_docs = float(documents[timed].sum())
    total_seconds = float((group["seconds"].astype(float) * shares)[ran][timed].sum())
    failed = int((group["status"] == "failed").sum())
    return {"jobs": len(group), "finished": int(finished.sum()), "failed": failed,
            "failure_rate": failed / int(finished.sum()) if finished.any() else None,
            "retries": int(group["retry"].sum()),
            "median_s": float(np.median(seconds)) if len(seconds) else None,
            "p90_s": float(np.percentile(seconds, 90)) if len(seconds) else None,
            "max_s": float(seconds.max()) if len(seconds) else None,
            "documents": int(round(float(documents.fillna(0).sum()))),
            "docs_per_s": total_docs / total_seconds if total_seconds > 0 else None}


def pipeline_stats(principal: Principal | None, since: datetime | None = None) -> dict:
    """{"by_kind": one row per job kind, "by_source": one row per (kind, source), "jobs": the job rows}."""
    jobs = job_rows(principal, since)
    by_kind = pd.DataFrame([{"kind": kind, **_stats(group)} for kind, group in jobs.groupby("kind", sort=True)],
                           columns=["kind", *STAT_COLUMNS])
    exploded = [{**row, "source": source, "share": share}
                for row in jobs.to_dict("records") for source, share in row["sources"].items()]
    flat = pd.DataFrame(exploded, columns=[*jobs.columns, "source", "share"])
    by_source = pd.DataFrame(
        [{"kind": kind, "source": source, **_stats(group, group["share"])}
         for (kind, source), group in flat.groupby(["kind", "source"], sort=True)],
        columns=["kind", "source", *STAT_COLUMNS])
    return {"by_kind": by_kind, "by_source": by_source, "jobs": jobs.drop(columns=["sources"])}


def failure_rate(principal: Principal | None, since: datetime | None = None) -> tuple[float | None, int]:
    """Failed share of the principal's finished jobs since `since` (default 24 hours), and how many finished."""
    jobs = job_rows(principal, since or datetime.now(UTC) - timedelta(hours=24))
    finished = jobs[jobs["status"].isin(["succeeded", "failed"])]
    if finished.empty:
        return None, 0
    return float((finished["status"] == "failed").mean()), len(finished)
