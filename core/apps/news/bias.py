"""Bias indicators that a reader can check: each comes with the words or sentences that produced it.

These are indicators, not verdicts: a high loaded-word rate or a single quoted source is a reason to read
closely. All rates are per sentence (or per 100 words) so long and short articles compare.
- subjectivity: share of sentences that carry opinion (strong VADER polarity or an opinion marker such as
  "clearly", "outrageous"); evidence: those sentences and markers.
- loaded words: emotionally charged or pejorative terms per 100 words ("slammed", "regime", "so-called").
- hedging: share of sentences with hedges ("reportedly", "allegedly", "may", "sources say").
- quote balance: share of sentences that quote someone, the speakers found ("said X", "X said",
  "according to X"), and how evenly the quotes are spread over them (normalised entropy, 1 = even).
- one-sidedness of sources: flagged when quotes come from one speaker, or one speaker has >= 75 % of them.
Word lists are English with short German/French/Spanish additions; other languages report the
language-neutral parts (quote share) and say the lists do not cover them.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from core.apps.news.sentences import split_sentences
from core.apps.news.textstats import words

_LISTS = {
    "loaded": {
        "en": "slammed blasted lashed ripped regime thugs radical extremist extremists so-called scheme "
              "scandal chaos chaotic disaster disastrous catastrophic devastating outrageous shameful "
              "notorious fiasco crackdown propaganda elite elites mob hysteria draconian brutal ruthless "
              "horrific shocking furious slams blasts crony cronies lavish bloated",
        "de": "skandal chaos katastrophe katastrophal regime hetze propaganda dreist empörend schamlos brutal",
        "fr": "scandale chaos catastrophe catastrophique régime propagande honteux brutal scandaleux",
        "es": "escándalo caos catástrofe catastrófico régimen propaganda vergonzoso brutal",
    },
    "hedges": {
        "en": "may might could reportedly allegedly apparently possibly perhaps likely unlikely unclear "
              "appears appear seems seem suggests suggest believed thought rumoured rumored unconfirmed "
              "speculation estimated",
        "de": "möglicherweise angeblich vermutlich offenbar wohl eventuell könnte könnten scheint soll sollen",
        "fr": "peut-être apparemment probablement semble pourrait pourraient selon présumé",
        "es": "quizás posiblemente aparentemente probablemente parece podría podrían supuestamente",
    },
    "opinion": {
        "en": "clearly obviously undoubtedly surely absurd ridiculous outrageous brilliant terrible awful "
              "amazing incredible remarkable unacceptable disgraceful wonderful must should",
        "de": "offensichtlich eindeutig absurd lächerlich unerhört großartig schrecklich unglaublich muss",
        "fr": "évidemment clairement absurde ridicule scandaleux formidable terrible incroyable doit",
        "es": "evidentemente claramente absurdo ridículo escandaloso terrible increíble debe",
    },
}
LISTS = {kind: {lang: frozenset(text.split()) for lang, text in by_lang.items()} for kind, by_lang in _LISTS.items()}
_PHRASE_HEDGES = re.compile(r"\b(sources? (?:say|said|close to)|it is (?:thought|believed|understood)|"
                            r"is understood to|according to (?:reports|sources))\b", re.IGNORECASE)
_SAY = r"(?:said|says|told|added|argued|claimed|warned|insisted|sagte|erklärte|a déclaré|a dit|dijo|afirmó)"
_NAME = r"((?:[A-Z][\w'’\-]+)(?:\s+[A-Z][\w'’\-]+){0,3})"
_SPEAKER_PATTERNS = [
    re.compile(_SAY + r",?\s+(?:the\s+)?" + _NAME),  # said Frank Weise / said the Treasury
    re.compile(_NAME + r",?(?:\s+[\w\-]+){0,6}?,?\s+" + _SAY),  # Mr Smith said / Weise, head of X, said
    re.compile(r"(?:according to|laut|selon|según)\s+(?:the\s+)?" + _NAME),
]
_QUOTE = re.compile(r"[\"“”„«»]")
_NOT_SPEAKER_WORDS = "He She It They We I But And The This That However Yesterday Today Officials"
_NOT_SPEAKERS = frozenset(_NOT_SPEAKER_WORDS.split())
STRONG_POLARITY = 0.5
ONE_SIDED_SHARE = 0.75
EVIDENCE_LIMIT = 5


def _list(kind: str, language: str) -> frozenset[str]:
    return LISTS[kind].get(language, frozenset()) | (LISTS[kind]["en"] if language != "en" else frozenset())


def bias_indicators(text: str, language: str | None = "en", sentences: list[str] | None = None,
                    sentence_scores: dict[str, float] | None = None) -> dict:
    """Indicators with evidence; `sentence_scores` (sentence -> VADER compound) adds strong polarity to subjectivity."""
    language = (language or "en")[:2]
    sentences = sentences if sentences is not None else split_sentences(text)
    tokens_per_sentence = [words(s) for s in sentences]
    total_words = sum(len(t) for t in tokens_per_sentence) or 1
    n = len(sentences) or 1
    loaded_list, hedge_list, opinion_list = (_list(k, language) for k in ("loaded", "hedges", "opinion"))

    loaded_hits = Counter(w for tokens in tokens_per_sentence for w in tokens if w in loaded_list)
    loaded_sentences = [s for s, t in zip(sentences, tokens_per_sentence, strict=True) if loaded_list.intersection(t)]

    hedged = []
    for sentence, tokens in zip(sentences, tokens_per_sentence, strict=True):
        found = sorted(hedge_list.intersection(tokens))
        found += [m.group(0).lower() for m in _PHRASE_HEDGES.finditer(sentence)]
        if found:
            hedged.append({"sentence": sentence, "words": found})

    subjective = []
    for sentence, tokens in zip(sentences, tokens_per_sentence, strict=True):
        markers = sorted(opinion_list.intersection(tokens))
        polarity = (sentence_scores or {}).get(sentence)
        strong = polarity is not None and abs(polarity) >= STRONG_POLARITY
        if markers or strong:
            subjective.append({"sentence": sentence, "words": markers,
                               **({"polarity": round(polarity, 3)} if strong else {})})

    quotes = quote_balance(sentences)
    covered = language in LISTS["loaded"]
    return {
        "subjectivity_rate": round(len(subjective) / n, 4),
        "subjective_sentences": subjective[:EVIDENCE_LIMIT],
        "loaded_per_100_words": round(100 * sum(loaded_hits.values()) / total_words, 3),
        "loaded_words": dict(loaded_hits.most_common(10)),
        "loaded_sentences": loaded_sentences[:EVIDENCE_LIMIT],
        "hedging_rate": round(len(hedged) / n, 4),
        "hedged_sentences": hedged[:EVIDENCE_LIMIT],
        **quotes,
        "word_lists": "full" if language == "en" else "partial" if covered else "english-only",
    }


def quote_balance(sentences: list[str]) -> dict:
    """Who is quoted, how much of the text is quotation, and whether one voice dominates."""
    speakers: Counter[str] = Counter()
    quoted = 0
    evidence: dict[str, str] = {}
    for sentence in sentences:
        has_quote = bool(_QUOTE.search(sentence))
        names = _speakers(sentence)
        if has_quote or names:
            quoted += 1
        for name in names:
            speakers[name] += 1
            evidence.setdefault(name, sentence)
    speakers = _merge_surnames(speakers)
    total = sum(speakers.values())
    if len(speakers) > 1:
        shares = [c / total for c in speakers.values()]
        evenness = -sum(p * math.log(p) for p in shares) / math.log(len(speakers))
    else:
        evenness = 0.0 if speakers else None
    top_share = max(speakers.values()) / total if total else None
    one_sided = bool(speakers) and (len(speakers) == 1 or (top_share or 0) >= ONE_SIDED_SHARE)
    return {
        "quote_share": round(quoted / (len(sentences) or 1), 4),
        "sources": [{"name": name, "quotes": count, "example": evidence.get(name, "")}
                    for name, count in speakers.most_common()],
        "source_count": len(speakers),
        "quote_evenness": None if evenness is None else round(evenness, 4),
        "top_source_share": None if top_share is None else round(top_share, 4),
        "one_sided": one_sided,
    }


def _speakers(sentence: str) -> list[str]:
    found = []
    for pattern in _SPEAKER_PATTERNS:
        for match in pattern.finditer(sentence):
            name = match.group(1).strip()
            name = re.sub(r"^(?:Mr|Mrs|Ms|Dr|Prof)\.?\s+", "", name)
            if name and name.split()[0] not in _NOT_SPEAKERS and name not in found:
                found.append(name)
    return found


def _merge_surnames(speakers: Counter[str]) -> Counter[str]:
    """'Smith' counts for 'John Smith' when exactly one full name ends with it."""
    merged: Counter[str] = Counter()
    for name, count in speakers.items():
        fuller = [other for other in speakers if other != name and other.endswith(" " + name)]
        merged[fuller[0] if len(fuller) == 1 else name] += count
    return merged
