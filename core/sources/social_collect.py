"""Collect one social source: page through its timeline politely and hand posts to a sink as raw documents.

    report = collect_social_source(config, FetchPolicy(), sink, state_key="12")

Every request goes through PoliteFetcher (robots.txt, per-host delay, retries with Retry-After, time and
size limits, private addresses refused unless allow-listed). Each page's posts reach the sink as soon as
the page is read. Where the last complete run stopped (Mastodon since_id, Bluesky newest time) is kept
per source, so a rerun asks only for newer posts; a run that ended on an error keeps the old position,
and the next run fetches the gap again (stored posts are recognised by their content hash).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.sources.crawl_pages import CrawlError
from core.sources.fetch import FetchPolicy, FetchResult, PoliteFetcher
from core.sources.social_config import TERMS, check_social_config
from core.sources.social_platforms import Post, SocialFetchError, timeline_reader
from core.store import lake
from core.store.raw import content_hash

_EXCERPT_CHARS = 80


@dataclass
class SocialReport:
    """Shaped like a CrawlReport where the scrape job reads one."""

    source_id: str
    pages_fetched: int = 0
    documents: int = 0  # posts the sink accepted
    malformed: int = 0  # posts skipped because they could not be read
    not_modified: int = 0  # API pages are never conditional; kept for the job's summary
    not_modified_urls: list[str] = field(default_factory=list)
    skipped_by_robots: int = 0
    errors: list[CrawlError] = field(default_factory=list)
    complete: bool = False  # reached the end, the last run's newest post or max_posts, without an error
    stopped: bool = False
    elapsed_s: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def json_answer(result: FetchResult) -> Any:
    """The JSON of a fetched API page; SocialFetchError saying plainly why there is none."""
    if result.error and not result.status:
        raise SocialFetchError(result.error)
    if result.status == 429 or result.status >= 500:
        tries = f" after {result.attempts} attempts" if result.attempts > 1 else ""
        wait = f" (it asked to wait {result.headers['retry-after']}s)" if result.headers.get("retry-after") else ""
        what = "is rate-limiting us" if result.status == 429 else "failed"
        raise SocialFetchError(result.error or f"the server {what}: HTTP {result.status}{tries}{wait}; "
                                              "try again later")
    if result.status >= 400:
        raise SocialFetchError(f"HTTP {result.status}: {_error_message(result.body)}")
    if result.truncated:
        raise SocialFetchError(result.error or "the answer was cut at the size limit, so it is not complete JSON")
    try:
        return json.loads(result.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        kind = result.content_type or "no Content-Type"
        raise SocialFetchError(f"the answer is not JSON ({kind}; {error}); is this the API of the platform "
                               "named in the source?") from None


def _error_message(body: bytes) -> str:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return body[:200].decode("utf-8", "replace").strip() or "no details"
    if isinstance(payload, dict):
        return str(payload.get("message") or payload.get("error_description") or payload.get("error") or payload)
    return str(payload)[:200]


def post_document(config: dict, post: Post, page_url: str, result: FetchResult) -> dict:
    """A raw-store document for one post, with its provenance; the item text is the post's plain text."""
    platform = config["platform"]
    # Identity, not the whole answer: like and repost counts change by the minute and would make each
    # re-fetch of an unchanged post look like a new version. An edit (new text or edited_at) is one.
    identity = json.dumps({"platform": platform, "key": post.key, "text": post.text,
                           "edited_at": post.wire.get("edited_at")}, sort_keys=True, ensure_ascii=False)
    first_line = post.text.strip().split("\n", 1)[0]
    excerpt = first_line[:_EXCERPT_CHARS] + ("…" if len(first_line) > _EXCERPT_CHARS else "")
    return {
        "source_id": config["source_id"],
        "url": post.url,
        "fetched_at": datetime.now(UTC),
        "content_hash": content_hash(identity),
        "raw_content": json.dumps(post.wire, ensure_ascii=False, sort_keys=True),
        "metadata": {
            "kind": "social_post", "platform": platform, "server": config["server"],
            "timeline": config["timeline"], "target": config["target"], "api_url": page_url,
            "status": result.status, "content_type": result.content_type, "post_id": post.key,
            "author": post.author, "published": post.published, "terms": TERMS[platform], "truncated": False,
            "extracted": {"title": f"{post.author}: {excerpt}", "text": post.text, "author": post.author,
                          "date": post.published, "url": post.url, "platform": platform, **post.fields},
        },
    }


class _Collection:
    def __init__(self, config: dict, fetcher: PoliteFetcher, sink, state: dict, progress, should_stop):
        self.config, self.fetcher, self.sink, self.state = config, fetcher, sink, state
        self.progress, self.should_stop = progress, should_stop
        self.report = SocialReport(source_id=config["source_id"])
        self.reader = timeline_reader(config, state)
        self.collected: list[Post] = []
        self.last_result: FetchResult | None = None

    def fetch_json(self, url: str) -> tuple[Any, dict]:
        result = self.fetcher.fetch(url, conditional=False)  # timelines change all the time
        self.last_result = result
        if result.status:
            self.report.pages_fetched += 1
        if result.from_robots_block:
            self.report.skipped_by_robots += 1
        return json_answer(result), result.headers

    def run(self) -> None:
        url = None
        try:
            url = self.reader.first_url(self.fetch_json)
            while url and len(self.collected) < self.config["max_posts"]:
                if self.should_stop():
                    self.report.stopped = True
                    return
                url = self._page(url)
            self.report.complete = True
        except SocialFetchError as error:
            self.report.errors.append(CrawlError(url or self.config["server"], str(error)))

    def _page(self, url: str) -> str | None:
        payload, headers = self.fetch_json(url)
        page = self.reader.read(payload, headers, url)
        self.report.malformed += len(page.problems)
        self.report.errors.extend(CrawlError(url, problem) for problem in page.problems)
        posts = page.posts[: self.config["max_posts"] - len(self.collected)]
        if posts:
            documents = [post_document(self.config, post, url, self.last_result) for post in posts]
            try:
                self.sink(documents)
            except Exception as error:  # the store refused: report it, and do not move the position on
                raise SocialFetchError(f"could not store the posts: {type(error).__name__}: {error}") from None
            self.report.documents += len(documents)
            self.collected += posts
        if self.progress is not None:
            self.progress(min(0.99, len(self.collected) / self.config["max_posts"]),
                          f"{len(self.collected)} posts, {self.report.pages_fetched} pages")
        return page.next_url


def collect_posts(config: dict, policy: FetchPolicy, sink: Callable[[list[dict]], Any], state: dict,
                  progress: Callable[[float, str], None] | None = None,
                  should_stop: Callable[[], bool] | None = None) -> SocialReport:
    """Collect one social source; `state` (where the last complete run stopped) is updated in place.

    Raises SocialConfigError for an unusable config, before any request.
    """
    config = {**check_social_config(config), "source_id": config.get("source_id") or "social"}
    started = time.monotonic()
    with PoliteFetcher(policy) as fetcher:
        collection = _Collection(config, fetcher, sink, state, progress, should_stop or (lambda: False))
        collection.run()
    report = collection.report
    if report.complete:
        collection.reader.advance(state, collection.collected)
    report.elapsed_s = round(time.monotonic() - started, 3)
    if progress is not None:
        progress(1.0, f"Done: {report.documents} posts, {len(report.errors)} errors")
    return report


def collect_social_source(config: dict, policy: FetchPolicy, sink: Callable[[list[dict]], Any], state_key: str,
                          progress: Callable[[float, str], None] | None = None,
                          should_stop: Callable[[], bool] | None = None) -> SocialReport:
    """collect_posts with the position kept on disk under `state_key` (the saved source's id)."""
    state_path = lake.zone_path("raw", "social-state", f"{state_key}.json")
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    report = collect_posts(config, policy, sink, state, progress, should_stop)
    lake.write_json(state, state_path)
    return report
