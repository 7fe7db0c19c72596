"""The package build as a background job (Packages page) with the same code as the CLI."""

from __future__ import annotations

from pathlib import Path

from core.packaging.build import PackageRequest, build_package
from core.store.jobs import job_function


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
    return {k: v for k, v in result.items() if k != "files"}
