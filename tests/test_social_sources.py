"""Social sources (issue 19): public posts from the demo Mastodon and Bluesky servers on 127.0.0.1."""

from __future__ import annotations

import uuid

import pytest
from apptest_helpers import assert_no_exception, button, page_app
from principals import as_supplier, new_user
from sqlmodel import select

from core.auth import PermissionDenied
from core.config import reset_settings_cache
from core.sources.allowlist import runtime_endpoints
from core.sources.demo_web.social import BLUESKY_PAGE_MOST, DemoSocial
from core.sources.fetch import FetchPolicy
from core.sources.registry import SourceError, list_sources, save_source
from core.sources.social_collect import collect_posts
from core.store import jobs
from core.store.models import Item
from core.store.sql import session_scope

FAULTS = {
    "mastodon:/api/v1/timelines/tag/transit": "error:503",
    "mastodon:/api/v1/timelines/tag/opendata": "rate-limited:1:1",
    "mastodon:/api/v1/timelines/tag/citylife": "rate-limited:9:600",
}


@pytest.fixture(scope="module")
def social():
    with DemoSocial.start(seed=7, faults=FAULTS) as servers:
        yield servers


@pytest.fixture
def one_retry(monkeypatch):
    """One retry instead of three, so a server that keeps failing is given up on in about a second."""
    monkeypatch.setenv("SCRAPER_RETRIES", "1")
    reset_settings_cache()
    yield
    monkeypatch.delenv("SCRAPER_RETRIES")
    reset_settings_cache()


def _source(owner, social, **config) -> tuple[str, str]:
    name, dataset = f"social {uuid.uuid4().hex[:8]}", f"social-{uuid.uuid4().hex[:8]}"
    server = social.mastodon_url if config["platform"] == "mastodon" else social.bluesky_url
    save_source(owner, name, "social", "social", {"server": server, "dataset": dataset, "per_host_delay_s": 0,
                                                  **config})
    return name, dataset


def _scrape(owner, name: str) -> dict:
    outcome = jobs.run_foreground("scrape", {"sources": [name]}, owner, echo=None)
    assert outcome["status"] == "succeeded", outcome["error"]
    return outcome["result"]["sources"][name] | {"job_id": outcome["job_id"]}


def _items(name: str) -> list[Item]:
    with session_scope() as session:
        return list(session.exec(select(Item).where(Item.source_id == name)))


def _requests(social, host: str, path: str) -> list:
    return [record for record in social.requests(host) if record.path.startswith(path)]


def _policy(**overrides) -> FetchPolicy:
    return FetchPolicy(per_host_delay_s=0, allowed_endpoints=runtime_endpoints(), **overrides)


def test_mastodon_public_timeline_pages_stores_provenance_and_then_only_new_posts(workbench, raw_store, social):
    owner = new_user("supplier")
    name, _ = _source(owner, social, platform="mastodon", timeline="public")
    originals = [post for post in social.corpus.posts() if post.repost_of is None]  # public timelines: no reblogs
    first = _scrape(owner, name)
    assert (first["stored_new"], first["items"], first["errors"]) == (len(originals), len(originals), 0)
    assert first["pages"] == 3  # 40 + the rest, then an empty page: paging by the Link header's max_id
    asked = _requests(social, "mastodon", "/api/v1/timelines/public")[-3:]
    assert "max_id=" not in asked[0].path and all("max_id=" in record.path for record in asked[1:])

    docs = raw_store.find("social", {"source_id": name}, limit=500)
    assert len(docs) == len(originals)
    for doc in docs:
        meta = doc["metadata"]
        assert meta["platform"] == "mastodon" and meta["kind"] == "social_post" and doc["fetched_at"]
        assert doc["url"].startswith(f"{social.mastodon_url}/@{meta['author'][1:].split('@')[0]}/")
        assert meta["author"].endswith("@" + social.mastodon_url.split("//")[1])
        assert "author keeps the copyright" in meta["terms"] and meta["api_url"].startswith(social.mastodon_url)
    items = _items(name)
    assert {item.data_type for item in items} == {"text"} and len(items) == len(originals)
    assert not any("<p>" in item.text or "<a " in item.text for item in items)
    hostile = [item for item in items if "tracker.example" in raw_store.get("social", item.raw_id)["raw_content"]]
    assert hostile and all("cookie" not in item.text and "display:none" not in item.text for item in hostile)
    assert any("#citylife" in item.text for item in items)  # hashtag links read as written

    again = _scrape(owner, name)
    assert (again["stored_new"], again["already_present"], again["pages"]) == (0, 0, 1)
    assert "since_id=" in _requests(social, "mastodon", "/api/v1/timelines/public")[-1].path
    social.corpus.publish("A brand new post about the night trams #citylife", handle="claire", language="en")
    third = _scrape(owner, name)
    assert (third["stored_new"], third["items"]) == (1, 1)
    assert any(item.text.startswith("A brand new post about the night trams") for item in _items(name))


def test_bluesky_search_pages_by_cursor_and_author_feed_keeps_reposts(workbench, raw_store, social):
    owner = new_user("supplier")
    search, _ = _source(owner, social, platform="bluesky", timeline="search", target="#transit")
    matching = [post for post in social.corpus.posts() if post.repost_of is None and "transit" in post.tags]
    first = _scrape(owner, search)
    assert first["stored_new"] == len(matching) > BLUESKY_PAGE_MOST
    assert first["pages"] == -(-len(matching) // BLUESKY_PAGE_MOST)
    assert any("cursor=" in record.path for record in _requests(social, "bluesky", "/xrpc/app.bsky.feed.searchPosts"))
    doc = raw_store.find("social", {"source_id": search}, limit=1)[0]
    assert doc["url"].startswith("https://bsky.app/profile/") and doc["metadata"]["platform"] == "bluesky"
    assert doc["metadata"]["author"].endswith(".bsky.social") and "Bluesky's terms" in doc["metadata"]["terms"]

    author, _ = _source(owner, social, platform="bluesky", timeline="author", target="diego.bsky.social")
    feed = _scrape(owner, author)
    diego = [post for post in social.corpus.posts() if post.handle == "diego"]
    assert feed["stored_new"] == len(diego)
    reposts = [d for d in raw_store.find("social", {"source_id": author}, limit=100)
               if d["metadata"]["extracted"].get("repost_of")]
    assert len(reposts) == sum(post.repost_of is not None for post in diego) > 0
    assert all("#repost-by-diego.bsky.social" in d["url"] for d in reposts)

    assert (_scrape(owner, search)["stored_new"], _scrape(owner, author)["stored_new"]) == (0, 0)
    social.corpus.publish("Neue Fahrpläne für die Straßenbahn ab Montag #transit", handle="diego", tags=("transit",),
                          language="de")
    assert (_scrape(owner, search)["stored_new"], _scrape(owner, author)["stored_new"]) == (1, 1)


def test_refinement_reads_languages_personal_data_and_duplicates_of_posts(workbench, social):
    from core.refine.service import dataset_signals

    owner = new_user("supplier")
    name, dataset = _source(owner, social, platform="mastodon", timeline="public")
    _scrape(owner, name)
    items, signals = dataset_signals(owner, dataset)
    assert len(items) > 40
    assert {"en", "de", "fr", "es", "it", "nl"} <= set(signals["language"])
    assert (signals["pii_count"] > 0).sum() >= 3  # e-mail addresses and phone numbers in some posts
    copies = signals["duplicate_cluster"].value_counts()
    assert (copies > 1).any()  # the same words posted by two accounts


def test_bad_answers_are_reported_plainly_and_good_posts_kept(workbench, raw_store, social, one_retry):
    owner = new_user("supplier")
    name, _ = _source(owner, social, platform="mastodon", timeline="hashtag", target="transit")
    failed = _scrape(owner, name)
    assert (failed["stored_new"], failed["errors"]) == (0, 1)
    log = jobs.get_job(owner, failed["job_id"])["log"]
    assert "HTTP 503 after 2 attempts" in log and "try again later" in log

    malformed, _ = _source(owner, social, platform="mastodon", timeline="hashtag", target="#malformed")
    result = _scrape(owner, malformed)
    assert (result["stored_new"], result["errors"]) == (2, 4)
    log = jobs.get_job(owner, result["job_id"])["log"]
    assert "malformed post #3 skipped: 'id' is missing" in log and "not a JSON object (got str)" in log

    not_json = {"source_id": "t", "platform": "mastodon", "server": social.mastodon_url, "timeline": "hashtag",
                "target": "notjson"}
    report = collect_posts(not_json, _policy(), lambda docs: None, {})
    assert report.documents == 0 and "the answer is not JSON (text/html" in report.errors[0].reason
    bluesky_broken = {"source_id": "t", "platform": "bluesky", "server": social.bluesky_url, "timeline": "search",
                      "target": "malformed"}
    report = collect_posts(bluesky_broken, _policy(), lambda docs: None, {})
    assert report.documents == 2 and report.malformed == 3


def test_rate_limits_are_waited_out_or_reported(workbench, social):
    stored, state = [], {}
    waited = {"source_id": "t", "platform": "mastodon", "server": social.mastodon_url, "timeline": "hashtag",
              "target": "opendata"}
    report = collect_posts(waited, _policy(), stored.extend, state)
    assert report.complete and not report.errors and report.documents == len(stored) > 0
    first, second = _requests(social, "mastodon", "/api/v1/timelines/tag/opendata")[:2]
    assert second.at - first.at >= 0.9  # the 429's Retry-After: 1 was honoured before the retry
    assert state["since_id"]  # a complete run remembers where it stopped

    too_long = {**waited, "target": "citylife"}
    state = {}
    report = collect_posts(too_long, _policy(), stored.extend, state)
    assert not report.complete and "retry after 600s" in report.errors[0].reason
    assert state == {}  # an unfinished run does not move the position on


def test_private_addresses_stay_refused_and_configs_are_checked(workbench):
    closed = {"source_id": "t", "platform": "mastodon", "server": "http://127.0.0.1:9", "timeline": "public"}
    report = collect_posts(closed, FetchPolicy(per_host_delay_s=0), lambda docs: None, {})
    assert report.documents == 0 and report.errors[0].reason.startswith("refused")
    owner = as_supplier()
    for config, words in [
        ({"platform": "myspace", "timeline": "public"}, "platform must be one of mastodon, bluesky"),
        ({"platform": "mastodon", "timeline": "search"}, "timeline of a mastodon source must be one of"),
        ({"platform": "mastodon", "timeline": "hashtag", "target": "two words"}, "is not a hashtag"),
        ({"platform": "bluesky", "timeline": "author", "target": "no handle"}, "is not a handle or DID"),
        ({"platform": "mastodon", "timeline": "public", "server": "https://x.example/api"}, "only scheme and host"),
        ({"platform": "mastodon", "timeline": "public", "allow_private_hosts": True}, "cannot be set"),
        ({"platform": "mastodon", "timeline": "public", "max_posts": 0}, "max_posts must be"),
        ({"platform": "mastodon", "timeline": "public", "urls": ["https://x"]}, "unknown setting(s) urls"),
    ]:
        with pytest.raises(SourceError, match=words.replace("(", r"\(").replace(")", r"\)")):
            save_source(owner, f"bad {uuid.uuid4().hex[:8]}", "social", "social", config)
    with pytest.raises(SourceError, match="Only an admin"):
        save_source(owner, f"bad {uuid.uuid4().hex[:8]}", "social", "social",
                    {"platform": "mastodon", "timeline": "public"}, robots_override=True)


def test_another_supplier_can_neither_see_nor_run_nor_take_over_a_social_source(workbench, social):
    owner, other = new_user("supplier"), new_user("supplier")
    name, _ = _source(owner, social, platform="bluesky", timeline="author", target="ana.bsky.social")
    assert name in {s["name"] for s in list_sources(owner)}
    assert name not in {s["name"] for s in list_sources(other)}
    refused = jobs.run_foreground("scrape", {"sources": [name]}, other, echo=None)
    assert refused["status"] == "failed" and name in refused["error"]
    with pytest.raises(PermissionDenied):
        save_source(other, name, "social", "social", {"platform": "mastodon", "timeline": "public"})
    assert _items(name) == []


def test_demo_social_job_collects_all_four_demo_sources(workbench, raw_store):
    outcome = jobs.run_foreground("scrape", {"demo_social": True}, as_supplier(), echo=None)
    assert outcome["status"] == "succeeded", outcome["error"]
    sources = outcome["result"]["sources"]
    assert set(sources) == {"demo-mastodon-public", "demo-mastodon-ana", "demo-bluesky-opendata", "demo-bluesky-diego"}
    assert all(counts["errors"] == 0 for counts in sources.values())
    assert raw_store.find("social", {"source_id": "demo-bluesky-opendata"}, limit=1)


def test_the_source_form_shows_only_the_social_fields_for_a_social_source(workbench):
    at = page_app("sources.py", role="supplier")
    at.selectbox(key="src_kind").select("social").run()
    assert_no_exception(at)
    form = [w for w in [*at.text_input, *at.text_area, *at.selectbox, *at.number_input]
            if not (w.key or "").startswith("src_bucket")]  # the bucket form below has its own "Application"
    labels = {w.label for w in form}
    assert {"Platform", "API server", "Timeline", "Hashtag", "Max posts per run"} <= labels
    assert not labels & {"Start URLs (one per line)", "Max pages", "Application", "Licence of the content (SPDX)",
                         "Next-page selector", "Items path", "Detail-link selector"}
    at.selectbox(key="src_social_platform").select("bluesky").run()
    assert at.selectbox(key="src_social_timeline_bluesky").options == ["search", "author"]
    assert "Search words (or #hashtag)" in {w.label for w in at.text_input}
    at.selectbox(key="src_social_timeline_bluesky").select("author").run()
    name = f"bsky {uuid.uuid4().hex[:8]}"
    at.text_input(key="src_name").input(name)
    at.text_input(key="src_social_target_author").input("bsky.app").run()
    button(at, "Save source").click().run()
    assert_no_exception(at)
    assert any(f"Saved source '{name}'" in s.value for s in at.success)
    saved = next(s for s in list_sources(as_supplier()) if s["name"] == name)
    assert (saved["app"], saved["kind"]) == ("social", "social")
    assert saved["config"] | {} == {"platform": "bluesky", "server": "https://public.api.bsky.app",
                                    "timeline": "author", "target": "bsky.app", "max_posts": 200, "local": False}
