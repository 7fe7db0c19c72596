"""Clarity: the well-known web-text heuristics of Gopher, C4 and FineWeb as raw measures plus a 0..1 score.

Token measures are computed for a whole batch at once with numpy: tokens are factorized once, each
distinct token is judged once, and n-gram repetition is counted with one sort per n. Line and
paragraph measures use C-level string operations per text. Everything reads a bounded prefix, so a
5 MB text costs about as much as a 20 KB one.
"""

from __future__ import annotations

import re
import string
from operator import itemgetter, methodcaller
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.refine.signals.scoring import SCORE_DECIMALS, bell, geometric_mean, safe_ratio, soft_down, soft_up
from core.refine.signals.stopwords import ALL_STOP_WORDS, CJK_STOP_CHAR_PATTERN

# Line, paragraph and n-gram statistics are stable long before 20 KB; capping keeps pathological
# inputs (megabytes of one repeated line) as cheap as ordinary ones.
ANALYSED_CHARS = 20_000
NGRAM_WORDS = 1_000
# Documents per packed sort: the document number gets 16 bits of the sort key.
MAX_DOCS_PER_CALL = 50_000
SHORT_LINE_CHARS = 30

_LETTER = re.compile(r"[^\W\d_]")
_TOKEN_EDGE_PUNCTUATION = string.punctuation + "“”‘’«»„‚—–…•·¿¡"
_NON_ASCII_SCRIPT_RUN = re.compile(
    r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)"  # CJK: counted one word per character
    # Scripts without a stop-word list (Armenian, Hebrew, Indic other than Devanagari, Thai, Lao, Georgian,
    # Ethiopic): the stop-word test says nothing about them, so it is neutral there.
    r"|([\u0530-\u05ff\u0980-\u0dff\u0e00-\u0eff\u10a0-\u10ff\u1200-\u137f]+)"
)
# Below this share of multi-byte UTF-8 (curly quotes, accents) a text cannot be 30% CJK or uncovered
# script, so the script scan is skipped: it is the costliest regex here and most web text is Latin.
_SCRIPT_SCAN_MIN_EXTRA_BYTES = 0.15
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")
_BULLETS = frozenset("•‣⁃◦▪▫●○■□-*–—·►▶✓✔➤")
_TERMINAL_PUNCTUATION = frozenset(".!?\"'”’»)。！？…:;")
_FIRST_CHAR, _LAST_CHAR = itemgetter(0), itemgetter(-1)
_ELLIPSIS_END = methodcaller("endswith", ("...", "…"))
# Inside a line a sentence ends at . ! ? before a space (also behind a closing quote), or at a CJK full stop;
# every line end closes one too. The ASCII marks are counted on the UTF-8 bytes (a character's encoding never
# starts inside another's, so byte counts equal str counts) with ! and ? first turned into ., so one count finds
# all of ". ", "! ", "? " - a str.count pass per mark was the costliest part of the line counts. The others are
# counted on the str, where a Latin-1 text skips them at once.
_END_MARKS_TO_PERIOD = bytes.maketrans(b"!?", b"..")
_NON_ASCII_SENTENCE_MARKS = (".” ", "。", "！", "？")
_DIGITS = b"0123456789"
_GRAM_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_DOCUMENT_SHIFT = np.uint64(48)
_STRADDLING_BITS = np.uint64(0xFFFF) << _DOCUMENT_SHIFT  # above MAX_DOCS_PER_CALL, so never a document

LINE_COUNT_COLUMNS = tuple(
    """
    word_count cjk_chars uncovered_script_chars symbol_count line_count bullet_lines ellipsis_lines
    punctuated_lines short_lines duplicate_lines duplicate_line_chars line_chars paragraph_count
    duplicate_paragraphs duplicate_paragraph_chars paragraph_chars cjk_stop_chars sentence_ends digit_chars
    sample_chars
    """.split()  # noqa: SIM905 - a word list reads better than 20 quoted names
)
# The measures a user sees next to the score.
CLARITY_MEASURES = tuple(
    """
    word_count mean_word_length symbol_word_ratio letter_word_ratio stop_word_ratio line_count
    bullet_line_ratio ellipsis_line_ratio punctuated_line_ratio short_line_ratio duplicate_line_frac
    duplicate_line_char_frac duplicate_paragraph_frac duplicate_paragraph_char_frac top_2gram_char_frac
    top_3gram_char_frac top_4gram_char_frac cjk_ratio uncovered_script_ratio mean_sentence_words
    digit_char_ratio
    """.split()  # noqa: SIM905 - a word list reads better than 17 quoted names
)
SPAM_MEASURES = ("content_word_count", "top_word_share")


def _duplicate_counts(parts: list[str]) -> tuple[int, int, int]:
    """(repeated parts, characters in repeated parts, all characters), as Gopher counts repetition."""
    total_chars = sum(map(len, parts))
    unique = set(parts)
    return len(parts) - len(unique), total_chars - sum(map(len, unique)), total_chars


def _script_chars(sample: str, utf8_length: int) -> tuple[int, int]:
    """(CJK characters, characters in scripts without a stop list)."""
    if utf8_length - len(sample) < _SCRIPT_SCAN_MIN_EXTRA_BYTES * len(sample):
        return 0, 0
    cjk = uncovered = 0
    for cjk_run, uncovered_run in _NON_ASCII_SCRIPT_RUN.findall(sample):
        cjk += len(cjk_run)
        uncovered += len(uncovered_run)
    return cjk, uncovered


def _sentence_marks(sample: str, encoded: bytes) -> int:
    """Sentence ends inside the lines of a sample, given its UTF-8 bytes too (see _END_MARKS_TO_PERIOD)."""
    marks = encoded.translate(_END_MARKS_TO_PERIOD).count(b". ") + encoded.count(b'." ')
    if len(encoded) != len(sample):  # not ASCII
        marks += sum(map(sample.count, _NON_ASCII_SENTENCE_MARKS))
    return marks


def _line_counts(text: str, sample: str, tokens: int) -> tuple:
    """Per-text counts that need the text's lines and paragraphs (a few dozen per document)."""
    encoded = sample.encode("utf-8", "surrogatepass")
    cjk_chars, uncovered_chars = _script_chars(sample, len(encoded))
    word_count = len(text.split()) if len(text) > len(sample) else tokens
    # map/filter/sum over C callables: no Python frame per line, the costliest part here before.
    lines = list(filter(None, map(str.strip, sample.split("\n"))))
    paragraphs = list(filter(None, map(str.strip, _PARAGRAPH_BREAK.split(sample))))
    return (
        word_count + cjk_chars,
        cjk_chars,
        uncovered_chars,
        sample.count("#") + sample.count("...") + sample.count("…"),
        len(lines),
        sum(map(_BULLETS.__contains__, map(_FIRST_CHAR, lines))),
        sum(map(_ELLIPSIS_END, lines)),
        sum(map(_TERMINAL_PUNCTUATION.__contains__, map(_LAST_CHAR, lines))),
        sum(map(SHORT_LINE_CHARS.__gt__, map(len, lines))),
        *_duplicate_counts(lines),
        len(paragraphs),
        *_duplicate_counts(paragraphs),
        len(CJK_STOP_CHAR_PATTERN.findall(sample)) if cjk_chars else 0,
        _sentence_marks(sample, encoded),
        len(encoded) - len(encoded.translate(None, _DIGITS)),  # digits are single bytes in UTF-8
        len(sample),
    )


def _tokenize(lowered: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(tokens per text, vocabulary code of every token, vocabulary) of whitespace-split texts.

    Arrow splits and dictionary-encodes in C++ without a Python str per token: half the time of str.split
    plus pandas.factorize. Its whitespace is Python's (every str.isspace() character of the BMP checked).
    """
    try:
        array = pa.array(lowered, type=pa.large_string())
    except UnicodeEncodeError:  # lone surrogates (broken scrapes): Arrow holds only valid UTF-8
        array = pa.array([text.encode("utf-8", "replace").decode("utf-8") for text in lowered],
                         type=pa.large_string())
    split = pc.utf8_split_whitespace(array)
    lengths = np.diff(split.offsets.to_numpy()).astype(np.int64)
    encoded = pc.dictionary_encode(split.flatten())
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    vocabulary = encoded.dictionary.to_pylist()
    if "" in vocabulary:  # Arrow leaves an empty token where a text starts or ends with non-ASCII whitespace
        real = codes != vocabulary.index("")
        owners = np.repeat(np.arange(len(lowered)), lengths)
        lengths = np.bincount(owners[real], minlength=len(lowered)).astype(np.int64)
        codes = codes[real]
    return lengths, codes, vocabulary


def _word_statistics(lowered: list[str], flag_words: frozenset[str]) -> dict[str, np.ndarray]:
    """Token-level counts for a whole batch at once: tokens are factorized once, each distinct token
    is judged once (letter? stop word? flag word?), and n-gram repetition is counted with one sort per n."""
    n_docs = len(lowered)
    lengths, codes, vocabulary = _tokenize(lowered)
    doc = np.repeat(np.arange(n_docs), lengths)
    vocab_chars = np.fromiter(map(len, vocabulary), dtype=np.int64, count=len(vocabulary))
    vocab_letter = np.fromiter(
        (_LETTER.search(token) is not None for token in vocabulary), dtype=bool, count=len(vocabulary)
    )
    bare_vocabulary = [token.strip(_TOKEN_EDGE_PUNCTUATION) for token in vocabulary]
    vocab_stop = np.fromiter(
        (t in ALL_STOP_WORDS for t in bare_vocabulary), dtype=bool, count=len(vocabulary)
    )
    vocab_flag = np.fromiter((t in flag_words for t in bare_vocabulary), dtype=bool, count=len(vocabulary))
    token_chars = vocab_chars[codes]
    vocab_content = vocab_letter & ~vocab_stop & (vocab_chars >= 3)
    content = vocab_content[codes]
    content_words = np.bincount(doc, weights=content, minlength=n_docs)
    stats = {
        "content_words": content_words,
        "top_word_share": safe_ratio(
            _most_repeated(doc[content], codes[content].astype(np.uint64), n_docs), content_words
        ),
        "tokens": lengths,
        "token_chars": np.bincount(doc, weights=token_chars, minlength=n_docs),
        "letter_words": np.bincount(doc, weights=vocab_letter[codes], minlength=n_docs),
        "stop_words": np.bincount(doc, weights=vocab_stop[codes], minlength=n_docs),
        "flag_word_present": np.bincount(doc[vocab_flag[codes]], minlength=n_docs) > 0,
    }
    # N-gram repetition reads each document's first NGRAM_WORDS tokens (all of them, for typical pages).
    if lengths.size and lengths.max() > NGRAM_WORDS:
        position = np.arange(len(codes)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        in_prefix = position < NGRAM_WORDS
        prefix_codes, prefix_doc, prefix_chars = codes[in_prefix], doc[in_prefix], token_chars[in_prefix]
    else:
        prefix_codes, prefix_doc, prefix_chars = codes, doc, token_chars
    prefix_codes = prefix_codes.astype(np.uint64)
    prefix_total_chars = np.bincount(prefix_doc, weights=prefix_chars, minlength=n_docs)
    # Each gram is packed into one uint64 - 16 bits document, 40 bits gram hash, 8 bits gram length - so one
    # in-place sort per n groups the equal grams of a document together. The document bits are shifted once.
    document_bits = prefix_doc.astype(np.uint64) << _DOCUMENT_SHIFT
    token_chars_u64 = prefix_chars.astype(np.uint64)
    gram_key, gram_chars = prefix_codes, token_chars_u64
    for n in (2, 3, 4):
        gram_key = gram_key[:-1] * _GRAM_MULTIPLIER + prefix_codes[n - 1 :]
        gram_chars = gram_chars[:-1] + token_chars_u64[n - 1 :]
        packed = document_bits[: len(gram_key)] | ((gram_key >> np.uint64(24)) << np.uint64(8))
        packed |= np.minimum(gram_chars, np.uint64(255))
        # A gram that straddles two documents gets a value of its own (a document number no batch reaches,
        # plus its position), so it can never repeat.
        straddling = np.flatnonzero(prefix_doc[: len(gram_key)] != prefix_doc[n - 1 :])
        packed[straddling] = _STRADDLING_BITS | straddling.astype(np.uint64)
        covered = _top_repeated_gram_chars(packed, n_docs)
        stats[f"top_{n}gram_char_frac"] = safe_ratio(covered, prefix_total_chars)
    return stats


def _most_repeated(doc: np.ndarray, code: np.ndarray, n_docs: int) -> np.ndarray:
    """Per document, how often its most frequent code occurs (0 when nothing repeats)."""
    packed = (doc.astype(np.uint64) << _DOCUMENT_SHIFT) | (code & np.uint64((1 << 48) - 1))
    packed.sort()
    top = np.zeros(n_docs)
    if packed.size:
        starts = np.flatnonzero(np.concatenate(([True], packed[1:] != packed[:-1])))
        counts = np.diff(np.append(starts, packed.size))
        repeated = counts > 1
        np.maximum.at(top, (packed[starts][repeated] >> _DOCUMENT_SHIFT).astype(np.int64), counts[repeated])
    return top


def _top_repeated_gram_chars(packed: np.ndarray, n_docs: int) -> np.ndarray:
    """Per document, the characters covered by its most repeated n-gram (0 when nothing repeats), from the
    packed grams (sorted here, in place)."""
    packed.sort()
    covered = np.zeros(n_docs)
    if packed.size == 0:
        return covered
    starts = np.flatnonzero(np.concatenate(([True], packed[1:] != packed[:-1])))
    counts = np.diff(np.append(starts, packed.size))
    repeated = counts > 1
    run_values = packed[starts[repeated]]
    chars = (run_values & np.uint64(255)).astype(np.int64)
    np.maximum.at(covered, (run_values >> _DOCUMENT_SHIFT).astype(np.int64), counts[repeated] * chars)
    return covered


def clarity_measures(texts: Iterable, flag_words: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Raw clarity measures per text, in input order (RangeIndex). Missing texts count as empty.

    With `flag_words` (lower case), a boolean column `flag_word_present` says which texts contain one
    of them as a token (edge punctuation ignored): a free pre-filter for phrase searches, since the
    tokens are at hand here anyway.
    """
    texts = [text if isinstance(text, str) else "" for text in texts]
    if len(texts) <= MAX_DOCS_PER_CALL:
        return _measures(texts, flag_words)
    frames = [
        _measures(texts[start : start + MAX_DOCS_PER_CALL], flag_words)
        for start in range(0, len(texts), MAX_DOCS_PER_CALL)
    ]
    return pd.concat(frames, ignore_index=True)


def _measures(texts: list[str], flag_words: frozenset[str]) -> pd.DataFrame:
    samples = [text[:ANALYSED_CHARS] for text in texts]
    words = _word_statistics([sample.lower() for sample in samples], flag_words)
    raw = pd.DataFrame.from_records(
        [
            _line_counts(text, sample, tokens)
            for text, sample, tokens in zip(texts, samples, words["tokens"].tolist(), strict=True)
        ],
        columns=list(LINE_COUNT_COLUMNS),
    )
    out = pd.DataFrame({"word_count": raw["word_count"].astype("int64")})
    # Over space-separated tokens, as Gopher defines it; meaningless for CJK, which the score knows.
    out["mean_word_length"] = safe_ratio(words["token_chars"], words["tokens"])
    out["symbol_word_ratio"] = safe_ratio(raw["symbol_count"], raw["word_count"])
    out["letter_word_ratio"] = np.minimum(safe_ratio(words["letter_words"], words["tokens"]), 1.0)
    out["stop_word_ratio"] = safe_ratio(words["stop_words"] + raw["cjk_stop_chars"], raw["word_count"])
    out["line_count"] = raw["line_count"].astype("int64")
    for name in ("bullet", "ellipsis", "punctuated", "short"):
        out[f"{name}_line_ratio"] = safe_ratio(raw[f"{name}_lines"], raw["line_count"])
    out["duplicate_line_frac"] = safe_ratio(raw["duplicate_lines"], raw["line_count"])
    out["duplicate_line_char_frac"] = safe_ratio(raw["duplicate_line_chars"], raw["line_chars"])
    out["duplicate_paragraph_frac"] = safe_ratio(raw["duplicate_paragraphs"], raw["paragraph_count"])
    out["duplicate_paragraph_char_frac"] = safe_ratio(
        raw["duplicate_paragraph_chars"], raw["paragraph_chars"]
    )
    for n in (2, 3, 4):
        # Overlapping occurrences ("a a a a") can cover more than the text; the share cannot.
        out[f"top_{n}gram_char_frac"] = np.minimum(words[f"top_{n}gram_char_frac"], 1.0)
    # Keyword stuffing (read by validity): the most frequent content word's share of content words.
    out["content_word_count"] = words["content_words"].astype("int64")
    out["top_word_share"] = words["top_word_share"]
    out["cjk_ratio"] = safe_ratio(raw["cjk_chars"], words["token_chars"]).clip(0, 1)
    if flag_words:
        out["flag_word_present"] = words["flag_word_present"]
    out["uncovered_script_ratio"] = safe_ratio(raw["uncovered_script_chars"], words["token_chars"]).clip(0, 1)
    # Every line ends a sentence too, punctuated or not (a heading, a menu entry).
    sentences = raw["sentence_ends"] + raw["line_count"]
    out["mean_sentence_words"] = safe_ratio(words["tokens"], np.maximum(sentences, 1))
    out["digit_char_ratio"] = safe_ratio(raw["digit_chars"], raw["sample_chars"])
    return out


# Typical running prose: about 20 words a sentence (news and encyclopedic text average 18-25); a spread of
# 0.7 in log space gives 10 or 40 words 0.6, and menus (3 words) or unpunctuated walls (150) under 0.02.
IDEAL_SENTENCE_WORDS, SENTENCE_SPREAD = 20.0, 0.7
# Weights of the graded prose profile (a weighted geometric mean). Sentence shape and the share of function
# words are the strongest single signs of running prose, so they weigh most.
PROFILE_WEIGHTS = {
    "sentence_length": 2.0,
    "function_words": 2.0,
    "alphabetic_tokens": 1.5,
    "repeated_lines": 1.0,
    "digits": 1.0,
    "punctuated_lines": 1.0,
    "short_lines": 0.5,
}


def clarity_score(measures: pd.DataFrame) -> np.ndarray:
    """0..1: failure gates times a graded prose profile.

    The gates are the published Gopher/C4/FineWeb heuristics as smooth logistic steps (0.95 at the
    published cut-off, 0.05 well past it), multiplied, so any clear failure pulls the score down.
    The profile is a weighted geometric mean of how prose-like the text is on continuous features
    (sentence length, share of function words and alphabetic tokens, repeated lines, digits, punctuated
    and short lines), so texts that all pass the gates still get different scores.
    Tests that only make sense for space-separated text with a stop list, or for texts with several
    lines, are neutral (1) where they cannot judge.
    """
    if not len(measures):
        return np.zeros(0)
    return np.round(_gates(measures) * _prose_profile(measures), SCORE_DECIMALS)


def _gates(m: pd.DataFrame) -> np.ndarray:
    word_based = (m["cjk_ratio"] < 0.3).to_numpy() & (m["uncovered_script_ratio"] < 0.3).to_numpy()
    multi_line = (m["line_count"] >= 3).to_numpy()
    mean_length = m["mean_word_length"]
    no_words = m["word_count"].to_numpy() == 0
    factors = [
        np.where(no_words, 0.0, soft_up(m["word_count"], 3, 20)),
        np.where(word_based, soft_up(mean_length, 2, 3) * soft_down(mean_length, 10, 15), 1.0),
        soft_down(m["symbol_word_ratio"], 0.1, 0.3),
        np.where(word_based, soft_up(m["letter_word_ratio"], 0.5, 0.8), 1.0),
        np.where(word_based, soft_up(m["stop_word_ratio"], 0.02, 0.1), 1.0),
        np.where(multi_line, soft_down(m["bullet_line_ratio"], 0.5, 0.9), 1.0),
        np.where(multi_line, soft_down(m["ellipsis_line_ratio"], 0.2, 0.5), 1.0),
        np.where(multi_line, soft_up(m["punctuated_line_ratio"], 0.1, 0.4), 1.0),
        np.where(multi_line, soft_down(m["short_line_ratio"], 0.67, 0.9), 1.0),
        soft_down(m["duplicate_line_frac"], 0.3, 0.6),
        soft_down(m["duplicate_line_char_frac"], 0.2, 0.5),
        soft_down(m["duplicate_paragraph_frac"], 0.3, 0.6),
        soft_down(m["duplicate_paragraph_char_frac"], 0.2, 0.5),
        soft_down(m["top_2gram_char_frac"], 0.2, 0.4),
        soft_down(m["top_3gram_char_frac"], 0.18, 0.36),
        soft_down(m["top_4gram_char_frac"], 0.16, 0.32),
    ]
    # A gate far on its good side gives 1 - 1e-9, not 1: only the product's order matters, and rounding it
    # keeps a clean text's gates at exactly 1 so the profile alone grades it.
    return np.round(np.prod(np.vstack(factors), axis=0), 6)


def _prose_profile(m: pd.DataFrame) -> np.ndarray:
    word_based = (m["cjk_ratio"] < 0.3).to_numpy() & (m["uncovered_script_ratio"] < 0.3).to_numpy()
    multi_line = (m["line_count"] >= 3).to_numpy()
    neutral = np.ones(len(m))
    features = {
        "sentence_length": np.where(
            word_based, bell(m["mean_sentence_words"], IDEAL_SENTENCE_WORDS, SENTENCE_SPREAD), neutral
        ),
        # The short stop lists cover about a third of the words of running prose in their languages;
        # keyword lists and menus have almost none.
        "function_words": np.where(word_based, 1 - np.exp(-m["stop_word_ratio"].to_numpy() / 0.12), neutral),
        "alphabetic_tokens": np.where(word_based, m["letter_word_ratio"].to_numpy() ** 2, neutral),
        "repeated_lines": (1 - m["duplicate_line_char_frac"].to_numpy()) ** 2,
        # Prose has 1-3% digits (dates, figures); tables, listings of scores and codes have far more.
        "digits": np.exp(-((m["digit_char_ratio"].to_numpy() / 0.12) ** 2)),
        "punctuated_lines": np.where(multi_line, np.sqrt(m["punctuated_line_ratio"].to_numpy()), neutral),
        "short_lines": np.where(multi_line, 1 - 0.5 * m["short_line_ratio"].to_numpy(), neutral),
    }
    return geometric_mean(list(features.values()), [PROFILE_WEIGHTS[name] for name in features])
