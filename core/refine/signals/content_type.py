"""Content type (article, listing, forum_post, code, table, boilerplate, other) and modality per item.

A small rule-based classifier over cheap features of the first few KB: the item's data_type and listing
fields, the share of lines that look like code, like delimited table rows or like forum chrome (quotes,
"reply", user names, timestamps), boilerplate phrases (cookies, login, 404, "all rights reserved"), and
whether what is left reads as prose. Rules keep each decision explainable ("73% of lines look like code").
"""

from __future__ import annotations

import numbers
import re
from collections import Counter
from dataclasses import dataclass

import pandas as pd

CONTENT_TYPES = ("article", "listing", "forum_post", "code", "table", "boilerplate", "other")
MODALITY_BY_DATA_TYPE = {"text": "text", "listing": "text", "tabular": "tabular", "image": "image",
                         "audio": "audio"}
SAMPLE_CHARS = 4000  # the opening of a document says what kind it is; the rest only costs time

CODE_LINE_SHARE = 0.4
TABLE_LINE_SHARE = 0.6
FORUM_LINE_SHARE = 0.25
BOILERPLATE_CUES_PER_100_WORDS = 3.0
SHORT_PAGE_WORDS = 60
TINY_PAGE_WORDS = 15
LINK_TEXT_SHARE = 0.6  # pages that are mostly link text are navigation, whatever their words say
ARTICLE_MIN_WORDS = 80
ARTICLE_MIN_SENTENCES = 3

_CODE_LINE = re.compile(
    r"^\s*(?:def |class |import |from [\w.]+ import |function\b|const |let \w+\s*=|var \w|public |private |"
    r"protected |static |#include|package |return\b|if\s*\(|for\s*\(|while\s*\(|\}\s*else|elif |try:|"
    r"except\b|catch\s*\(|SELECT |INSERT |CREATE TABLE|//|/\*|\*/|#!)"
    r"|^\s*[}\])]+[;,]?\s*$"  # a line of closing brackets
    r"|[;{]\s*$|=>|\)\s*\{|\)\s*:\s*$"  # statement and block ends
    r"|^\s*[A-Za-z_][\w.\[\]]*\s*[-+*/]?=\s*\S",  # assignment
)
_FORUM_LINE = re.compile(
    r"^\s*>|\b(?:reply|replies|replied|quote|wrote:|posted by|posted on|joined:|posts:|upvotes?|permalink|"
    r"report post|#\d+\b)|(?:^|\s)@\w{2,}|\b\d{1,2}:\d{2}\b|\b\d+\s+(?:minutes?|hours?|days?|weeks?) ago\b",
    re.IGNORECASE,
)
_BOILERPLATE_CUE = re.compile(
    r"\b(?:cookies?|privacy (?:policy|settings|notice)|terms (?:of (?:use|service)|and conditions)|"
    r"all rights reserved|sign (?:in|up)|log ?in|log out|create an account|forgot (?:your )?password|"
    r"subscribe|newsletter|page not found|404|enable javascript|javascript is disabled|"
    r"skip to (?:main )?content|accept all|manage preferences|copyright)\b|©",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?。！？](?:\s|$)")
_WORD = re.compile(r"[^\W\d_]{2,}")
_DELIMITERS = ("\t", "|", ";", ",")
_MIN_DELIMITERS = {"\t": 1, "|": 2, ";": 2, ",": 3}  # prose sentences often hold two commas


@dataclass(frozen=True)
class TextFeatures:
    """The measures the rules read, exposed so a rule's firing can be explained and tested."""

    words: int
    sentences: int
    lines: int
    code_line_share: float
    table_line_share: float
    forum_line_share: float
    boilerplate_cues_per_100_words: float


def content_type_signals(items: pd.DataFrame) -> pd.DataFrame:
    """content_type and modality per item, same index; a malformed row gets "other"/"text", never raises."""
    data_types = [value if isinstance(value, str) else "text" for value in _column(items, "data_type")]
    columns = zip(data_types, _column(items, "text"), _column(items, "title"), _column(items, "fields"),
                  _column(items, "link_text_share"), strict=True)
    types = [classify_content(*row) for row in columns]
    modalities = [MODALITY_BY_DATA_TYPE.get(data_type, "text") for data_type in data_types]
    return pd.DataFrame({"content_type": types, "modality": modalities}, index=items.index).astype("str")


def classify_content(data_type: str, text, title=None, fields=None, link_text_share=None) -> str:
    """One item's content type from data_type, listing fields, text and title; malformed values allowed."""
    data_type = data_type if isinstance(data_type, str) else "text"
    if data_type == "listing" or _has_listing_fields(fields):
        return "listing"
    if data_type == "tabular":
        return "table"
    if data_type in ("image", "audio"):
        return "other"
    text = text if isinstance(text, str) else ""
    if not text.strip():
        return "other"
    features = text_features(text[:SAMPLE_CHARS], title if isinstance(title, str) else "")
    if _is_number(link_text_share) and link_text_share >= LINK_TEXT_SHARE:
        return "boilerplate"
    if features.code_line_share >= CODE_LINE_SHARE and features.lines >= 3:
        return "code"
    if features.table_line_share >= TABLE_LINE_SHARE and features.lines >= 3:
        return "table"
    if _is_boilerplate(features):
        return "boilerplate"
    if features.forum_line_share >= FORUM_LINE_SHARE and features.lines >= 2:
        return "forum_post"
    if features.words >= ARTICLE_MIN_WORDS and features.sentences >= ARTICLE_MIN_SENTENCES:
        return "article"
    return "other"


def text_features(sample: str, title: str = "") -> TextFeatures:
    """Measures over a text sample; the title only adds boilerplate cues ("Login", "404 Not Found")."""
    lines = [line for line in sample.splitlines() if line.strip()]
    words = len(_WORD.findall(sample))
    line_count = max(len(lines), 1)
    return TextFeatures(
        words=words,
        sentences=len(_SENTENCE_END.findall(sample)),
        lines=len(lines),
        code_line_share=sum(1 for line in lines if _CODE_LINE.search(line)) / line_count,
        table_line_share=_table_line_share(lines),
        forum_line_share=sum(1 for line in lines if _FORUM_LINE.search(line)) / line_count,
        boilerplate_cues_per_100_words=100 * (len(_BOILERPLATE_CUE.findall(sample))
                                              + len(_BOILERPLATE_CUE.findall(title))) / max(words, 1),
    )


def _table_line_share(lines: list[str]) -> float:
    """Share of lines holding the same number of one delimiter (aligned columns), best delimiter wins."""
    if len(lines) < 2:
        return 0.0
    best = 0.0
    for delimiter in _DELIMITERS:
        counts = Counter(line.count(delimiter) for line in lines)
        count, lines_with_count = max(counts.items(), key=lambda pair: (pair[1], pair[0]))
        if count >= _MIN_DELIMITERS[delimiter]:
            best = max(best, lines_with_count / len(lines))
    return best


def _is_boilerplate(features: TextFeatures) -> bool:
    cues = features.boilerplate_cues_per_100_words * max(features.words, 1) / 100
    if features.words <= TINY_PAGE_WORDS:
        return cues >= 1  # "Log in", "404 Not Found": a cue is all there is
    if features.words <= SHORT_PAGE_WORDS:
        return cues >= 2  # a cookie banner or error page says it twice; a short post may say "login" once
    return features.boilerplate_cues_per_100_words >= BOILERPLATE_CUES_PER_100_WORDS


def _has_listing_fields(fields) -> bool:
    """A price with a currency or a title marks a listing even when data_type says text."""
    if not isinstance(fields, dict):
        return False
    price = fields.get("price")
    return _is_number(price) and bool(fields.get("currency") or fields.get("title"))


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value


def _column(items: pd.DataFrame, name: str) -> list:
    return items[name].tolist() if name in items.columns else [None] * len(items)
