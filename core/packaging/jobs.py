"""The package build as a background job (Packages page) with the same code as the CLI."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from core.packaging.build import PackageRequest, build_package
from core.store.jobs import job_function, submit
from core.store.models import ModelWatch
from core.store.sql import session_scope


@job_function("package")
def package_job(ctx, params: dict) -> dict:
    request = PackageRequest(
        dataset=params["dataset"], title=params["title"], license=params["license"],
        formats=tuple(params.get("formats") or ("jsonl", "csv", "parquet")), run_id=params.get("run_id"),
        description=params.get("description", ""), languages=params.get("languages", []),
        topics=params.get("topics", []), sources=params.get("sources", []), change=params.get("change", "minor"),
        out_dir=Path(params["out_dir"]) if params.get("out_dir") else None,
    )
    result = build_package(ctx.principal, request, progress=ctx.progress, job_id=ctx.job_id)
    ctx.log(f"Published {result['name']} {result['version']}: {result['rows']:,} rows at {result['path']}")
    if _watched(result["name"]):  # continuous training (ml/continuous.py): retrain the models watching it
        ctx.log(f"Retrain job {submit('retrain', {'package': result['name']}, ctx.principal)} submitted")
    return {k: v for k, v in result.items() if k != "files"}


def _watched(package: str) -> bool:
    with session_scope() as session:
        return session.exec(select(ModelWatch.id).where(ModelWatch.source == f"package:{package}")).first() is not None
