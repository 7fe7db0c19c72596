"""The two public post APIs: which URL to ask, how to read a page of posts, where the next page is.

Mastodon (any compatible server): timelines are newest first; the next page is the Link header's
rel="next" (max_id), and `since_id` asks only for posts newer than the last run's newest.
Bluesky (public AppView, no login): an opaque `cursor` leads to older posts; a run stops at the first
post not newer than the last run's newest one.
A malformed post is reported by position and skipped; the rest of its page is kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import requests

from core.sources.social_text import post_html_text

PAGE_LIMITS = {"mastodon": 40, "bluesky": 100}  # the most each API hands out per page
_HASHTAG_IN_TEXT = re.compile(r"(?<!\w)#(\w{1,100})")


class SocialFetchError(RuntimeError):
    """A page of posts could not be had or read; the message says why."""


class PostError(ValueError):
    """One post in an otherwise good page is malformed."""


@dataclass
class Post:
    key: str  # the platform's own id of this entry (a repost has its own)
    url: str
    text: str
    author: str  # handle of who posted (or reposted) it
    published: str | None
    order: str  # what the newest-first order is by: a Mastodon id, a Bluesky ISO time
    wire: dict  # the post exactly as the API sent it
    fields: dict = field(default_factory=dict)  # author name, language, tags, repost_of, engagement


@dataclass
class PageRead:
    posts: list[Post]
    problems: list[str]
    next_url: str | None
    reached_known: bool = False  # met a post the last run already had: no need to go further


def _with_params(url: str, **params) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update({key: str(value) for key, value in params.items() if value is not None})
    return urlunsplit(parts._replace(query=urlencode(query)))


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise PostError(f"{what} is missing or not text")
    return value


def _read_posts(items: list, read_one: Callable[[dict], Post], is_known: Callable[[Post], bool]) -> tuple:
    posts, problems, reached_known = [], [], False
    for position, item in enumerate(items, start=1):
        try:
            if not isinstance(item, dict):
                raise PostError(f"is not a JSON object (got {type(item).__name__})")
            post = read_one(item)
        except PostError as error:
            problems.append(f"malformed post #{position} skipped: {error}")
            continue
        if is_known(post):
            reached_known = True
            continue
        posts.append(post)
    return posts, problems, reached_known


def _mastodon_order(status_id: str) -> tuple[int, str]:
    return len(status_id), status_id  # numeric ids of any length compare as numbers


class MastodonTimeline:
    def __init__(self, config: dict, state: dict):
        self.config, self.server = config, config["server"]
        self.host = urlsplit(self.server).netloc
        self.since_id = state.get("since_id")

    def first_url(self, fetch_json: Callable[[str], tuple]) -> str:
        params = {"limit": PAGE_LIMITS["mastodon"], "since_id": self.since_id}
        timeline, target = self.config["timeline"], self.config["target"]
        if timeline == "account":
            account, _ = fetch_json(_with_params(f"{self.server}/api/v1/accounts/lookup", acct=target))
            if not isinstance(account, dict) or not isinstance(account.get("id"), str | int):
                raise SocialFetchError(f"the server did not return an account for {target!r}")
            return _with_params(f"{self.server}/api/v1/accounts/{quote(str(account['id']))}/statuses", **params)
        if timeline == "hashtag":
            return _with_params(f"{self.server}/api/v1/timelines/tag/{quote(target)}", **params)
        return _with_params(f"{self.server}/api/v1/timelines/public", local="true" if self.config["local"] else None,
                            **params)

    def read(self, payload, headers: dict, page_url: str = "") -> PageRead:
        if not isinstance(payload, list):
            raise SocialFetchError(f"expected a list of statuses, got a {type(payload).__name__}")
        known = (lambda post: _mastodon_order(post.order) <= _mastodon_order(self.since_id)) if self.since_id \
            else (lambda post: False)
        posts, problems, reached_known = _read_posts(payload, self._post, known)
        following = requests.utils.parse_header_links(headers.get("link", "")) if headers.get("link") else []
        next_url = next((link["url"] for link in following if link.get("rel") == "next"), None)
        if next_url and self.since_id:
            next_url = _with_params(next_url, since_id=self.since_id)  # Mastodon's next link drops it
        return PageRead(posts, problems, next_url if payload and not reached_known else None, reached_known)

    def advance(self, state: dict, posts: list[Post]) -> None:
        """Remember the newest post collected, so the next run asks only for newer ones."""
        ids = [post.order for post in posts] + ([self.since_id] if self.since_id else [])
        if ids:
            state["since_id"] = max(ids, key=_mastodon_order)

    def _handle(self, account) -> str:
        if not isinstance(account, dict):
            raise PostError("the author ('account') is missing")
        acct = _text(account.get("acct"), "the author's handle ('account.acct')")
        return f"@{acct}" if "@" in acct else f"@{acct}@{self.host}"

    def _post(self, status: dict) -> Post:
        if not isinstance(status.get("id"), str | int) or str(status["id"]) == "":
            raise PostError("'id' is missing")
        author = self._handle(status.get("account"))
        shown = status.get("reblog") if isinstance(status.get("reblog"), dict) else status
        html = _text(shown.get("content"), "'content'")
        url = status.get("url") or status.get("uri")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise PostError("it has no http(s) 'url' or 'uri'")
        text = post_html_text(html)
        if isinstance(shown.get("spoiler_text"), str) and shown["spoiler_text"].strip():
            text = f"{shown['spoiler_text'].strip()}\n{text}"
        tags = [tag["name"] for tag in shown.get("tags") or [] if isinstance(tag, dict) and
                isinstance(tag.get("name"), str)]
        fields = {"author_name": (status.get("account") or {}).get("display_name"), "language": shown.get("language"),
                  "tags": tags, "likes": shown.get("favourites_count"), "reposts": shown.get("reblogs_count"),
                  "replies": shown.get("replies_count")}
        if shown is not status:
            fields["repost_of"] = shown.get("url") or shown.get("uri")
            fields["original_author"] = self._handle(shown.get("account"))
        return Post(str(status["id"]), url, text, author, status.get("created_at"), str(status["id"]), status, fields)


class BlueskyFeed:
    def __init__(self, config: dict, state: dict):
        self.config, self.server = config, config["server"]
        self.newest = state.get("newest")
        self.items_key = "posts" if config["timeline"] == "search" else "feed"

    def first_url(self, fetch_json: Callable[[str], tuple]) -> str:
        if self.config["timeline"] == "search":
            return _with_params(f"{self.server}/xrpc/app.bsky.feed.searchPosts", q=self.config["target"],
                                sort="latest", since=self.newest, limit=PAGE_LIMITS["bluesky"])
        return _with_params(f"{self.server}/xrpc/app.bsky.feed.getAuthorFeed", actor=self.config["target"],
                            limit=PAGE_LIMITS["bluesky"])

    def read(self, payload, headers: dict, page_url: str = "") -> PageRead:
        if not isinstance(payload, dict) or not isinstance(payload.get(self.items_key), list):
            raise SocialFetchError(f"the answer has no '{self.items_key}' list")
        cutoff = _when(self.newest) if self.newest else None
        known = (lambda post: _when(post.order) <= cutoff) if cutoff else (lambda post: False)
        read_one = self._post if self.items_key == "posts" else self._feed_item
        posts, problems, reached_known = _read_posts(payload[self.items_key], read_one, known)
        cursor = payload.get("cursor")
        has_more = isinstance(cursor, str) and cursor and payload[self.items_key] and not reached_known
        return PageRead(posts, problems, _with_params(page_url, cursor=cursor) if has_more else None, reached_known)

    def advance(self, state: dict, posts: list[Post]) -> None:
        """Remember the newest post time collected; the next run stops at it."""
        times = [post.order for post in posts] + ([self.newest] if self.newest else [])
        if times:
            state["newest"] = max(times, key=_when)

    def _feed_item(self, item: dict) -> Post:
        if not isinstance(item.get("post"), dict):
            raise PostError("'post' is missing")
        post = self._post(item["post"])
        reason = item.get("reason")
        if isinstance(reason, dict) and "reasonRepost" in str(reason.get("$type")):
            by = reason.get("by") if isinstance(reason.get("by"), dict) else {}
            reposter = _text(by.get("handle"), "the reposter's handle ('reason.by.handle')")
            post.fields.update(repost_of=post.url, original_author=post.author, author_name=by.get("displayName"))
            post.key, post.author, post.url = f"{post.key}#repost-by-{reposter}", f"@{reposter}", \
                f"{post.url}#repost-by-{reposter}"
            post.order = reason["indexedAt"] if _when(reason.get("indexedAt")) else post.order
            post.wire = item
        return post

    def _post(self, view: dict) -> Post:
        uri = _text(view.get("uri"), "'uri'")
        if not uri.startswith("at://") or "/app.bsky.feed.post/" not in uri:
            raise PostError(f"'uri' {uri[:80]!r} is not an at:// post URI")
        author = view.get("author") if isinstance(view.get("author"), dict) else {}
        handle = _text(author.get("handle"), "the author's handle ('author.handle')")
        record = view.get("record")
        if not isinstance(record, dict):
            raise PostError("'record' is missing or not an object")
        text = _text(record.get("text"), "'record.text'")
        published = record.get("createdAt") if isinstance(record.get("createdAt"), str) else None
        order = view.get("indexedAt") if isinstance(view.get("indexedAt"), str) else published
        if not order or _when(order) is None:
            raise PostError("it has no valid 'indexedAt' or 'record.createdAt' time")
        langs = record.get("langs") if isinstance(record.get("langs"), list) else []
        fields = {"author_name": author.get("displayName"), "language": langs[0] if langs else None,
                  "tags": _HASHTAG_IN_TEXT.findall(text), "likes": view.get("likeCount"),
                  "reposts": view.get("repostCount"), "replies": view.get("replyCount")}
        url = f"https://bsky.app/profile/{quote(handle)}/post/{quote(uri.rsplit('/', 1)[1])}"
        return Post(uri, url, text, f"@{handle}", published, order, view, fields)


def _when(value: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def timeline_reader(config: dict, state: dict) -> MastodonTimeline | BlueskyFeed:
    return MastodonTimeline(config, state) if config["platform"] == "mastodon" else BlueskyFeed(config, state)
