"""Content workflows beyond the periodic digest: a topic brief and a refinement-run report.

Both follow the digest's shape (core/apps/news/digest.py): a local template filled with figures and
extractive text from the analysed articles, optionally rewritten by OpenAI (the draft is its only input),
then the PII check, then a stored `NewsDigest` row (its `period` column names the workflow: daily |
weekly | topic | run) kept with its inputs and generator version, reviewable and exportable as Markdown.
`generate_output` is the one entry point the `news_generate` job and saved schedules call.

- Topic brief: what the articles of one topic say: key points (the topic's article summaries summarised
  again by the local extractive summarizer, so the points are sentences the articles wrote), the tone mix,
  sources and how often each is quoted, and the articles a reader should check (one-sided sourcing,
  loaded words).
- Run report: what a refinement run did (recipe, funnel, rules that dropped items, quality of what was
  kept, languages) and, when the dataset is analysed, what the kept articles are about.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime

from core.apps.news.digest import MAX_PER_TOPIC, _safe_piece, escape_markdown, generate_digest, store_output
from core.apps.news.service import analysed_articles
from core.apps.news.summarize import summarize
from core.auth import Principal
from core.store.models import Dataset
from core.store.sql import session_scope
from core.tenancy import dataset_for, run_for

GENERATOR_BRIEF = "topic-brief-template-v1"
GENERATOR_RUN = "run-report-template-v1"
WORKFLOWS = {"daily": "Daily digest", "weekly": "Weekly digest", "topic": "Topic brief", "run": "Run report"}
KEY_POINTS = 5
LOADED_FLAG = 1.0  # loaded words per 100 words from which an article is listed under "read with care"


def _dates(articles: list[dict]) -> tuple[datetime, datetime]:
    moments = [a["published_at"] for a in articles if a.get("published_at")]
    now = datetime.now(UTC)
    return (min(moments), max(moments)) if moments else (now, now)


def _tone_line(articles: list[dict]) -> str:
    tones = Counter(a["tone"] for a in articles)
    return ", ".join(f"{tones[t]} {t}" for t in ("positive", "neutral", "negative", "unknown") if tones[t])


def key_points(articles: list[dict], findings: list, n: int = KEY_POINTS) -> list[str]:
    """The topic's key points: the local summarizer run over the articles' summaries taken together."""
    leads = [s for a in articles for s in (a.get("summary") or "").split("\n") if s.strip()]
    unique = list(dict.fromkeys(leads))
    if len(unique) <= n:
        return [_safe_piece(s, findings) for s in unique]
    language = Counter(a.get("language") or "en" for a in articles).most_common(1)[0][0]
    # one sentence a paragraph: the splitter then keeps each summary sentence whole
    chosen = summarize("\n\n".join(unique), n, language=language)
    return [_safe_piece(s, findings) for s in chosen.sentences]


def local_topic_brief(articles: list[dict], topic: str, dataset: str, findings: list) -> str:
    first, last = _dates(articles)
    lines = [f"# Topic brief: {escape_markdown(topic)}", "",
             f"{len(articles)} articles from {len({a['source_id'] for a in articles})} source(s) in "
             f"{escape_markdown(dataset)}, {first:%Y-%m-%d} to {last:%Y-%m-%d} · tone: {_tone_line(articles)}", ""]
    if not articles:
        return "\n".join(lines + ["No analysed articles on this topic."]) + "\n"
    lines += ["## Key points", ""] + [f"- {point}" for point in key_points(articles, findings)] + [""]
    sources = Counter(a["source_id"] for a in articles)
    lines += ["## Sources", "", "| source | articles |", "|---|---|"]
    lines += [f"| {escape_markdown(s)} | {c} |" for s, c in sources.most_common()] + [""]
    mean = sum(a.get("sentiment") or 0 for a in articles) / len(articles)
    lines += ["## Tone and bias indicators", "",
              f"- mean sentiment {mean:+.2f}; subjectivity "
              f"{sum(a['subjectivity_rate'] for a in articles) / len(articles):.0%} of sentences; hedging "
              f"{sum(a['hedging_rate'] for a in articles) / len(articles):.0%}; quotes "
              f"{sum(a['quote_share'] for a in articles) / len(articles):.0%}",
              f"- {sum(a['one_sided'] for a in articles)} article(s) with one-sided sourcing", ""]
    careful = [a for a in articles if a["one_sided"] or a["loaded_per_100_words"] >= LOADED_FLAG]
    if careful:
        lines += ["## Read with care", ""]
        for a in careful[:MAX_PER_TOPIC]:
            reasons = (["one-sided sourcing"] if a["one_sided"] else []) + (
                [f"{a['loaded_per_100_words']:.1f} loaded words/100"] if a["loaded_per_100_words"] >= LOADED_FLAG
                else [])
            lines.append(f"- **{_safe_piece(a.get('title') or '(untitled)', findings)}**: {', '.join(reasons)}")
        lines.append("")
    lines += ["## Articles", ""]
    for a in articles[:3 * MAX_PER_TOPIC]:
        when = f"{a['published_at']:%Y-%m-%d}" if a.get("published_at") else "undated"
        lead = (a.get("summary") or "").split("\n")[0]
        lines.append(f"- {when} **{_safe_piece(a.get('title') or '(untitled)', findings)}** "
                     f"({a['tone']}, {escape_markdown(a['source_id'])}): {_safe_piece(lead, findings)}")
    return "\n".join(lines).rstrip() + "\n"


def topic_brief(principal: Principal | None, dataset: str, topic: str, *, date_from: date | None = None,
                date_to: date | None = None, run_id: int | None = None, use_openai: bool = True) -> dict:
    """Write, PII-check and store a brief on one topic of `dataset`'s analysed articles."""
    owned = dataset_for(principal, dataset, "write topic briefs of this dataset")
    if not topic:
        raise ValueError("Choose a topic for the brief.")
    articles = analysed_articles(principal, dataset, topics=[topic], date_from=date_from, date_to=date_to,
                                 run_id=run_id)
    findings: list = []
    markdown = local_topic_brief(articles, topic, dataset, findings)
    first, last = _dates(articles)
    inputs = {"analysis_ids": [a["id"] for a in articles], "topic": topic,
              "date_from": date_from.isoformat() if date_from else None,
              "date_to": date_to.isoformat() if date_to else None, **({"run_id": run_id} if run_id else {})}
    return store_output(principal, owned, "topic", first, last, f"Topic brief: {topic} ({dataset})", markdown,
                        findings, inputs, use_openai=use_openai and bool(articles), generator=GENERATOR_BRIEF)


def local_run_report(run: dict, dataset: str, articles: list[dict], findings: list) -> str:
    counts, metrics = run.get("counts") or {}, run.get("metrics") or {}
    lines = [f"# Refinement run report: run {run['id']} of {escape_markdown(dataset)}", "",
             f"Recipe `{escape_markdown(run.get('recipe_hash') or '')[:12]}` · status {run['status']} · "
             f"{run['created_at']:%Y-%m-%d %H:%M} UTC · code {escape_markdown(run.get('code_version') or '-')}", "",
             "## Funnel", "", "| step | items |", "|---|---|",
             f"| input | {counts.get('input', 0)} |", f"| kept | {counts.get('kept', 0)} |",
             f"| dropped | {counts.get('dropped', 0)} |"]
    for rule, dropped in (counts.get("dropped_by_rule") or {}).items():
        lines.append(f"| dropped by {escape_markdown(str(rule))} | {dropped} |")
    quality = [(k, v) for k, v in metrics.items() if k.startswith("mean_") and v is not None]
    if quality:
        lines += ["", "## Quality", "", "| measure | value |", "|---|---|"]
        lines += [f"| {escape_markdown(k[5:].replace('_', ' '))} | {v:.3f} |" for k, v in quality]
    for key, label in (("items_with_pii", "items with PII findings"), ("duplicate_clusters", "duplicate clusters")):
        if key in metrics:
            lines.append(f"\n- {label}: {metrics[key]}")
    if metrics.get("languages"):
        lines += ["", "## Languages kept", "",
                  ", ".join(f"{escape_markdown(str(k))} {v}" for k, v in metrics["languages"].items())]
    lines += ["", "## What the kept articles say", ""]
    if not articles:
        lines.append("The kept items are not analysed yet: run **Analyse** on the News page first.")
    else:
        lines.append(f"{len(articles)} analysed kept articles · tone: {_tone_line(articles)}")
        topics = Counter(a["topic"] for a in articles)
        for topic, count in topics.most_common(MAX_PER_TOPIC):
            members = [a for a in articles if a["topic"] == topic]
            lead = (members[0].get("summary") or "").split("\n")[0]
            lines.append(f"- **{escape_markdown(topic)}** ({count}): {_safe_piece(lead, findings)}")
    return "\n".join(lines).rstrip() + "\n"


def run_report(principal: Principal | None, run_id: int, *, use_openai: bool = True) -> dict:
    """Write, PII-check and store a report of one refinement run (the principal's own run)."""
    run = run_for(principal, int(run_id), "write a report of this run")
    with session_scope() as session:
        dataset = session.get(Dataset, run["dataset_id"]).name
    owned = dataset_for(principal, dataset, "write reports of this dataset")
    articles = analysed_articles(principal, dataset, run_id=run["id"]) if run["status"] == "succeeded" else []
    findings: list = []
    markdown = local_run_report(run, dataset, articles, findings)
    created = run["created_at"] if run["created_at"].tzinfo else run["created_at"].replace(tzinfo=UTC)
    inputs = {"run_id": run["id"], "recipe_hash": run.get("recipe_hash"), "counts": run.get("counts") or {},
              "analysis_ids": [a["id"] for a in articles]}
    return store_output(principal, owned, "run", created, created, f"Run report: run {run['id']} of {dataset}",
                        markdown, findings, inputs, use_openai=use_openai, generator=GENERATOR_RUN)


def generate_output(principal: Principal | None, params: dict,
                    progress: Callable[[float, str], None] | None = None,
                    check_cancelled: Callable[[], None] | None = None) -> dict:
    """Run one workflow from job params: {workflow, dataset, end?, topic?, run_id?, use_openai?, analyse_first?}.

    `analyse_first` re-analyses the dataset before writing (what a schedule wants: new articles arrive
    between runs); its progress is the first 80 % of the bar.
    """
    workflow = params.get("workflow") or "daily"
    if workflow not in WORKFLOWS:
        raise ValueError(f"Unknown workflow {workflow!r}; choose one of {', '.join(WORKFLOWS)}.")
    use_openai = bool(params.get("use_openai", True))
    run_id = int(params["run_id"]) if params.get("run_id") else None
    analysis = None
    if params.get("analyse_first") and params.get("dataset"):
        from core.apps.news.service import analyze_dataset  # noqa: PLC0415 - only for scheduled runs

        analysis = analyze_dataset(principal, params["dataset"], use_openai=use_openai,
                                   progress=(lambda f, m: progress(0.8 * f, m)) if progress else None,
                                   check_cancelled=check_cancelled)
    if progress:
        progress(0.85, f"Writing the {WORKFLOWS[workflow].lower()}")
    if workflow in ("daily", "weekly"):
        end = date.fromisoformat(params["end"]) if params.get("end") else None
        made = generate_digest(principal, params["dataset"], workflow, end, use_openai=use_openai, run_id=run_id)
    elif workflow == "topic":
        made = topic_brief(principal, params["dataset"], params.get("topic") or "", run_id=run_id,
                           use_openai=use_openai)
    else:
        if not run_id:
            raise ValueError("A run report needs a refinement run.")
        made = run_report(principal, run_id, use_openai=use_openai)
    if progress:
        progress(1.0, f"{WORKFLOWS[workflow]} {made['id']} written by {made['generator']}")
    return {"output_id": made["id"], "workflow": workflow, "title": made["title"], "generator": made["generator"],
            "pii_findings": made["pii_findings"], **({"analysed": analysis["analysed"]} if analysis else {})}
