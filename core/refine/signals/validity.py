"""Validity: is the item what it claims to be, or an error page, a cookie wall, a paywall or spam?

Indicators: boilerplate phrases (cookie consent, login walls, 404/5xx pages, paywalls), keyword
stuffing (one content word dominating the text), empty text where text is the point, and for listings
the schema/range/date/price errors that `listing_checks` reports.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from ahocorasick_rs import AhoCorasick, MatchKind

from core.refine.signals.scoring import SCORE_DECIMALS, safe_ratio
from core.refine.signals.stopwords import ALL_STOP_WORDS

# Lower-case phrases that mark page furniture rather than content. Matched as whole words; a text that
# merely mentions one ("the privacy policy changed") is judged by how much of it such lines make up.
_PHRASE_GROUPS = {
    "cookie and consent walls": (
        "we use cookies; this site uses cookies; this website uses cookies; cookie policy; cookie settings; "
        "accept cookies; accept all cookies; accept all; reject all; manage preferences; manage cookies; "
        "consent to the use of cookies; cookie-einstellungen; wir verwenden cookies; "
        "nous utilisons des cookies; utilizamos cookies"
    ),
    "login and account walls": (
        "sign in to continue; log in to continue; please log in; please sign in; forgot your password; "
        "forgot password; create an account; create account; sign in; log in; sign up; register now"
    ),
    "error pages": (
        "page not found; 404 not found; error 404; 404 error; not found on this server; "
        "this page could not be found; the page you are looking for; the page you requested; "
        "internal server error; service unavailable; bad gateway; access denied; 403 forbidden; "
        "seite nicht gefunden; page introuvable; página no encontrada"
    ),
    "paywalls and interstitials": (
        "subscribe to continue reading; subscribe to read; to continue reading; continue reading; "
        "already a subscriber; subscribers only; for subscribers; this content is for subscribers; "
        "premium content; start your free trial; become a member; unlock this article; paywall; "
        "enable javascript; javascript is disabled; please enable cookies; checking your browser; "
        "are you a robot; verify you are human"
    ),
    "navigation and footer furniture": (
        "skip to content; skip to main content; all rights reserved; privacy policy; terms of use; "
        "terms of service; terms and conditions; follow us on; share this article; back to top; "
        "subscribe to our newsletter; sign up for our newsletter; read more; related articles"
    ),
}
BOILERPLATE_PHRASES = tuple(
    phrase.strip() for phrases in _PHRASE_GROUPS.values() for phrase in phrases.split(";") if phrase.strip()
)
_PHRASE_PATTERNS = {
    phrase: re.compile(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)") for phrase in BOILERPLATE_PHRASES
}
# Each phrase is looked for only when its anchor occurs: its longest word that is not an everyday word
# (so "this page could not be found" waits for "found", not "could"); a few dozen distinct anchors
# stand for all the phrases.
_EVERYDAY = (
    "could please start back looking content article articles website service internal become continue "
    "follow settings account error server more page site you your are all use our top free share "
    "related create manage now already only enable trial member main skip requested rights this us"
)
_EVERYDAY_WORDS = ALL_STOP_WORDS | frozenset(_EVERYDAY.split())
_PHRASES_BY_ANCHOR: dict[str, list[str]] = {}
for _phrase in BOILERPLATE_PHRASES:
    _words = sorted(_phrase.split(), key=len, reverse=True)
    _anchor = next((w for w in _words if w not in _EVERYDAY_WORDS), _words[0])
    _PHRASES_BY_ANCHOR.setdefault(_anchor, []).append(_phrase)
# Every occurrence of every phrase (overlapping), by index into BOILERPLATE_PHRASES.
_PHRASE_SCANNER = AhoCorasick(list(BOILERPLATE_PHRASES), matchkind=MatchKind.Standard)
# A text without any anchor word as a token cannot hold a phrase (clarity_measures flags them).
BOILERPLATE_ANCHORS = frozenset(_PHRASES_BY_ANCHOR)
VALIDITY_MEASURES = ("boilerplate_hits", "boilerplate_char_frac", "field_error_count")
BOILERPLATE_SCALE = 0.35  # share of the text on furniture lines at which the credit falls to 1/e
CUE_DENSITY_SCALE = 7.0  # furniture cues per 100 words at which the credit falls to 1/e
FIELD_ERROR_CREDIT = 0.6  # kept per listing field error
# Real prose rarely gives one content word more than ~6% of its content words; stuffed pages 20%+.
STUFFING_SCALE = 0.15


def boilerplate_measures(text: str, sample_chars: int = 20_000) -> tuple[int, float]:
    """(phrase hits, share of the text's characters on lines holding a hit) over the text's opening.

    One Aho-Corasick scan finds which phrases occur as substrings (a few, in real prose); only those are
    matched with their word-boundary regex. Testing 51 anchor words one by one cost several times more.
    """
    sample = text[:sample_chars].lower()
    if not sample:
        return 0, 0.0
    hits, hit_lines = 0, set()
    for index in sorted({i for i, _, _ in _PHRASE_SCANNER.find_matches_as_indexes(sample, overlapping=True)}):
        for match in _PHRASE_PATTERNS[BOILERPLATE_PHRASES[index]].finditer(sample):
            hits += 1
            hit_lines.add(sample.rfind("\n", 0, match.start()))
    if not hits:
        return 0, 0.0
    line_chars = 0
    for line_start in hit_lines:
        line_end = sample.find("\n", line_start + 1)
        line_chars += (line_end if line_end >= 0 else len(sample)) - line_start - 1
    return hits, min(1.0, line_chars / max(len(sample.strip()), 1))


def _error_count(errors) -> int:
    return len([e for e in errors.split(";") if e]) if isinstance(errors, str) else 0


def _stuffing_credit(content_words: np.ndarray, top_word_share: np.ndarray) -> np.ndarray:
    """Credit for how evenly content words are used: 1 when no word dominates.

    In a short text one repeat is already a large share, so the share one extra occurrence adds
    (1 / content words) is tolerated; beyond it the credit falls smoothly (about 0.99 at a topic word's
    usual 3-4%, 0.88 at 8%, under 0.01 at 28%), so ordinary articles are graded too.
    """
    excess = np.maximum(top_word_share - safe_ratio(1.0, content_words), 0.0)
    # Cubed: lenient while a word is merely frequent, steep once it dominates.
    return np.where(content_words >= 10, np.exp(-((excess / STUFFING_SCALE) ** 3)), 1.0)


def validity_signals(
    items: pd.DataFrame, text_measures: pd.DataFrame, listing_field_errors: pd.Series | None
) -> pd.DataFrame:
    """Raw validity measures and the 0..1 validity score, same index as `items`.

    `text_measures` are the clarity measures of the same texts (for the keyword-stuffing share, and
    `flag_word_present` for BOILERPLATE_ANCHORS when computed, so only those texts are searched);
    `listing_field_errors` is the ";"-joined error column of `listing_checks`, or None when not computed.
    """
    n = len(items)
    texts = items["text"].tolist() if "text" in items else [""] * n
    candidates = (
        text_measures["flag_word_present"].to_numpy(dtype=bool)
        if "flag_word_present" in text_measures
        else np.ones(n, dtype=bool)
    )
    boilerplate = [
        boilerplate_measures(t) if candidate and isinstance(t, str) else (0, 0.0)
        for t, candidate in zip(texts, candidates, strict=True)
    ]
    hits = np.fromiter((b[0] for b in boilerplate), dtype=np.int64, count=n)
    boilerplate_frac = np.fromiter((b[1] for b in boilerplate), dtype=float, count=n)
    field_errors = (
        np.fromiter(map(_error_count, listing_field_errors), dtype=np.int64, count=n)
        if listing_field_errors is not None
        else np.zeros(n, dtype=np.int64)
    )
    data_types = items["data_type"].tolist() if "data_type" in items else ["text"] * n
    needs_text = np.array([d in ("text", "tabular") or not isinstance(d, str) for d in data_types])
    has_text = np.array([isinstance(t, str) and bool(t.strip()) for t in texts], dtype=bool)
    words = text_measures["word_count"].to_numpy(dtype=float)
    content_words = text_measures["content_word_count"].to_numpy(dtype=float)
    top_word_share = text_measures["top_word_share"].to_numpy(dtype=float)
    hits_per_100_words = safe_ratio(hits * 100, np.maximum(words, 1))
    # Partial credit: each indicator removes a share of the score that grows smoothly with how much of it
    # there is, so one "privacy policy" line in a long article costs a little and a cookie wall costs all.
    score = (
        np.where(needs_text & ~has_text, 0.0, 1.0)
        # 15% of the text on furniture lines keeps 0.83, 60% keeps 0.05.
        * np.exp(-((boilerplate_frac / BOILERPLATE_SCALE) ** 2))
        # Many cues in few words is a furniture block even when the lines are long (a one-line footer).
        * np.exp(-((hits_per_100_words / CUE_DENSITY_SCALE) ** 2))
        * _stuffing_credit(content_words, top_word_share)
        * FIELD_ERROR_CREDIT**field_errors
    )
    return pd.DataFrame(
        {
            "boilerplate_hits": hits,
            "boilerplate_char_frac": boilerplate_frac,
            "field_error_count": field_errors,
            # Four decimals are all a slider or histogram shows; a cookie wall at 1e-8 reads as 0.
            "validity": np.clip(np.round(score, SCORE_DECIMALS), 0.0, 1.0),
        },
        index=items.index,
    )
