"""The news app's jobs: `news_analyze` (one dataset's items) and `news_generate` (a content workflow)."""

from __future__ import annotations

from core.apps.news.service import analyze_dataset
from core.store.jobs import JobContext, job_function


@job_function("news_analyze")
def news_analyze(ctx: JobContext, params: dict) -> dict:
    """params: {"dataset": name, "model_name": optional ML Lab model, "use_openai": bool (default True)}."""
    ctx.log(f"Analysing dataset {params.get('dataset')!r}")
    result = analyze_dataset(ctx.principal, params["dataset"], model_name=params.get("model_name") or None,
                             use_openai=bool(params.get("use_openai", True)), job_id=ctx.job_id,
                             progress=ctx.progress, check_cancelled=ctx.check_cancelled)
    if result.get("openai"):
        ctx.log(f"OpenAI: {result['openai']}; local fallbacks: {result['summary_fallbacks']}")
    if result.get("topic_fallback"):
        ctx.log(result["topic_fallback"])
    return result


@job_function("news_generate")
def news_generate(ctx: JobContext, params: dict) -> dict:
    """params: {"workflow": daily|weekly|topic|run, "dataset", "end"?, "topic"?, "run_id"?, "use_openai"?,
    "analyse_first"?, "schedule_id"?}: one content workflow, its output stored as a draft for review."""
    from core.apps.news.workflows import generate_output  # noqa: PLC0415 - keeps job discovery light

    ctx.log(f"Workflow {params.get('workflow')!r} on {params.get('dataset') or 'run ' + str(params.get('run_id'))}"
            + (f" (schedule {params['schedule_id']})" if params.get("schedule_id") else ""))
    result = generate_output(ctx.principal, params, progress=ctx.progress, check_cancelled=ctx.check_cancelled)
    ctx.log(f"Stored output {result['output_id']} ({result['generator']}, {result['pii_findings']} PII finding(s))")
    return result
