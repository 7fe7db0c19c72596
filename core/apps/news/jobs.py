"""The news app's job: `news_analyze` over one dataset's items, with progress and cancellation."""

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
