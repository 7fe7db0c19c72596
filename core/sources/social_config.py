"""Checking a social source's configuration: which platform, which server, which timeline of whom.

    {"platform": "mastodon", "server": "https://mastodon.social", "timeline": "hashtag", "target": "opendata"}
    {"platform": "bluesky", "server": "https://public.api.bsky.app", "timeline": "author", "target": "x.bsky.social"}

Only public, login-free APIs: Mastodon-compatible servers and Bluesky's public AppView. Every problem is
named at once, before any request is made.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from core.sources.crawl_config import network_policy_problem

TIMELINES = {"mastodon": ("hashtag", "public", "account"), "bluesky": ("search", "author")}
DEFAULT_SERVERS = {"mastodon": "https://mastodon.social", "bluesky": "https://public.api.bsky.app"}
# What the target of each timeline is, in the words the form and the errors use.
TARGET_LABELS = {"hashtag": "a hashtag", "account": "an account (user or user@server)", "search": "search words",
                 "author": "a handle or DID", "public": "nothing"}
# Travels with every post as provenance: public posts are not openly licensed; their authors keep the rights.
TERMS = {
    "mastodon": "Public post read through the Mastodon API of the server named in the URL; the author keeps "
                "the copyright and the server's terms of service apply.",
    "bluesky": "Public post read through Bluesky's public AppView API; the author keeps the copyright and "
               "Bluesky's terms of service and developer guidelines apply.",
}
DEFAULT_MAX_POSTS = 200
MOST_POSTS = 10_000
_HASHTAG = re.compile(r"^\w{1,100}$")
_ACCOUNT = re.compile(r"^[A-Za-z0-9_.]{1,64}(@[A-Za-z0-9.-]{1,253})?$")
_BLUESKY_ACTOR = re.compile(r"^(did:[a-z]+:[A-Za-z0-9._:%-]{1,200}|[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+)$")
_OWN_KEYS = {"platform", "server", "timeline", "target", "max_posts", "local", "dataset", "per_host_delay_s"}
_CRAWL_KEYS = {"source_id", "app", "kind"}  # added by the scrape job


class SocialConfigError(ValueError):
    """The social source cannot be used; the message lists every problem found."""


def _server_problem(server) -> str | None:
    if not isinstance(server, str) or not server.strip():
        return "server must be the base URL of the API, e.g. https://mastodon.social"
    parts = urlsplit(server.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"server {server!r} is not an http(s) URL"
    if parts.username or parts.password or parts.query or parts.fragment or parts.path not in ("", "/"):
        return f"server {server!r} must be only scheme and host (and port), e.g. https://mastodon.social"
    return None


def _target_problem(timeline: str, target: str) -> str | None:
    if timeline == "public":
        return None
    checks = {"hashtag": _HASHTAG, "account": _ACCOUNT, "author": _BLUESKY_ACTOR}
    valid = bool(target) and len(target) <= 200 if timeline == "search" else bool(checks[timeline].match(target))
    return None if valid else f"target {target!r} is not {TARGET_LABELS[timeline]}"


def check_social_config(config: dict) -> dict:
    """The config cleaned and with defaults; raises SocialConfigError naming every problem."""
    if not isinstance(config, dict):
        raise SocialConfigError(f"a social source config must be a dict, got {type(config).__name__}")
    problems = []
    if policy_problem := network_policy_problem(config):
        problems.append(policy_problem)
    unknown = sorted(str(key) for key in config if key not in _OWN_KEYS | _CRAWL_KEYS and not
                     network_policy_problem({key: True}))
    if unknown:
        problems.append(f"unknown setting(s) {', '.join(unknown)}; a social source takes "
                        f"{', '.join(sorted(_OWN_KEYS))}")
    platform = config.get("platform")
    timeline = config.get("timeline")
    if platform not in TIMELINES:
        problems.append(f"platform must be one of {', '.join(TIMELINES)}, got {platform!r}")
    elif timeline not in TIMELINES[platform]:
        problems.append(f"timeline of a {platform} source must be one of {', '.join(TIMELINES[platform])}, "
                        f"got {timeline!r}")
    server = config.get("server") or DEFAULT_SERVERS.get(platform)
    if problem := _server_problem(server):
        problems.append(problem)
    target = str(config.get("target") or "").strip()
    if timeline == "hashtag":
        target = target.lstrip("#")
    if timeline == "account":
        target = target.lstrip("@")
    if platform in TIMELINES and timeline in TIMELINES[platform] and (problem := _target_problem(timeline, target)):
        problems.append(problem)
    max_posts = config.get("max_posts", DEFAULT_MAX_POSTS)
    if isinstance(max_posts, bool) or not isinstance(max_posts, int) or not 1 <= max_posts <= MOST_POSTS:
        problems.append(f"max_posts must be a whole number from 1 to {MOST_POSTS}, got {max_posts!r}")
    delay = config.get("per_host_delay_s")
    if delay is not None and (isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0):
        problems.append(f"per_host_delay_s must be a number of seconds >= 0, got {delay!r}")
    if problems:
        raise SocialConfigError("social source is not usable: " + "; ".join(problems))
    cleaned = {"platform": platform, "server": server.strip().rstrip("/"), "timeline": timeline, "target": target,
               "max_posts": max_posts, "local": bool(config.get("local"))}
    for key in ("dataset", "per_host_delay_s"):
        if config.get(key) is not None:
            cleaned[key] = config[key]
    return cleaned
