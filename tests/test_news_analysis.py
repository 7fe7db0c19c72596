"""News analysis: sentiment and bias evidence, topic labels, storage in MongoDB and SQL, ownership, digests."""

import uuid

import pytest
from principals import as_supplier, new_user
from refine_fixtures import ingest_texts

from core.apps.news.bias import bias_indicators
from core.apps.news.digest import generate_digest, list_digests, review_digest
from core.apps.news.sentiment import sentiment
from core.apps.news.service import NLP_COLLECTION, analysed_articles, analyze_dataset, article_detail
from core.apps.news.textstats import label_stop_words
from core.apps.news.topics import classify_topics, topic_groups
from core.auth import PermissionDenied
from core.sources.demo_web.news import NewsSite
from core.store import jobs


def test_sentiment_shows_the_sentences_and_words_behind_the_tone():
    result = sentiment("The launch was a terrible failure. Investors lost money. The team was sad.", "en")
    assert result["tone"] == "negative" and result["method"] == "vader"
    assert result["negative"][0]["words"] and result["negative"][0]["sentence"] in (
        "The launch was a terrible failure.", "The team was sad.", "Investors lost money.")
    german = sentiment("Die Krise ist schlecht. Der Verlust ist groß.", "de")
    assert german["tone"] == "negative" and german["method"] == "lexicon-small-de" and german["confidence"] == "low"
    assert sentiment("Ceci est un texte.", "ja")["tone"] == "unknown"


def test_bias_indicators_carry_their_evidence():
    text = ('The minister slammed the plan as a disaster, said John Smith. "It is outrageous," Smith said. '
            "The plan may reportedly cost more. Smith added that critics clearly disagree.")
    found = bias_indicators(text, "en")
    assert found["loaded_words"] == {"slammed": 1, "disaster": 1, "outrageous": 1}
    assert found["hedged_sentences"][0]["words"] == ["may", "reportedly"]
    assert any("clearly" in ev["words"] for ev in found["subjective_sentences"])
    assert found["sources"][0]["name"] == "John Smith" and found["one_sided"] is True
    balanced = bias_indicators("Anna Berg said prices rise. Tom Lee said prices fall.", "en")
    assert balanced["source_count"] == 2 and balanced["quote_evenness"] == 1.0 and not balanced["one_sided"]


def _demo_articles(language: str) -> list[str]:
    site = NewsSite(7, 2.0)
    return [a.title + "\n\n" + "\n\n".join(a.paragraphs) for a in site.articles()
            if a.language == language and a.variant == "normal"]


@pytest.mark.parametrize("language", ["en", "de"])
def test_topic_labels_are_content_words_of_the_language(language):
    texts = _demo_articles(language)
    labels, terms = topic_groups(texts, [language] * len(texts))
    assert len(labels) == len(texts) and all(label.startswith(f"{language}: ") for label in labels)
    stops = label_stop_words(language)
    for words in terms.values():
        assert words and not stops.intersection(words)
    if language == "de":
        assert {"hat", "zum", "der", "und", "ist"}.isdisjoint(w for ws in terms.values() for w in ws)


def test_topic_hook_falls_back_when_the_model_is_not_usable(workbench):
    labels, info = classify_topics(as_supplier(), ["A text about trams.", "Another one."], ["en", "en"],
                                   model_name="no-such-model")
    assert info["method"] == "unsupervised-kmeans" and "no-such-model" in info["fallback_reason"]


@pytest.fixture(scope="module")
def analysed(workbench):
    name = f"news-{uuid.uuid4().hex[:8]}"
    texts = _demo_articles("en")[:6] + _demo_articles("de")[:4]
    texts.append("Readers can write to jane.doe@example.org with news about the city tram network.")
    ingest_texts(name, texts)
    outcome = jobs.run_foreground("news_analyze", {"dataset": name}, as_supplier(), echo=None)
    return name, outcome


def test_analyze_job_stores_outputs_in_mongo_and_sql(analysed, raw_store):
    name, outcome = analysed
    assert outcome["status"] == "succeeded", outcome["error"]
    assert outcome["result"]["analysed"] == 11
    rows = analysed_articles(as_supplier(), name)
    assert len(rows) == 11 and {r["language"] for r in rows} == {"en", "de"}
    assert all(r["summary"] and r["topic"] and r["tone"] in ("positive", "neutral", "negative") for r in rows)
    detail = article_detail(as_supplier(), rows[0]["id"])
    assert detail["nlp"]["summary"]["sentences"] and "bias" in detail["nlp"]
    stored = raw_store.database(detail["source_app"])[NLP_COLLECTION].find_one({"_id": detail["raw_id"]})
    assert stored["item_id"] == detail["item_id"] and stored["analyzer"] == "news-analyze-v1"
    german = analysed_articles(as_supplier(), name, languages=["de"])
    assert len(german) == 4 and all(r["topic"].startswith("de: ") for r in german)


def test_another_supplier_is_refused(analysed):
    name, _ = analysed
    stranger = new_user("supplier")
    with pytest.raises(PermissionDenied):
        analyze_dataset(stranger, name)
    with pytest.raises(PermissionDenied):
        analysed_articles(stranger, name)
    row = analysed_articles(as_supplier(), name)[0]
    with pytest.raises(PermissionDenied):
        article_detail(stranger, row["id"])
    assert analysed_articles(stranger) == []
    with pytest.raises(PermissionDenied):
        generate_digest(stranger, name)


def test_digest_is_pii_checked_stored_and_reviewable(analysed):
    name, _ = analysed
    rows = analysed_articles(as_supplier(), name)
    end = max(r["published_at"] for r in rows).date()
    digest = generate_digest(as_supplier(), name, "weekly", end)
    assert digest["generator"] == "digest-template-v1" and digest["status"] == "draft"
    assert digest["markdown"].startswith("# Weekly digest")
    assert "jane.doe@example.org" not in digest["markdown"]
    assert digest["pii_findings"] >= 1
    assert len(digest["inputs"]["analysis_ids"]) == 11
    assert review_digest(as_supplier(), digest["id"], "approved")["status"] == "approved"
    assert list_digests(as_supplier(), name)[0]["id"] == digest["id"]
