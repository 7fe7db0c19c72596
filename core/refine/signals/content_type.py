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

import numpy as np
import pandas as pd
from ahocorasick_rs import AhoCorasick, MatchKind

from core.refine.signals.separators import SeparatorTable

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

# Line cues are tested with str.startswith/endswith (C loops over tuples); cues found anywhere in the text are
# counted in one Aho-Corasick pass per text (_SPACED_CUES, _RAW_CUES below). A regex per line or a
# case-insensitive alternation over the text cost ~0.5 ms a document, and a str.count pass per cue ~140 us.
_CODE_LINE_STARTS = (
    "def ", "class ", "import ", "from ", "function ", "function(", "const ", "let ", "var ", "public ",
    "private ", "protected ", "static ", "#include", "package ", "return ", "return;", "if (", "if(", "for (",
    "for(", "while (", "while(", "} else", "elif ", "else:", "else {", "try:", "try {", "except", "catch (",
    "SELECT ", "INSERT ", "CREATE TABLE", "//", "/*", "#!", "<?php", "print(", "console.",
)
_CODE_LINE_ENDS = (";", "{", "}", "):", "};", "});", "*/", "=>")
_CODE_OPERATORS = (" = ", " += ", " == ", "=>", "->", "();")
# Phrases are matched after a space, on lower-cased text with punctuation turned into spaces, so "sign in"
# does not fire inside "design in".
_FORUM_CUES = (" reply", " replies", " replied", " quote", " wrote ", " posted by", " posted on", " joined ",
               " posts ", " upvote", " permalink", " report post", " ago ", " @")
_BOILERPLATE_CUES = (
    " cookie", " privacy ", " terms of ", " terms and conditions", " all rights reserved", " sign in ",
    " sign up ", " log in ", " login ", " log out", " logout", " create an account", " forgot ",
    " subscribe", " newsletter", " not found", " 404 ", " javascript", " skip to ", " accept all",
    " preferences", " copyright", " © ",
)
_TO_SPACE = SeparatorTable(spaces="\n\t.,;:!?()[]{}<>\"'|/\\-_*#=+&%$")
_SENTENCE_ENDS = (". ", "! ", "? ", ".\n", "!\n", "?\n", "。", "！", "？")
_FINAL_STOPS = (".", "!", "?")
# ahocorasick-rs (Rust's aho-corasick crate) finds every occurrence of every cue in one scan. Occurrences are
# counted overlapping, so " ago ago " holds two " ago " cues where str.count would have said one.
_SPACED_CUES = AhoCorasick([*_FORUM_CUES, *_BOILERPLATE_CUES], matchkind=MatchKind.Standard)
_TITLE_CUES = AhoCorasick(list(_BOILERPLATE_CUES), matchkind=MatchKind.Standard)
_RAW_CUES = AhoCorasick([*_CODE_OPERATORS, *_SENTENCE_ENDS], matchkind=MatchKind.Standard)
_TIME_OF_DAY = re.compile(r":[0-5]\d\b")  # "12:34"; a literal first character lets re skip ahead fast
_DELIMITERS = ("\t", "|", ";", ",")
_MIN_DELIMITERS = {"\t": 1, "|": 2, ";": 2, ",": 3}  # prose sentences often hold two commas
MAX_LINES = 120


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
    lines = [line for line in map(str.strip, sample.splitlines()[:MAX_LINES]) if line]
    line_count = max(len(lines), 1)
    spaced = f" {_TO_SPACE.apply(sample.lower())} "
    words = len(spaced.split())
    if not sample.isascii():  # Chinese and Japanese write no spaces: about one word per two characters
        words += _unspaced_letters(sample) // 2
    # lines that open or close like code, plus code operators anywhere (a line holding both counts twice,
    # which only pushes real code further past the threshold)
    code_lines = sum(1 for line in lines
                     if line.startswith(_CODE_LINE_STARTS) or line.endswith(_CODE_LINE_ENDS))
    code_operators, sentence_ends = _count_by_group(_RAW_CUES, sample, len(_CODE_OPERATORS))
    code_lines += code_operators
    forum_cues, boilerplate_cues = _count_by_group(_SPACED_CUES, spaced, len(_FORUM_CUES))
    forum_cues += sum(1 for line in lines if line[0] == ">") + len(_TIME_OF_DAY.findall(sample))
    if title:
        boilerplate_cues += len(_TITLE_CUES.find_matches_as_indexes(f" {_TO_SPACE.apply(title.lower())} ",
                                                                     overlapping=True))
    return TextFeatures(
        words=words,
        sentences=sentence_ends + sample.rstrip().endswith(_FINAL_STOPS),
        lines=len(lines),
        code_line_share=min(1.0, code_lines / line_count),
        table_line_share=_table_line_share(lines),
        forum_line_share=min(1.0, forum_cues / line_count),
        boilerplate_cues_per_100_words=100 * boilerplate_cues / max(words, 1),
    )


def _count_by_group(cues: AhoCorasick, text: str, first_group_size: int) -> tuple[int, int]:
    """Occurrences of the automaton's first `first_group_size` patterns, and of the rest, in `text`."""
    first = second = 0
    for pattern, _start, _end in cues.find_matches_as_indexes(text, overlapping=True):
        if pattern < first_group_size:
            first += 1
        else:
            second += 1
    return first, second


def _unspaced_letters(text: str) -> int:
    """Kana and Han characters in `text`, counted with numpy over the code points."""
    code_points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return int(np.count_nonzero((code_points >= 0x3040) & (code_points <= 0x30FF))
               + np.count_nonzero((code_points >= 0x3400) & (code_points <= 0x9FFF)))


def _table_line_share(lines: list[str]) -> float:
    """Share of lines holding the same number of one delimiter (aligned columns), best delimiter wins."""
    if len(lines) < 2:
        return 0.0
    best = 0.0
    for delimiter in _DELIMITERS:
        if delimiter not in lines[0]:
            continue  # a table's first row holds the delimiter too
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
