"""Detectors for free text and identifiers: length, character classes, vocabulary and language mix.

Each one turns a document into a number (its length, its share of digits, its share of words outside the
reference vocabulary) or a label (its language), so the same calibrated rank and chi-square tests apply.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
from scipy import stats

from ml.drift.categorical import mix_findings
from ml.drift.findings import Finding, number, percent

TEXT_FLOOR = 0.05  # |P(current > reference) - 0.5| for a per-document measure
LANGUAGE_FLOOR = 0.10  # total variation distance between language mixes
LANGUAGE_SAMPLE = 200  # documents per side sent to language identification (about 3 ms each)
VOCABULARY_SIZE = 1000
_WORD = re.compile(r"\w+", re.UNICODE)
_CLASSES = {
    "digits": re.compile(r"\d"),
    "capitals": re.compile(r"[A-Z]"),
    "punctuation": re.compile(r"[^\w\s]"),
    "non-ASCII characters": re.compile(r"[^\x00-\x7f]"),
}


def _rank_finding(method: str, ref: np.ndarray, cur: np.ndarray, summary: str, tests: int = 1) -> Finding:
    if np.all(ref == ref[0]) and np.all(cur == ref[0]):
        return Finding(method, 1.0, 0.5, 0.0, TEXT_FLOOR, "auc_minus_half", summary)
    result = stats.mannwhitneyu(cur, ref, method="asymptotic")
    auc = float(result.statistic) / (len(cur) * len(ref))
    p_value = min(1.0, tests * float(result.pvalue)) if math.isfinite(result.pvalue) else 1.0
    return Finding(method, p_value, auc, abs(auc - 0.5), TEXT_FLOOR, "auc_minus_half", summary)


def text_findings(ref: pd.Series, cur: pd.Series, *, free_text: bool) -> list[Finding]:
    ref, cur = ref.astype(str), cur.astype(str)
    if len(ref) < 5 or len(cur) < 5:
        return []
    len_ref, len_cur = ref.str.len().to_numpy(float), cur.str.len().to_numpy(float)
    findings = [_rank_finding("text_length", len_ref, len_cur,
                              f"median length {number(np.median(len_ref))} → {number(np.median(len_cur))} characters"),
                _character_classes(ref, cur, len_ref, len_cur)]
    if free_text:
        findings.append(_vocabulary(ref, cur))
        findings.extend(_language(ref, cur))
    return findings


def _character_classes(ref: pd.Series, cur: pd.Series, len_ref: np.ndarray, len_cur: np.ndarray) -> Finding:
    best = None
    for name, pattern in _CLASSES.items():
        share_ref = ref.str.count(pattern).to_numpy(float) / np.maximum(len_ref, 1)
        share_cur = cur.str.count(pattern).to_numpy(float) / np.maximum(len_cur, 1)
        summary = f"{name} {percent(float(share_ref.mean()))} → {percent(float(share_cur.mean()))} of characters"
        finding = _rank_finding("character_classes", share_ref, share_cur, summary, tests=len(_CLASSES))
        if best is None or (finding.relevant, -finding.p_value) > (best.relevant, -best.p_value):
            best = finding
    return best


def _words(texts: pd.Series) -> list[list[str]]:
    return [_WORD.findall(text.lower()) for text in texts]


def _vocabulary(ref: pd.Series, cur: pd.Series) -> Finding:
    """Share of each document's words outside the reference vocabulary.

    The vocabulary holds the reference's frequent words that appear in several documents, so one reference
    document cannot put its own rare words (names, numbers) in it and flatter the reference side.
    """
    words_ref = _words(ref)
    document_frequency: dict[str, int] = {}
    for doc in words_ref:
        for word in set(doc):
            document_frequency[word] = document_frequency.get(word, 0) + 1
    least = max(3, int(0.005 * len(words_ref)))
    common = [w for w, df in document_frequency.items() if df >= least]
    vocabulary = set(sorted(common, key=lambda w: (-document_frequency[w], w))[:VOCABULARY_SIZE])

    def outside(docs: list[list[str]]) -> np.ndarray:
        return np.array([sum(w not in vocabulary for w in doc) / len(doc) if doc else 0.0 for doc in docs])

    held, current = outside(words_ref), outside(_words(cur))
    return _rank_finding("vocabulary", held, current,
                         f"words outside the reference vocabulary {percent(float(held.mean()))} → "
                         f"{percent(float(current.mean()))}")


def _language(ref: pd.Series, cur: pd.Series) -> list[Finding]:
    try:
        import py3langid  # ships its model in the wheel: works offline
    except ImportError:  # optional: the other text detectors still run
        return []

    def languages(texts: pd.Series) -> pd.Series:
        sample = texts.iloc[np.linspace(0, len(texts) - 1, min(len(texts), LANGUAGE_SAMPLE)).astype(int)]
        return pd.Series([py3langid.classify(text[:1000])[0] for text in sample])

    findings = mix_findings(languages(ref), languages(cur))
    renamed = []
    for finding in findings:
        if finding.method == "chi_square":
            finding.method, finding.floor = "language_mix", LANGUAGE_FLOOR
            finding.summary = f"language mix: {finding.summary}"
            renamed.append(finding)
    return renamed

