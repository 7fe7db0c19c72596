"""The news app's entry points: analyse a dataset (as a job), list and open analysed articles.

Every function takes the acting principal first and checks it with core.tenancy (a supplier acts on their
own datasets, an admin on all). Outputs go to two places:
- MongoDB, beside the raw article: collection `nlp` in the database of the item's application
  (`dbw_news.nlp` for scraped news, `dbw_uploads.nlp` for uploads), `_id` = the raw document's id. A
  separate collection rather than fields on the raw document because raw documents are the original
  record (content-hashed, insert-only, unique on source and hash); analyses are derived, versioned by
  generator, and replaced on re-analysis, which here is a bulk delete + insert_many (per-document upserts
  are slow on the embedded server).
- SQL (`NewsAnalysis`): the figures people filter and report on (topic, tone, dates, indicator rates).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time

from sqlmodel import delete, select

from core.apps.news import bias as bias_mod
from core.apps.news import sentiment as sentiment_mod
from core.apps.news.language import detect_language
from core.apps.news.openai_summaries import CostMeter, OpenAIConfig, summary_for
from core.apps.news.sentences import split_sentences
from core.apps.news.topics import classify_topics
from core.auth import Principal
from core.store.models import Dataset, Item, NewsAnalysis, Prediction, RefinementRecord
from core.store.raw import get_raw_store
from core.store.sql import session_scope
from core.tenancy import (
    NotFoundOrDenied,
    dataset_for,
    require_supplier,
    row_of_owned_dataset,
    run_for,
    sees_everything,
    visible_dataset_ids,
)

NLP_COLLECTION = "nlp"
ANALYZER_VERSION = "news-analyze-v1"
DATE_KEYS = ("published", "published_at", "date_published", "datePublished", "date", "pubDate")
TONES = ("positive", "neutral", "negative", "unknown")


def analyze_text(text: str, title: str | None = None, language: str | None = None, *,
                 config: OpenAIConfig | None = None, meter: CostMeter | None = None,
                 n_sentences: int | None = None) -> dict:
    """Summary, sentiment and bias indicators of one article (no stores, no principal: pure function)."""
    full = f"{title}\n\n{text}" if title and not text.startswith(title) else text
    language = language or detect_language(full)
    summary = summary_for(full, n_sentences, language, config=config, meter=meter)
    sentences = split_sentences(text)
    feeling = sentiment_mod.sentiment(text, language, sentences)
    scores = {}
    if feeling["method"] == "vader":
        scores = {s: sentiment_mod._vader_sentence(s)[0] for s in sentences}
    indicators = bias_mod.bias_indicators(text, language, sentences, scores)
    return {"language": language, "summary": summary.as_dict(), "summary_text": summary.text,
            "sentiment": feeling, "bias": indicators}


def analyze_dataset(principal: Principal | None, dataset: str, *, model_name: str | None = None,
                    use_openai: bool = True, job_id: int | None = None,
                    progress: Callable[[float, str], None] | None = None,
                    check_cancelled: Callable[[], None] | None = None) -> dict:
    """Analyse every text item of `dataset`; store the results in MongoDB and SQL. Returns counts."""
    owned = dataset_for(principal, dataset, "analyse news in this dataset")
    with session_scope() as session:
        items = [i.model_dump() for i in session.exec(select(Item).where(Item.dataset_id == owned["id"],
                                                                       Item.data_type == "text"))]
    config = OpenAIConfig.from_env() if use_openai else None
    meter = CostMeter(config.cost_cap_usd) if config else None
    results, fallbacks = [], 0
    for number, item in enumerate(items, 1):
        if check_cancelled and number % 20 == 0:
            check_cancelled()
        analysis = analyze_text(item["text"] or "", item.get("title"), config=config, meter=meter)
        fallbacks += bool(analysis["summary"].get("meta", {}).get("fallback_reason"))
        results.append((item, analysis))
        if progress:
            progress(0.9 * number / max(1, len(items)), f"Analysed {number} of {len(items)} articles")
    texts = [f"{i.get('title') or ''}\n{i['text'] or ''}" for i, _ in results]
    topics, topic_info = classify_topics(principal, texts, [a["language"] for _, a in results], model_name)
    now = datetime.now(UTC)
    _store_mongo(owned, results, topics, now)
    _store_sql(owned, results, topics, principal, job_id, now)
    if progress:
        progress(1.0, f"Analysed {len(results)} articles")
    return {"dataset": dataset, "analysed": len(results), "topics": sorted(set(topics)),
            "topic_method": topic_info["method"], "openai": meter.as_dict() if meter else None,
            "summary_fallbacks": fallbacks, **({"topic_fallback": topic_info["fallback_reason"]}
                                               if "fallback_reason" in topic_info else {})}


def _published(item: dict) -> datetime | None:
    fields = item.get("fields") or {}
    for key in DATE_KEYS:
        value = fields.get(key)
        if isinstance(value, str) and value:
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    created = item.get("created_at")
    return created if isinstance(created, datetime) else None


def _store_mongo(dataset: dict, results: list, topics: list[str], now: datetime) -> None:
    store = get_raw_store()
    by_app: dict[str, list[dict]] = {}
    for (item, analysis), topic in zip(results, topics, strict=True):
        by_app.setdefault(item["source_app"], []).append({
            "_id": item["raw_id"], "raw_id": item["raw_id"], "dataset_id": dataset["id"], "item_id": item["id"],
            "source_id": item["source_id"], "language": analysis["language"], "summary": analysis["summary"],
            "sentiment": analysis["sentiment"], "bias": analysis["bias"], "topic": topic,
            "analyzer": ANALYZER_VERSION, "analyzed_at": now})
    for app, documents in by_app.items():
        collection = store.database(app)[NLP_COLLECTION]
        collection.delete_many({"_id": {"$in": [d["_id"] for d in documents]}})
        collection.insert_many(documents, ordered=False)


def _store_sql(dataset: dict, results: list, topics: list[str], principal: Principal, job_id: int | None,
               now: datetime) -> None:
    rows = []
    for (item, analysis), topic in zip(results, topics, strict=True):
        indicators, feeling = analysis["bias"], analysis["sentiment"]
        rows.append(NewsAnalysis(
            dataset_id=dataset["id"], item_id=item["id"], raw_id=item["raw_id"], source_app=item["source_app"],
            source_id=item["source_id"], url=item.get("url"), title=(item.get("title") or "")[:1000] or None,
            language=analysis["language"], published_at=_published(item), summary=analysis["summary_text"],
            summary_method=analysis["summary"]["method"][:100], topic=topic[:300], tone=feeling["tone"],
            sentiment=feeling["compound"], subjectivity_rate=indicators["subjectivity_rate"],
            loaded_per_100_words=indicators["loaded_per_100_words"], hedging_rate=indicators["hedging_rate"],
            quote_share=indicators["quote_share"], source_count=indicators["source_count"],
            one_sided=indicators["one_sided"], job_id=job_id, created_by=principal.id, created_at=now))
    with session_scope() as session:
        session.exec(delete(NewsAnalysis).where(NewsAnalysis.item_id.in_([item["id"] for item, _ in results])))
        session.add_all(rows)


# -- reads ----------------------------------------------------------------------------------------
def news_datasets(principal: Principal | None) -> list[dict]:
    """Datasets the principal may analyse, with how many articles of each are analysed."""
    require_supplier(principal, "see news datasets")
    ids = visible_dataset_ids(principal)
    with session_scope() as session:
        query = select(Dataset).order_by(Dataset.name)
        if ids is not None:
            query = query.where(Dataset.id.in_(ids))
        datasets = [d.model_dump() for d in session.exec(query)]
        counts: dict[int, int] = {}
        for dataset_id in session.exec(select(NewsAnalysis.dataset_id)):
            counts[dataset_id] = counts.get(dataset_id, 0) + 1
    return [{"id": d["id"], "name": d["name"], "app": d["app"], "analysed": counts.get(d["id"], 0)}
            for d in datasets]


def analysed_articles(principal: Principal | None, dataset: str | None = None, *, sources: list[str] | None = None,
                      languages: list[str] | None = None, topics: list[str] | None = None,
                      tones: list[str] | None = None, date_from: date | None = None, date_to: date | None = None,
                      run_id: int | None = None, limit: int = 1000) -> list[dict]:
    """Analysed articles the principal may see, filtered; newest first.

    `run_id` narrows to the items that refinement run kept (the run must be the principal's, and of
    `dataset` when both are given)."""
    require_supplier(principal, "see analysed news")
    query = select(NewsAnalysis)
    dataset_id = dataset_for(principal, dataset)["id"] if dataset else None
    if run_id is not None:
        run = run_for(principal, int(run_id), "see the articles of this run")
        if dataset_id is not None and run["dataset_id"] != dataset_id:
            raise NotFoundOrDenied(f"Run {run_id} is not a run of dataset {dataset!r}.")
        dataset_id = run["dataset_id"]
        kept = select(RefinementRecord.item_id).where(RefinementRecord.run_id == run["id"],
                                                      RefinementRecord.kept == True)  # noqa: E712 - SQL
        query = query.where(NewsAnalysis.item_id.in_(kept))
    if dataset_id is not None:
        query = query.where(NewsAnalysis.dataset_id == dataset_id)
    elif not sees_everything(principal):
        query = query.where(NewsAnalysis.dataset_id.in_(visible_dataset_ids(principal) or [-1]))
    for column, wanted in ((NewsAnalysis.source_id, sources), (NewsAnalysis.language, languages),
                           (NewsAnalysis.topic, topics), (NewsAnalysis.tone, tones)):
        if wanted:
            query = query.where(column.in_(wanted))
    if date_from:
        query = query.where(NewsAnalysis.published_at >= datetime.combine(date_from, time.min, UTC))
    if date_to:
        query = query.where(NewsAnalysis.published_at <= datetime.combine(date_to, time.max, UTC))
    query = query.order_by(NewsAnalysis.published_at.desc(), NewsAnalysis.id.desc()).limit(limit)
    with session_scope() as session:
        return [row.model_dump() for row in session.exec(query)]


def dataset_runs(principal: Principal | None, dataset: str) -> list[dict]:
    """Succeeded refinement runs of `dataset`, newest first: {run_id, kept, input, created_at, recipe_hash}."""
    owned = dataset_for(principal, dataset, "see the runs of this dataset")
    from core.refine.runs import list_runs  # noqa: PLC0415 - the refine package is heavy; only needed here

    runs = list_runs(principal, dataset_id=owned["id"])
    return [row for row in runs.to_dict(orient="records") if row["status"] == "succeeded"]


def article_detail(principal: Principal | None, analysis_id: int) -> dict:
    """One analysed article with its text and the evidence kept in MongoDB."""
    row = row_of_owned_dataset(principal, NewsAnalysis, analysis_id, "analysed article", "open analysed news")
    with session_scope() as session:
        item = session.get(Item, row["item_id"])
        detail = {**row, "text": item.text if item else "", "item_title": item.title if item else None}
    nlp = get_raw_store().database(detail["source_app"])[NLP_COLLECTION].find_one({"_id": detail["raw_id"]}) or {}
    nlp.pop("_id", None)
    detail["nlp"] = nlp
    detail["predictions"] = item_predictions(principal, [detail["item_id"]]).get(detail["item_id"], [])
    return detail


# -- ML Lab predictions of the articles ------------------------------------------------------------
def item_predictions(principal: Principal | None, item_ids: list[int]) -> dict[int, list[dict]]:
    """The latest prediction of every ML Lab model that scored these items (the principal's items only),
    by item id: [{model_name, model_version, prediction, probability, label}], newest first."""
    require_supplier(principal, "see model predictions")
    if not item_ids or not _any_predictions():
        return {}
    from ml.predict import read_predictions  # noqa: PLC0415 - ML is loaded only when predictions exist

    frame = read_predictions(principal, item_ids=[int(i) for i in item_ids])
    found: dict[int, list[dict]] = {}
    for row in frame.to_dict(orient="records"):
        probability = row["probability"] if row["probability"] == row["probability"] else None  # NaN -> None
        found.setdefault(int(row["item_id"]), []).append({
            "model_name": row["model_name"], "model_version": int(row["model_version"]),
            "prediction": row["prediction"], "probability": probability,
            "label": prediction_label(row["model_name"], row["model_version"], row["prediction"], probability)})
    return found


def prediction_label(model_name: str, version: int, prediction, probability: float | None) -> str:
    """`name v2: value (93%)`: one model's prediction as table text."""
    value = f"{prediction:.4g}" if isinstance(prediction, float) else str(prediction)
    return f"{model_name} v{version}: {value}" + (f" ({probability:.0%})" if probability is not None else "")


def with_predictions(principal: Principal | None, articles: list[dict]) -> list[dict]:
    """`articles` with a `model_prediction` text (every model that scored the article) when any has one."""
    found = item_predictions(principal, [a["item_id"] for a in articles])
    if not found:
        return articles
    return [{**a, "model_prediction": "; ".join(p["label"] for p in found.get(a["item_id"], []))}
            for a in articles]


def _any_predictions() -> bool:
    """Whether any item was scored at all: a cheap check that spares loading ml/ on a workbench without models."""
    with session_scope() as session:
        return session.exec(select(Prediction.id).limit(1)).first() is not None
