"""Topics for articles: the ML Lab classifier when a model is registered, unsupervised groups otherwise.

Unsupervised groups are formed per language (a German and an English article about the same event share
no words, and mixing them only makes labels unreadable), with TF-IDF over each language's content words
and k-means. Labels are each group's top three terms after removing that language's stop words and
news-wire filler (`label_stop_words`: the long per-language lists of the `stop-words` package), so a label
is never "hat / zum / zahlen"; the label is in the group's (dominant) language, prefixed by its code.
"""

from __future__ import annotations

import math

import numpy as np

from core.apps.news.textstats import content_words, label_stop_words, sublinear_tfidf

LABEL_TERMS = 3
MIN_LABEL_CHARS = 3
MAX_GROUPS_PER_LANGUAGE = 8


def topic_groups(texts: list[str], languages: list[str], seed: int = 0) -> tuple[list[str], dict[str, list[str]]]:
    """A topic label per text, and each label's terms. Same inputs and seed give the same labels."""
    labels = ["(empty)"] * len(texts)
    terms_of: dict[str, list[str]] = {}
    by_language: dict[str, list[int]] = {}
    for i, language in enumerate(languages):
        by_language.setdefault((language or "en")[:2], []).append(i)
    for language, members in sorted(by_language.items()):
        stops = label_stop_words(language)
        tokens = [[w for w in content_words(texts[i] or "", language, stops) if len(w) >= MIN_LABEL_CHARS]
                  for i in members]
        for position, (label, terms) in enumerate(_language_groups(tokens, language, seed)):
            labels[members[position]] = label
            terms_of[label] = terms
    return labels, terms_of


def _language_groups(tokens: list[list[str]], language: str, seed: int) -> list[tuple[str, list[str]]]:
    from sklearn.cluster import KMeans

    vocabulary = sorted({w for doc in tokens for w in doc})
    if not vocabulary:
        return [("(empty)", [])] * len(tokens)
    matrix = sublinear_tfidf(tokens, {w: i for i, w in enumerate(vocabulary)})
    distinct = len({tuple(np.round(row, 6)) for row in matrix})
    k = max(1, min(MAX_GROUPS_PER_LANGUAGE, distinct, round(math.sqrt(len(tokens) / 2))))
    assignment = np.zeros(len(tokens), dtype=int) if k == 1 else \
        KMeans(n_clusters=k, random_state=seed, n_init=10).fit_predict(matrix)
    result: list[tuple[str, list[str]] | None] = [None] * len(tokens)
    used: set[str] = set()
    for group in sorted(set(assignment.tolist())):
        rows = np.flatnonzero(assignment == group)
        # a term must be shared inside the group (df >= 2) when the group has several members
        weights = matrix[rows].mean(axis=0) * ((matrix[rows] > 0).sum(axis=0) >= min(2, len(rows)))
        order = [i for i in np.argsort(-weights, kind="stable") if weights[i] > 0][:LABEL_TERMS]
        terms = [vocabulary[i] for i in order] or ["misc"]
        label = f"{language}: " + " / ".join(terms)
        while label in used:
            label += "*"
        used.add(label)
        for row in rows:
            result[row] = (label, terms)
    return result  # type: ignore[return-value]


def classify_topics(principal, texts: list[str], languages: list[str],
                    model_name: str | None = None) -> tuple[list[str], dict]:
    """Topic labels from the ML Lab model `model_name` when one is registered; unsupervised groups otherwise.

    The hook for ML Lab: used only when `ml.registry` exists and can load the model for this principal;
    any failure (no ml package yet, unknown model, a model that cannot predict text) falls back to
    `topic_groups` and says why in the returned info.
    """
    if model_name:
        try:
            from ml import registry  # noqa: PLC0415 - optional: ML Lab may not be installed

            model = registry.load_model(principal, model_name)
            predicted = [str(label) for label in model.predict(list(texts))]
            return predicted, {"method": f"ml:{model_name}", "terms": {}}
        except Exception as exc:  # noqa: BLE001 - any ML failure means "use the local groups"
            fallback = f"ML model '{model_name}' not used: {exc.__class__.__name__}: {exc}"
        labels, terms = topic_groups(texts, languages)
        return labels, {"method": "unsupervised-kmeans", "terms": terms, "fallback_reason": fallback}
    labels, terms = topic_groups(texts, languages)
    return labels, {"method": "unsupervised-kmeans", "terms": terms}
