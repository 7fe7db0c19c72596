"""Monitoring jobs: a drift check (two runs of a dataset, or a model against a dataset) off the page thread."""

from __future__ import annotations

from core.monitoring.logs import bound_to
from core.store.jobs import JobContext, job_function


@job_function("drift_check", roles=("supplier", "admin"))
def drift_check_job(ctx: JobContext, params: dict) -> dict:
    """params: {"dataset", "model"?, "version"?, "reference_run"?, "current_run"?, "only_new"?, "retrain_above"?}."""
    from core.monitoring import drift

    with bound_to(ctx.principal.id, ctx.job_id):
        ctx.progress(0.05, f"Comparing {params['dataset']}")
        if params.get("model"):
            out = drift.compare_model(ctx.principal, params["model"], params["dataset"], params.get("version"),
                                      retrain_above=params.get("retrain_above"), job_id=ctx.job_id)
            reports = [out["inputs"], out["predictions"]]
            if out["retrain"]:
                ctx.log(out["retrain"]["reason"])
        else:
            reports = [drift.compare_runs(ctx.principal, params["dataset"], params.get("reference_run"),
                                          params.get("current_run"), bool(params.get("only_new", True)),
                                          job_id=ctx.job_id)]
            out = {"retrain": None}
        for report in reports:
            drifted = ", ".join(report["drifted"]) or "none"
            ctx.log(f"{report['kind']}: {report['reference']} vs {report['current']}: "
                    f"{len(report['drifted'])} of {report['columns_checked']} column(s) drifted ({drifted})")
        ctx.progress(1.0, f"{sum(len(r['drifted']) for r in reports)} drifted column(s)")
    return {"reports": [r["id"] for r in reports], "drifted": sorted({c for r in reports for c in r["drifted"]}),
            "retrain": out["retrain"]}
