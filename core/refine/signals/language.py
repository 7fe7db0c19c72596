"""Language identification: ISO 639-1 code, confidence (0..1) and dominant script per text.

py3langid (naive Bayes over byte n-grams, model in the wheel) decides alone when it is sure. When its
best guess on a short text is below `TIE_BREAK_BELOW`, lingua - slower, but better on short text -
picks among py3langid's top candidates only: restricting lingua to two or three closely related languages
(cs/sk, hr/bs/sr, da/no) keeps it fast and loads only the models those texts need. Both packages ship their
models; nothing is downloaded.

py3langid's own feature walk is a Python loop over every byte of every text; here it runs for a whole batch
at once in numpy (`_Py3langidModel.feature_counts`), with the same automaton and the same counts.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from py3langid.langid import MODEL_FILE, LanguageIdentifier

try:  # lingua only sharpens short texts; without it py3langid still answers every text
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
except ImportError:  # pragma: no cover - exercised only where lingua is not installed
    IsoCode639_1 = Language = LanguageDetectorBuilder = None

UNDETERMINED = "und"
# The feature walk costs per byte, so the sample is the cost; 512 characters (~80 words, 0.5-1.5 KB) settle a
# document's language (bench/bench_language.py measures documents made of each language's benchmark
# sentences: 100% with this sample).
SAMPLE_CHARS = 512
# Texts x byte positions walked together: 4M cells keep a chunk's matrices (bytes, emitted features and
# their masks: ~8 bytes a cell) near 32 MB, and still hold a batch of 2,000 documents' samples.
WALK_CELLS = 1 << 22
# lingua is asked below this only. Measured on the benchmark (426/443 with these settings): asking it about
# every short text got 422, about the top 5 candidates 425, and its low-accuracy mode (trigrams, ~3x
# faster) 420.
TIE_BREAK_BELOW = 0.8
# Only short texts go to lingua: on a longer sample low confidence means code, a table or mixed languages,
# where lingua (~1 ms on 500 characters) would not help. Every answer lingua changed in the benchmark was
# on a sentence under 60 characters.
TIE_BREAK_MAX_CHARS = 200
TIE_BREAK_CANDIDATES = 3
MIN_CANDIDATE_PROBABILITY = 0.01

# py3langid labels some varieties with ISO 639-3 codes; fold them into their ISO 639-1 macrolanguage.
MACROLANGUAGE = {"wuu": "zh", "yue": "zh", "arz": "ar", "ary": "ar", "uzs": "uz"}
# lingua says "nb" for Norwegian Bokmal where py3langid says "no"; report the one code.
_LINGUA_CODE_FIXES = {"nb": "no"}
_LINGUA_LANGUAGE_FOR = {"no": "nb"}

_LETTER = re.compile(r"[^\W\d_]")
_URL_OR_EMAIL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+")


def language_signals(texts: pd.Series) -> pd.DataFrame:
    """language (ISO 639-1, "und" when there is no text to judge), language_confidence (0..1), script."""
    rows = detect_languages([text if isinstance(text, str) else "" for text in texts.tolist()])
    frame = pd.DataFrame(rows, index=texts.index, columns=["language", "language_confidence", "script"])
    return frame.astype({"language": "str", "language_confidence": "float64", "script": "str"})


def detect_language(text: str, tie_break_below: float = TIE_BREAK_BELOW) -> tuple[str, float, str]:
    """(language, confidence, script) of one text; "und" with 0 confidence when it has no letters.

    `tie_break_below=0` never asks lingua (py3langid alone), which the benchmark uses for comparison.
    """
    return detect_languages([text], tie_break_below)[0]


def detect_languages(texts: list[str],
                     tie_break_below: float = TIE_BREAK_BELOW) -> list[tuple[str, float, str]]:
    """detect_language for many texts, with py3langid's feature walk and scoring done for all at once."""
    samples = [_sample(text) for text in texts]
    results = [(UNDETERMINED, 0.0, NO_SCRIPT)] * len(samples)
    scored = [i for i, sample in enumerate(samples) if _LETTER.search(sample)]
    if not scored:
        return results
    probabilities = _py3langid_model().probabilities([samples[i] for i in scored])
    top = np.argsort(-probabilities, axis=1)[:, :TIE_BREAK_CANDIDATES]
    codes = _py3langid_model().codes
    scripts = dominant_scripts([samples[i] for i in scored])
    for row, i in enumerate(scored):
        ranked = [(codes[column], float(probabilities[row, column])) for column in top[row]]
        language, confidence = ranked[0]
        if confidence < tie_break_below and len(samples[i]) <= TIE_BREAK_MAX_CHARS:
            language, confidence = _tie_break(samples[i], ranked, language, confidence)
        results[i] = (language, round(confidence, 4), scripts[row])
    return results


def _sample(text: str) -> str:
    """The opening SAMPLE_CHARS without URLs and e-mail addresses, which say nothing about the language."""
    sample = text[:SAMPLE_CHARS]
    if len(text) > SAMPLE_CHARS:
        cut = sample.rfind(" ", SAMPLE_CHARS - 64)
        sample = sample[:cut] if cut > 0 else sample
    if "@" in sample or "://" in sample or "www." in sample:  # the regex costs more than these three scans
        sample = _URL_OR_EMAIL.sub(" ", sample)
    return sample


def _tie_break(sample: str, ranked: list[tuple[str, float]], language: str,
               confidence: float) -> tuple[str, float]:
    """lingua's choice among py3langid's top candidates; confidence = candidates' mass x lingua's share.

    Multiplying the two models' probabilities instead (naive Bayes with a flat prior) was measured: 2 fewer
    benchmark sentences right (424/443), 21 more of 5,217 from the machine's translations (bench_language.py
    --system-sentences), the changes nearly all between close pairs (hr/bs, id/ms, hi/mr): not kept.
    """
    lingua_known = tie_break_languages()
    if language not in lingua_known:
        return language, confidence
    candidates = tuple(sorted(code for code, probability in ranked[:TIE_BREAK_CANDIDATES]
                              if probability >= MIN_CANDIDATE_PROBABILITY and code in lingua_known))
    if len(candidates) < 2:
        return language, confidence
    shares = {_lingua_code(value.language): value.value
              for value in _lingua_detector(candidates).compute_language_confidence_values(sample)}
    best = max(candidates, key=lambda code: shares.get(code, 0.0))
    if shares.get(best, 0.0) <= 0.0:
        return language, confidence
    candidate_mass = sum(probability for code, probability in ranked if code in candidates)
    return best, candidate_mass * shares[best]


def supported_languages() -> tuple[str, ...]:
    """Every code language_signals can return besides "und"."""
    return tuple(sorted(_py3langid_model().codes))


@dataclass(frozen=True)
class _Py3langidModel:
    """py3langid's naive Bayes model, scored for a whole batch at once.

    py3langid walks its feature automaton one byte at a time in Python and scores one text at a time with a
    dozen small numpy calls. Here the walk advances every text of the batch together, one numpy step per
    byte position (`feature_counts`), and the scoring is one sparse x dense product. The arithmetic is
    LanguageIdentifier._decide's with norm_probs=True, the counts visit_counts'; tests check both agree.
    """

    identifier: LanguageIdentifier
    codes: tuple[str, ...]  # the codes we report, macrolanguage varieties folded in
    fold: sp.csr_matrix  # (model classes x codes) 0/1 matrix summing each class into its reported code
    # The automaton as numpy arrays: state s reading byte b moves to t = next_state[row_start[s] + b] and
    # emits feature_of_state[t] (-1: no feature). next_state is a view of py3langid's own table.
    next_state: np.ndarray
    row_start: np.ndarray
    feature_of_state: np.ndarray

    @property
    def n_features(self) -> int:
        return len(self.identifier.nb_ptc)

    def probabilities(self, samples: list[str]) -> np.ndarray:
        """(len(samples) x len(codes)) probabilities; a text without any known feature gets a uniform row."""
        identifier = self.identifier
        encoded = [identifier._encode(sample) for sample in samples]
        counts = self.feature_counts(encoded)
        # The model table is float16 (100k features x ~120 languages); multiply by just the rows this batch
        # uses, as float32, rather than let scipy upcast all of it on every call. A mask, not np.unique,
        # finds those rows: it costs one pass over the counts instead of a sort.
        present = np.zeros(self.n_features, dtype=bool)
        present[counts.indices] = True
        used = np.flatnonzero(present)
        column_of_feature = np.cumsum(present, dtype=np.intp) - 1
        features_by_text = sp.csr_matrix(
            (np.log1p(counts.data, dtype=np.float32), column_of_feature[counts.indices], counts.indptr),
            shape=(len(samples), len(used)))
        table = identifier.nb_ptc[used].astype(np.float32)
        scores = np.asarray(features_by_text @ table) + identifier.nb_pc
        scores[np.diff(counts.indptr) == 0] = 0.0  # py3langid's "no evidence": a flat row
        lengths = np.fromiter((len(text) or 1 for text in encoded), dtype=np.float64, count=len(encoded))
        scores /= np.sqrt(lengths)[:, None]  # its temperature: softmax stays calibrated across lengths
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        scores /= scores.sum(axis=1, keepdims=True)
        return np.asarray(scores @ self.fold)

    def feature_counts(self, encoded: list[bytes]) -> sp.csr_matrix:
        """(texts x features) counts of the features the automaton emits on each text: visit_counts for all.

        Texts are sorted by byte length, longest first, so at every byte position the texts still being read
        are a prefix of the batch: a step touches only those, and a few long texts cost only their own extra
        steps. Chunks of similar length bound the padded matrices at WALK_CELLS; the per-position Python
        overhead is paid once per chunk rather than once per text.
        """
        lengths = np.fromiter(map(len, encoded), dtype=np.intp, count=len(encoded))
        order = np.argsort(-lengths, kind="stable")
        blocks, start = [], 0
        while start < len(order) and lengths[order[start]] > 0:
            stop = min(len(order), start + max(1, WALK_CELLS // int(lengths[order[start]])))
            blocks.append(self._walk(encoded, order[start:stop], lengths[order[start:stop]]))
            start = stop
        blocks.append(sp.csr_matrix((len(order) - start, self.n_features), dtype=np.float32))  # empty texts
        by_length = sp.vstack(blocks, format="csr")
        back = np.empty_like(order)
        back[order] = np.arange(len(order))
        return by_length[back]

    def _walk(self, encoded: list[bytes], texts: np.ndarray, lengths: np.ndarray) -> sp.csr_matrix:
        """feature_counts of `texts` (sorted longest first, none empty), rows in that order."""
        width, n_texts = int(lengths[0]), len(texts)
        padded = b"".join([encoded[text].ljust(width, b"\0") for text in texts.tolist()])
        # (positions x texts), so each step reads one contiguous row
        byte_at = np.frombuffer(padded, dtype=np.uint8).reshape(n_texts, width).T.copy()
        still_reading = np.searchsorted(-lengths, -np.arange(width), side="left")  # texts longer than p
        # Only the current states are kept (a matrix of all of them would be one more large allocation
        # per batch, which costs page faults); emitted[t, p] is the feature text t's automaton emitted on
        # byte p: -1 for none, and for positions past the text's end.
        state = np.zeros(n_texts, dtype=self.next_state.dtype)
        emitted = np.full((n_texts, width), -1, dtype=self.feature_of_state.dtype)
        move = np.empty(n_texts, dtype=np.intp)
        # mode="clip" drops a bounds check the automaton's own tables never fail, and with it a buffered copy
        for position, reading in enumerate(still_reading.tolist()):
            row, current = move[:reading], state[:reading]
            np.take(self.row_start, current, out=row, mode="clip")
            row += byte_at[position, :reading]
            np.take(self.next_state, row, out=current, mode="clip")
            np.take(self.feature_of_state, current, out=emitted[:reading, position], mode="clip")
        # Each text's features in ascending order (the -1s first, dropped next): equal features are then
        # runs, a run's length is the count, and the order is already CSR's.
        emitted.sort(axis=1)
        found = emitted >= 0
        features = emitted[found]
        text_of = np.repeat(np.arange(n_texts, dtype=np.int32), found.sum(axis=1))
        new_run = np.ones(len(features), dtype=bool)
        np.not_equal(features[1:], features[:-1], out=new_run[1:])
        new_run[1:] |= text_of[1:] != text_of[:-1]
        run_starts = np.flatnonzero(new_run)
        indptr = np.zeros(n_texts + 1, dtype=np.intp)
        np.cumsum(np.bincount(text_of[run_starts], minlength=n_texts), out=indptr[1:])
        counts = np.diff(run_starts, append=len(features)).astype(np.float32)
        return sp.csr_matrix((counts, features[run_starts], indptr), shape=(n_texts, self.n_features))


@functools.cache
def _py3langid_model() -> _Py3langidModel:
    """py3langid restricted to languages with an ISO 639-1 code (plus varieties of one), loaded once.

    The full model also knows ~40 regional languages (Venetian, Northern Sotho, ...) that, on short text,
    steal answers from the big languages next to them and have no ISO 639-1 code to report anyway.
    """
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages([code for code in identifier.labels if len(code) == 2 or code in MACROLANGUAGE])
    # set_languages slices columns out of the full matrix; a contiguous copy keeps the row gathers fast
    identifier.nb_ptc = np.ascontiguousarray(identifier.nb_ptc)
    identifier.nb_pc = np.ascontiguousarray(identifier.nb_pc)
    reported = [MACROLANGUAGE.get(code, code) for code in identifier.nb_classes]
    codes = tuple(dict.fromkeys(reported))
    # sparse, so folding is a plain C loop rather than a BLAS call that wakes a thread pool for ~100 columns
    fold = sp.csr_matrix((np.ones(len(reported), dtype=np.float32),
                          (np.arange(len(reported)), [codes.index(code) for code in reported])),
                         shape=(len(reported), len(codes)))
    return _Py3langidModel(identifier, codes, fold,
                           next_state=np.asarray(identifier.tk_nextmove),
                           row_start=np.asarray(identifier._rowbase, dtype=np.intp),
                           feature_of_state=np.asarray(identifier.tk_output, dtype=np.int32))


@functools.cache
def tie_break_languages() -> frozenset[str]:
    """Languages lingua can settle a close call between (none when lingua is not installed)."""
    if Language is None:
        return frozenset()
    return frozenset(_lingua_code(language) for language in Language.all())


def _lingua_code(language) -> str:
    code = language.iso_code_639_1.name.lower()
    return _LINGUA_CODE_FIXES.get(code, code)


@functools.lru_cache(maxsize=512)
def _lingua_detector(codes: tuple[str, ...]):
    """A lingua detector for a few candidate languages (its models are shared process-wide, loaded lazily)."""
    iso_codes = [getattr(IsoCode639_1, _LINGUA_LANGUAGE_FOR.get(code, code).upper()) for code in codes]
    languages = [Language.from_iso_code_639_1(iso_code) for iso_code in iso_codes]
    return LanguageDetectorBuilder.from_languages(*languages).build()


# Unicode blocks of the scripts worth telling apart.
_SCRIPT_BLOCKS = {
    "Latin": ((0x41, 0x5A), (0x61, 0x7A), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x24F), (0x1E00, 0x1EFF),
              (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)),
    "Greek": ((0x370, 0x3FF), (0x1F00, 0x1FFF)),
    "Cyrillic": ((0x400, 0x52F),),
    "Armenian": ((0x530, 0x58F),),
    "Hebrew": ((0x590, 0x5FF),),
    "Arabic": ((0x600, 0x6FF), (0x750, 0x77F), (0x8A0, 0x8FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
    "Devanagari": ((0x900, 0x97F),), "Bengali": ((0x980, 0x9FF),), "Gurmukhi": ((0xA00, 0xA7F),),
    "Gujarati": ((0xA80, 0xAFF),), "Oriya": ((0xB00, 0xB7F),), "Tamil": ((0xB80, 0xBFF),),
    "Telugu": ((0xC00, 0xC7F),), "Kannada": ((0xC80, 0xCFF),), "Malayalam": ((0xD00, 0xD7F),),
    "Sinhala": ((0xD80, 0xDFF),), "Thai": ((0xE00, 0xE7F),), "Lao": ((0xE80, 0xEFF),),
    "Tibetan": ((0xF00, 0xFFF),),
    "Myanmar": ((0x1000, 0x109F),), "Georgian": ((0x10A0, 0x10FF),), "Ethiopic": ((0x1200, 0x139F),),
    "Khmer": ((0x1780, 0x17FF),),
    "Hangul": ((0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF)),
    "Hiragana": ((0x3040, 0x309F),),
    "Katakana": ((0x30A0, 0x30FF), (0xFF66, 0xFF9F)),
    "Han": ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F)),
}
SCRIPTS = (*_SCRIPT_BLOCKS, "Other")
_OUTSIDE = len(SCRIPTS)  # a code point in none of the blocks (digits, punctuation, emoji): not counted


def _script_of_bmp() -> np.ndarray:
    """The SCRIPTS index of every Basic Multilingual Plane code point, so finding them is a gather, not a search.

    U+FFFF is in no block, so a higher code point clipped to it reads "outside" until dominant_scripts
    checks the few supplementary blocks.
    """
    script_of = np.full(0x10000, _OUTSIDE, dtype=np.intp)
    for script, blocks in enumerate(_SCRIPT_BLOCKS.values()):
        for first, last in blocks:
            script_of[first : min(last, 0xFFFF) + 1] = script
    return script_of


_SCRIPT_OF_BMP = _script_of_bmp()
_SUPPLEMENTARY_BLOCKS = tuple((first, last, SCRIPTS.index(script)) for script, blocks in _SCRIPT_BLOCKS.items()
                              for first, last in blocks if last > 0xFFFF)
NO_SCRIPT = "Unknown"  # ISO 15924 "Zzzz": nothing written in any script (empty, digits, emoji)


def dominant_script(text: str) -> str:
    """The script most characters of `text` are written in, from Unicode block ranges (no per-char Python).

    Only characters inside the blocks above count (ASCII digits and punctuation are outside them); text
    with letters but none in those blocks is "Other", text without letters "Unknown".
    """
    return dominant_scripts([text])[0]


def dominant_scripts(texts: list[str]) -> list[str]:
    """dominant_script of each text, counted for all of them in one numpy pass over their code points."""
    scripts = [NO_SCRIPT] * len(texts)
    lettered = [i for i, text in enumerate(texts) if _LETTER.search(text)]
    if not lettered:
        return scripts
    # surrogatepass: a lone surrogate (text decoded with surrogateescape) is a code point outside every block
    joined = "".join([texts[i] for i in lettered]).encode("utf-32-le", "surrogatepass")
    code_points = np.frombuffer(joined, dtype=np.uint32)
    script = _SCRIPT_OF_BMP[np.minimum(code_points, 0xFFFF)]
    if len(code_points) and code_points.max() > 0xFFFF:
        for first, last, index in _SUPPLEMENTARY_BLOCKS:
            script[(code_points >= first) & (code_points <= last)] = index
    text_of = np.repeat(np.arange(len(lettered)), [len(texts[i]) for i in lettered])
    tally = np.bincount(text_of * (_OUTSIDE + 1) + script, minlength=len(lettered) * (_OUTSIDE + 1))
    tally = tally.reshape(len(lettered), _OUTSIDE + 1)[:, :_OUTSIDE]
    best = tally.argmax(axis=1)
    for row, i in enumerate(lettered):
        scripts[i] = SCRIPTS[best[row]] if tally[row, best[row]] else "Other"
    return scripts
