"""Daily and weekly news digests from analysed articles: Markdown, stored with inputs, reviewable.

Locally a template fills in the figures (articles, tone mix, topics) and, per topic, each article's
extractive summary lead; with OPENAI_API_KEY set the model rewrites that draft into prose (the draft is
the only input it sees, so it cannot invent articles), and any failure keeps the local draft. Every digest
passes the refinery's PII check before it is stored: findings are redacted and counted. Scraped titles
and summaries are Markdown-escaped, so a digest shown with st.markdown cannot carry links or images
that the articles planted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import select

from core.apps.news.openai_summaries import CostMeter, OpenAIConfig, OpenAIUnavailable, chat
from core.apps.news.service import analysed_articles
from core.auth import Principal
from core.refine.signals.pii import find_pii, redact_pii
from core.store.models import NewsDigest
from core.store.sql import session_scope
from core.tenancy import dataset_for, row_of_owned_dataset
from core.text_safety import markdown_without_remote_images

GENERATOR_LOCAL = "digest-template-v1"
PERIODS = {"daily": 1, "weekly": 7}
MAX_PER_TOPIC = 5
_MARKDOWN_SPECIALS = "\\`*_{}[]()<>#+-.!|~"


def escape_markdown(text: str) -> str:
    """Text shown literally by st.markdown: every Markdown control character backslash-escaped."""
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIALS else ch for ch in (text or "").replace("\n", " "))


def period_bounds(period: str, end: date) -> tuple[datetime, datetime]:
    if period not in PERIODS:
        raise ValueError(f"Unknown period {period!r}; choose daily or weekly.")
    last = datetime.combine(end, time.max, UTC)
    first = datetime.combine(end - timedelta(days=PERIODS[period] - 1), time.min, UTC)
    return first, last


def _safe_piece(text: str, findings: list) -> str:
    """Scraped text for the digest: PII redacted first (escaping would hide "a@b.org" from the check), then
    Markdown-escaped."""
    found = find_pii(text or "")
    findings.extend(found)
    return escape_markdown(redact_pii(text, found) if found else text)


def local_digest(articles: list[dict], title: str, findings: list | None = None) -> str:
    findings = [] if findings is None else findings
    tones = Counter(a["tone"] for a in articles)
    by_topic: dict[str, list[dict]] = defaultdict(list)
    for article in articles:
        by_topic[article["topic"] or "(no topic)"].append(article)
    lines = [f"# {escape_markdown(title)}", "",
             f"{len(articles)} articles · tone: " + ", ".join(f"{tones[t]} {t}" for t in
                                                                ("positive", "neutral", "negative", "unknown")
                                                                if tones[t]), ""]
    for topic, members in sorted(by_topic.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lines += [f"## {escape_markdown(topic)} ({len(members)})", ""]
        # the same story from two feeds of one site (RSS and sitemap) is listed once
        unique = list({(a.get("title"), (a["summary"] or "").split("\n")[0]): a for a in members}.values())
        for article in sorted(unique, key=lambda a: -(a.get("sentiment") or 0) if a["tone"] == "positive"
                              else (a.get("sentiment") or 0))[:MAX_PER_TOPIC]:
            lead = (article["summary"] or "").split("\n")[0]
            name = _safe_piece(article.get("title") or "(untitled)", findings)
            lines.append(f"- **{name}** ({article['tone']}, {escape_markdown(article['source_id'])}): "
                         f"{_safe_piece(lead, findings)}")
        lines.append("")
    if not articles:
        lines.append("No analysed articles in this period.")
    return "\n".join(lines).rstrip() + "\n"


def generate_digest(principal: Principal | None, dataset: str, period: str = "daily", end: date | None = None,
                    use_openai: bool = True, run_id: int | None = None) -> dict:
    """Write, PII-check and store a digest of `dataset`'s analysed articles for the period ending `end`
    (only the items a refinement run kept when `run_id` is given)."""
    owned = dataset_for(principal, dataset, "write digests of this dataset")
    end = end or datetime.now(UTC).date()
    first, last = period_bounds(period, end)
    articles = analysed_articles(principal, dataset, date_from=first.date(), date_to=last.date(), run_id=run_id)
    title = f"{period.capitalize()} digest: {dataset}, {first:%Y-%m-%d}" + ("" if period == "daily" else
                                                                           f" to {last:%Y-%m-%d}")
    findings: list = []
    markdown = local_digest(articles, title, findings)
    inputs = {"analysis_ids": [a["id"] for a in articles], "period": period, "end": end.isoformat(),
              **({"run_id": run_id} if run_id else {})}
    return store_output(principal, owned, period, first, last, title, markdown, findings, inputs,
                        use_openai=use_openai and bool(articles), generator=GENERATOR_LOCAL)


REWRITE_INSTRUCTION = ("You edit news digests and briefs. Rewrite the Markdown draft below into concise prose in "
                       "the same Markdown structure. Use only facts in the draft.")


def store_output(principal: Principal, owned: dict, workflow: str, first: datetime, last: datetime, title: str,
                 markdown: str, findings: list, inputs: dict, *, use_openai: bool, generator: str) -> dict:
    """The last step of every content workflow: optional OpenAI rewrite of the local draft, the PII check
    over the final text, and the stored row (inputs, generator, status draft). `owned` is a dataset the
    caller has already checked with `dataset_for`."""
    inputs = dict(inputs)
    config = OpenAIConfig.from_env() if use_openai else None
    if config:
        meter = CostMeter(config.cost_cap_usd)
        try:
            written = chat(config, meter, REWRITE_INSTRUCTION, markdown)
            markdown = markdown_without_remote_images(written)
            generator = f"openai:{config.model}"
        except OpenAIUnavailable as exc:
            inputs["fallback_reason"] = str(exc)
        inputs["openai"] = meter.as_dict()
    late = find_pii(markdown)  # what a model wrote, or anything the pieces' check missed
    if late:
        markdown = redact_pii(markdown, late)
    findings = [*findings, *late]
    with session_scope() as session:
        row = NewsDigest(dataset_id=owned["id"], period=workflow, period_start=first, period_end=last,
                         title=title[:300], markdown=markdown, generator=generator, inputs=inputs,
                         pii_findings=len(findings), created_by=principal.id)
        session.add(row)
        session.flush()
        return row.model_dump()


def digest_for(principal: Principal | None, digest_id: int) -> dict:
    return row_of_owned_dataset(principal, NewsDigest, digest_id, "digest", "read digests")


def list_digests(principal: Principal | None, dataset: str, workflow: str | None = None) -> list[dict]:
    """Generated outputs (digests, topic briefs, run reports) of `dataset`, newest first."""
    owned = dataset_for(principal, dataset, "read digests")
    with session_scope() as session:
        query = select(NewsDigest).where(NewsDigest.dataset_id == owned["id"]).order_by(NewsDigest.id.desc())
        if workflow:
            query = query.where(NewsDigest.period == workflow)
        rows = session.exec(query)
        return [row.model_dump() for row in rows]


def review_digest(principal: Principal | None, digest_id: int, decision: str) -> dict:
    if decision not in ("approved", "rejected"):
        raise ValueError("A review is 'approved' or 'rejected'.")
    digest_for(principal, digest_id)  # ownership
    with session_scope() as session:
        row = session.get(NewsDigest, digest_id)
        row.status = decision
        session.add(row)
        session.flush()
        return row.model_dump()
