"""Synthetic public social-media posts shared by the demo Mastodon and Bluesky servers.

Deterministic for a seed. Planted for refinement: posts in six languages, posts with an e-mail address
and a phone number, copy-pasted duplicates from other accounts, reposts of earlier posts, and HTML that
must be sanitised (links, line breaks, an inline script). `SocialCorpus.publish` adds a post while the
servers run, so incremental collection can be tested.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.sources.demo_web import prose
from core.sources.demo_web.news import EPOCH, LANGUAGE_ORDER

# (handle, display name): one account per demo language, in LANGUAGE_ORDER.
ACCOUNTS = (
    ("ana", "Ana Bell"),
    ("bernd", "Bernd Krause"),
    ("claire", "Claire Morel"),
    ("diego", "Diego Ruiz"),
    ("giulia", "Giulia Conti"),
    ("noor", "Noor de Vries"),
)
HASHTAGS = ("citylife", "opendata", "transit")
POST_MINUTES = 30  # one post every half hour from EPOCH on
HOSTILE_EVERY = 10  # posts whose HTML carries a script and an image that must never reach the text


@dataclass(frozen=True)
class DemoPost:
    number: int  # 1 is the oldest; a larger number is newer
    account: int  # index into ACCOUNTS
    language: str
    text: str  # plain text as written
    tags: tuple[str, ...]
    created: datetime
    repost_of: int | None = None  # the number of the reposted post (then `text` is empty)
    hostile: bool = False  # the HTML version carries markup that must be sanitised

    @property
    def handle(self) -> str:
        return ACCOUNTS[self.account][0]

    @property
    def display_name(self) -> str:
        return ACCOUNTS[self.account][1]


class SocialCorpus:
    """The posts, oldest first; thread-safe, because the servers read while a test publishes."""

    def __init__(self, seed: int, scale: float = 1.0):
        self.seed = seed
        self._lock = threading.Lock()
        self._posts: list[DemoPost] = []
        for number in range(1, max(24, round(48 * scale)) + 1):
            self._posts.append(self._make_post(number))

    def _make_post(self, number: int) -> DemoPost:
        rng = random.Random(f"{self.seed}:social:{number}")
        account = (number * 5) % len(ACCOUNTS)
        language = LANGUAGE_ORDER[account]
        created = EPOCH + timedelta(minutes=POST_MINUTES * number)
        if number > 6 and number % 9 == 0:  # a repost of a post a few places earlier
            return DemoPost(number, account, language, "", (), created, repost_of=number - 4)
        copied = self._posts[number - 6] if number > 6 else None
        if copied is not None and number % 11 == 0 and copied.repost_of is None:  # copy-pasted by another account
            return DemoPost(number, account, copied.language, copied.text, copied.tags, created)
        bank = prose.LANGUAGES[language]
        text = " ".join(prose.sentence(bank, rng) for _ in range(rng.randint(2, 3)))
        if number % 7 == 3:
            text += " " + prose.contact_line(language, ACCOUNTS[account][1], "social-demo.example", rng)
        tags = (HASHTAGS[number % len(HASHTAGS)],)
        return DemoPost(number, account, language, text, tags, created, hostile=number % HOSTILE_EVERY == 4)

    def posts(self) -> list[DemoPost]:
        with self._lock:
            return list(self._posts)

    def post(self, number: int) -> DemoPost | None:
        with self._lock:
            return self._posts[number - 1] if 1 <= number <= len(self._posts) else None

    def publish(self, text: str, handle: str = "ana", tags: tuple[str, ...] = ("citylife",),
                language: str = "en") -> DemoPost:
        """Add a new post (the newest), as if someone had just written it."""
        account = [name for name, _ in ACCOUNTS].index(handle)
        with self._lock:
            number = len(self._posts) + 1
            post = DemoPost(number, account, language, text, tuple(tags),
                            EPOCH + timedelta(minutes=POST_MINUTES * number))
            self._posts.append(post)
            return post
