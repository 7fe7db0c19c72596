"""Sentiment (tone) of an article, with the sentences and words that decided it.

English: VADER (vaderSentiment ships its lexicon and rules: negation, intensifiers, "but"), scored per
sentence; the article's score is the mean sentence compound, so one angry quote does not set the tone of
a long report. Evidence: the most positive and most negative sentences and their lexicon words.

Other languages: VADER's lexicon is English, and running it on German or French would mostly read
"neutral" (it knows none of the words) or, worse, misread English look-alikes. So for de, fr, es, it and nl
a small built-in polarity word list is used instead (method `lexicon-small-<lang>`, confidence "low"),
with the same evidence; other languages get tone "unknown" rather than a number that means nothing.
"""

from __future__ import annotations

import functools
import re

from core.apps.news.sentences import split_sentences
from core.apps.news.textstats import words

POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05
EVIDENCE_SENTENCES = 3

_SMALL_LEXICONS = {
    "de": ("gut gute guten besser beste erfolg erfolgreich gewinn gewinne wachstum stark starke positiv freude "
           "lob gelobt sicher rekord verbessert verbesserung hoffnung einigung fortschritt",
           "schlecht schlechte schlechter verlust verluste krise streit angst kritik kritisiert scheitern "
           "gescheitert schwach schwache negativ gefahr gefährlich tot tote opfer skandal einbruch sorge sorgen"),
    "fr": ("bon bonne meilleur succès réussite gain gains croissance fort forte positif joie progrès accord "
           "record amélioration espoir sûr",
           "mauvais mauvaise pire perte pertes crise conflit peur critique échec faible négatif danger "
           "dangereux mort morts victimes scandale chute inquiétude"),
    "es": ("bueno buena mejor éxito ganancia ganancias crecimiento fuerte positivo alegría progreso acuerdo "
           "récord mejora esperanza seguro",
           "malo mala peor pérdida pérdidas crisis conflicto miedo crítica fracaso débil negativo peligro "
           "peligroso muerto muertos víctimas escándalo caída preocupación"),
    "it": ("buono buona migliore successo guadagno crescita forte positivo gioia progresso accordo record "
           "miglioramento speranza sicuro",
           "cattivo cattiva peggiore perdita perdite crisi conflitto paura critica fallimento debole negativo "
           "pericolo pericoloso morto morti vittime scandalo calo preoccupazione"),
    "nl": ("goed goede beter beste succes winst groei sterk positief vreugde vooruitgang akkoord record "
           "verbetering hoop veilig",
           "slecht slechte slechter verlies verliezen crisis conflict angst kritiek mislukking zwak negatief "
           "gevaar gevaarlijk dood doden slachtoffers schandaal daling zorgen"),
}
SMALL_LEXICONS = {lang: (frozenset(pos.split()), frozenset(neg.split()))
                  for lang, (pos, neg) in _SMALL_LEXICONS.items()}


@functools.lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def tone_of(compound: float | None) -> str:
    if compound is None:
        return "unknown"
    return "positive" if compound >= POSITIVE_AT else "negative" if compound <= NEGATIVE_AT else "neutral"


def sentiment(text: str, language: str | None = "en", sentences: list[str] | None = None) -> dict:
    """{compound, tone, method, confidence, positive: [evidence], negative: [evidence]}.

    Each evidence item is {"sentence", "score", "words"}: the sentence and the lexicon words in it.
    """
    language = (language or "en")[:2]
    sentences = sentences if sentences is not None else split_sentences(text)
    if language == "en":
        scored = [(s, *_vader_sentence(s)) for s in sentences]
        method, confidence = "vader", "normal"
    elif language in SMALL_LEXICONS:
        scored = [(s, *_small_sentence(s, language)) for s in sentences]
        method, confidence = f"lexicon-small-{language}", "low"
    else:
        return {"compound": None, "tone": "unknown", "method": "none", "confidence": "none",
                "positive": [], "negative": [],
                "note": f"No sentiment lexicon for language '{language}'; tone is not estimated."}
    if not scored:
        return {"compound": 0.0, "tone": "neutral", "method": method, "confidence": confidence,
                "positive": [], "negative": []}
    compound = sum(score for _, score, _ in scored) / len(scored)
    ranked = sorted(scored, key=lambda item: item[1])
    negative = [_evidence(s, v, w) for s, v, w in ranked if v <= NEGATIVE_AT][:EVIDENCE_SENTENCES]
    positive = [_evidence(s, v, w) for s, v, w in reversed(ranked) if v >= POSITIVE_AT][:EVIDENCE_SENTENCES]
    return {"compound": round(compound, 4), "tone": tone_of(compound), "method": method, "confidence": confidence,
            "positive": positive, "negative": negative}


def _evidence(sentence: str, score: float, lexicon_words: list[str]) -> dict:
    return {"sentence": sentence, "score": round(score, 4), "words": lexicon_words}


def _vader_sentence(sentence: str) -> tuple[float, list[str]]:
    analyzer = _vader()
    compound = analyzer.polarity_scores(sentence)["compound"]
    found = [w for w in re.findall(r"[\w']+", sentence.lower()) if w in analyzer.lexicon]
    return compound, list(dict.fromkeys(found))


def _small_sentence(sentence: str, language: str) -> tuple[float, list[str]]:
    positive, negative = SMALL_LEXICONS[language]
    tokens = words(sentence)
    pos = [w for w in tokens if w in positive]
    neg = [w for w in tokens if w in negative]
    if not pos and not neg:
        return 0.0, []
    # the same squashing VADER uses for its compound: x / sqrt(x^2 + 15)
    raw = float(len(pos) - len(neg))
    return raw / (raw * raw + 15) ** 0.5, list(dict.fromkeys(pos + neg))
