"""Property analysis as jobs: train a valuation model, value a dataset's listings (with progress)."""

from __future__ import annotations

from core.store.jobs import JobContext, job_function

PROPERTY_ROLES = ("supplier", "admin")


@job_function("property_train", roles=PROPERTY_ROLES)
def property_train_job(ctx: JobContext, params: dict) -> dict:
    from core.apps.listings.property.valuation import DEFAULT_LEVEL, DEFAULT_TIME_BUDGET_S, train_valuation

    def progress(fraction: float, message: str) -> None:
        ctx.progress(fraction, message)
        ctx.check_cancelled()

    result = train_valuation(ctx.principal, params["source"], params["name"], target=params.get("target") or None,
                             level=float(params.get("level") or DEFAULT_LEVEL),
                             time_budget_s=float(params.get("time_budget_s") or DEFAULT_TIME_BUDGET_S),
                             progress=progress)
    ctx.log(f"Registered {result['model']} version {result['version']} ({result['chosen']}): held-out MAPE "
            f"{result['mape']}%, {result['interval_level']:.0%} interval coverage {result['coverage']}")
    for note in result["notes"]:
        ctx.log(note)
    return result


@job_function("property_value", roles=PROPERTY_ROLES)
def property_value_job(ctx: JobContext, params: dict) -> dict:
    from core.apps.listings.property.service import value_dataset

    result = value_dataset(ctx.principal, params["dataset"], params.get("model") or None, params.get("version"),
                           progress=ctx.progress)
    ctx.log(f"Valued {result['listings']} listings of {result['dataset']} with {result['model']} v{result['version']}: "
            + ", ".join(f"{flag} {count}" for flag, count in result["flags"].items()))
    return result
