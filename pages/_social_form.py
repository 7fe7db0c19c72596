"""The fields of a social source (Mastodon or Bluesky public posts) on the Sources page's source form."""

from __future__ import annotations

import streamlit as st

from core.sources.social_config import DEFAULT_MAX_POSTS, DEFAULT_SERVERS, MOST_POSTS, TERMS, TIMELINES

PLATFORM_NAMES = {"mastodon": "Mastodon (any compatible server)", "bluesky": "Bluesky (public AppView)"}
TARGET_FIELDS = {
    "hashtag": ("Hashtag", "opendata"),
    "account": ("Account (user or user@server)", "Gargron"),
    "search": ("Search words (or #hashtag)", "#opendata"),
    "author": ("Handle or DID", "bsky.app"),
}


def social_source_fields(left, middle, right) -> dict:
    """Platform, API server, timeline, whose or which posts, and how many per run: a social source config."""
    platform = middle.selectbox("Platform", list(TIMELINES), key="src_social_platform", format_func=PLATFORM_NAMES.get)
    server = right.text_input("API server", DEFAULT_SERVERS[platform], key=f"src_social_server_{platform}",
                              help="Only scheme and host, e.g. https://mastodon.social")
    timeline = left.selectbox("Timeline", TIMELINES[platform], key=f"src_social_timeline_{platform}")
    target = ""
    if timeline in TARGET_FIELDS:
        label, example = TARGET_FIELDS[timeline]
        target = middle.text_input(label, key=f"src_social_target_{timeline}", placeholder=example)
    max_posts = left.number_input("Max posts per run", 1, MOST_POSTS, DEFAULT_MAX_POSTS, key="src_social_max_posts")
    st.caption(f"Public posts only, no login. Later runs collect only newer posts. {TERMS[platform]}")
    return {"platform": platform, "server": server, "timeline": timeline, "target": target,
            "max_posts": int(max_posts)}
