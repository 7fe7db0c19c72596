"""Sentence splitting for news text in the languages the workbench collects.

Rules rather than a model, so it is fast, deterministic and ships nothing: a boundary is end punctuation
(. ! ? … and the CJK full stops), optionally followed by closing quotes or brackets, then a space and
something that can start a sentence. A period is *not* a boundary after a known abbreviation (Mr., Dr.,
z.B., etc.), a single initial (J. Smith), inside a number (0.1%, 4.464) or an ordinal date (3. Oktober).
Line breaks between paragraphs always end a sentence; headlines have no final period and stay one unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Lower-cased, without the final period. Shared across languages: a German text never says "Mr." and an
# English one never "bzw.", so one set serves all. Words that also end sentences (no, sun, sat, fig) are left
# out on purpose: a missed split costs less than two half-sentences.
_ABBREVIATION_WORDS = """
mr mrs ms dr prof jr st mt vs etc inc ltd co corp plc bros gov lt sgt capt cmdr adm sen
jan feb apr jun jul aug sep sept oct nov dec nos vol approx dept univ assn ave blvd
e.g i.e a.m p.m u.s u.k u.n e.u cf al pp
z.b d.h u.a bzw usw ggf vgl nr ca evtl inkl sog dipl mio mrd
mme mlle cie p.ex
sr sra srta dña dto pág aprox núm
dott avv geom ecc
dhr mevr bijv blz ong mln mld
"""
ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
_MONTH_WORDS = """
january february march april may june july august september october november december
januar februar märz mai juni juli oktober dezember
janvier février mars avril juin juillet août septembre octobre novembre décembre
enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre
gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre
januari februari maart mei augustus
"""
MONTHS = frozenset(_MONTH_WORDS.split())

_CLOSERS = "\"'”’»)]"
_OPENERS = "\"'“‘«(["
# end punctuation run, optional closers, then whitespace; or a CJK full stop (no space follows those)
_BOUNDARY = re.compile(r"([.!?…]+[" + re.escape(_CLOSERS) + r"]*)(\s+)|([。！？]+[」』”）]*)")
_WORD_BEFORE = re.compile(r"([\w.\-]+)$")
_PARAGRAPH = re.compile(r"\n\s*\n|\n(?=\s*[\-•*]\s)|\r\n\s*\r\n")


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # character offsets in the original text
    end: int
    paragraph: int  # 0-based paragraph number


def split_sentences(text: str) -> list[str]:
    return [s.text for s in sentence_spans(text)]


def sentence_spans(text: str) -> list[Sentence]:
    """The sentences of `text` with their offsets and paragraph numbers, in reading order."""
    if not text or not text.strip():
        return []
    found: list[Sentence] = []
    for number, (p_start, p_end) in enumerate(_paragraph_spans(text)):
        for start, end in _split_block(text, p_start, p_end):
            found.append(Sentence(text[start:end], start, end, number))
    return found


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans, position = [], 0
    for match in _PARAGRAPH.finditer(text):
        spans.append((position, match.start()))
        position = match.end()
    spans.append((position, len(text)))
    # single line breaks inside a paragraph: a line without end punctuation (a headline) stands alone
    refined = []
    for start, end in spans:
        line_start = start
        for line in re.finditer(r"\n", text[start:end]):
            cut = start + line.start()
            if not re.search(r"[.!?…:;,\"”»]\s*$", text[line_start:cut]) or _looks_like_heading(text[line_start:cut]):
                refined.append((line_start, cut))
                line_start = cut + 1
        refined.append((line_start, end))
    return [(s, e) for s, e in refined if text[s:e].strip()]


def _looks_like_heading(line: str) -> bool:
    return len(line.split()) <= 12 and not line.rstrip().endswith((".", "!", "?"))


def _split_block(text: str, start: int, end: int) -> list[tuple[int, int]]:
    block = text[start:end]
    pieces, piece_start = [], 0
    for match in _BOUNDARY.finditer(block):
        if match.group(3):  # CJK full stop: always a boundary
            cut = match.end()
        else:
            cut = match.end(1)
            if not _is_boundary(block, match):
                continue
        pieces.append((piece_start, cut))
        piece_start = match.end()
    pieces.append((piece_start, len(block)))
    spans = []
    for a, b in pieces:
        chunk = block[a:b]
        stripped = chunk.strip()
        if not stripped:
            continue
        lead = len(chunk) - len(chunk.lstrip())
        spans.append((start + a + lead, start + a + lead + len(stripped)))
    return spans


def _is_boundary(block: str, match: re.Match) -> bool:
    punctuation = match.group(1)
    following = block[match.end():match.end() + 40]
    if not following:
        return True
    first = following[0]
    if first.islower():
        return False  # "growth of 0.1%... in the third quarter", "etc. and"
    if not (first.isupper() or first.isdigit() or first in _OPENERS or first in "-–—¿¡" or not first.isascii()):
        return False
    if punctuation.rstrip(_CLOSERS) != ".":
        return True  # ! ? … and ?! runs end a sentence when a capital or quote follows
    before = _WORD_BEFORE.search(block[:match.start()])
    word = before.group(1).lower() if before else ""
    if not word:
        return True
    if word in ABBREVIATIONS or word.rstrip(".") in ABBREVIATIONS:
        return False
    if len(word) == 1 and word.isalpha() and block[match.start() - 1].isupper():
        return False  # an initial: "J. K. Rowling"
    if re.fullmatch(r"(?:[a-z]\.)+[a-z]", word):
        return False  # "U.S", "e.g" written without a known entry
    if word.isdigit() and len(word) <= 2:
        next_word = re.match(r"[\w]+", following)
        if next_word and next_word.group().lower() in MONTHS:
            return False  # an ordinal date: "am 3. Oktober"
    return True
