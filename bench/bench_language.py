"""Language identification on single sentences: accuracy per language and sentences per second.

Sentences: the example sentences spaCy ships for each language (`spacy/lang/<code>/examples.py`, MIT licence,
written by native speakers for spaCy's docs and tests). They are read from the installed package's files
with `ast`, so spaCy is never imported and nothing is downloaded. spaCy is a bench-only dependency:
`pip install spacy==3.8.18`.

Run: python3 bench/bench_language.py [--seconds 3] [--min-sentences 1]
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from core.refine.signals.language import (  # noqa: E402
    SAMPLE_CHARS,
    TIE_BREAK_BELOW,
    detect_language,
    language_signals,
    supported_languages,
    tie_break_languages,
)

# spaCy codes that name the same language under another code in our output.
EXPECTED_CODE = {"nb": "no"}
TARGET_ACCURACY = 0.97
TARGET_RATE = 3000


def spacy_example_sentences() -> dict[str, list[str]]:
    """{language code: sentences} from the installed spaCy package, without importing it."""
    spec = importlib.util.find_spec("spacy")
    if spec is None or spec.origin is None:
        sys.exit("spaCy is not installed: pip install spacy==3.8.18 (bench-only; it ships the sentences)")
    sentences = {}
    for path in sorted((Path(spec.origin).parent / "lang").glob("*/examples.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = [getattr(target, "id", None) for target in getattr(node, "targets", [])]
            if isinstance(node, ast.Assign) and "sentences" in targets:
                sentences[path.parent.name] = [s.strip() for s in ast.literal_eval(node.value) if s.strip()]
    sentences.pop("xx", None)  # spaCy's multi-language bucket has no single expected answer
    return sentences


def accuracy_by_language(cases: list[tuple[str, str]], tie_break_below: float) -> dict[str, list[int]]:
    hits: dict[str, list[int]] = {}
    for expected, sentence in cases:
        language = detect_language(sentence, tie_break_below=tie_break_below)[0]
        hits.setdefault(expected, [0, 0])
        hits[expected][0] += language == expected
        hits[expected][1] += 1
    return hits


def print_accuracy(title: str, hits: dict[str, list[int]], languages: list[str]) -> float:
    right = sum(hits[code][0] for code in languages)
    total = sum(hits[code][1] for code in languages)
    print(f"{title}: {right}/{total} = {right / total:.1%} over {len(languages)} languages")
    return right / total


def _sentences_by_expected(cases: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for expected, sentence in cases:
        grouped.setdefault(expected, []).append(sentence)
    return grouped


def sentences_per_second(sentences: list[str], seconds: float) -> tuple[float, float]:
    """(per wall-clock second, per CPU second of this process): the machine is shared, so report both."""
    series = pd.Series(sentences)
    language_signals(series)  # warm: models loaded, lingua detectors built
    done, started, cpu_started = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        language_signals(series)
        done += len(sentences)
    return done / (time.perf_counter() - started), done / (time.process_time() - cpu_started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to run the speed loop")
    parser.add_argument("--min-sentences", type=int, default=1, help="skip languages with fewer sentences")
    args = parser.parse_args()

    started = time.perf_counter()
    detect_language("warm up the models")
    print(f"cold start (py3langid model load): {time.perf_counter() - started:.2f} s")

    by_language = spacy_example_sentences()
    supported = set(supported_languages())
    cases, skipped = [], []
    for code, sentences in by_language.items():
        expected = EXPECTED_CODE.get(code, code)
        if expected not in supported or len(sentences) < args.min_sentences:
            skipped.append(code)
            continue
        cases.extend((expected, sentence) for sentence in sentences)
    languages = sorted({expected for expected, _ in cases})
    print(f"{len(cases)} sentences in {len(languages)} languages; not identifiable here (skipped): "
          f"{', '.join(sorted(skipped))}")

    hybrid = accuracy_by_language(cases, TIE_BREAK_BELOW)
    baseline = accuracy_by_language(cases, 0.0)
    print(f"\n{'lang':<5}{'n':>4}{'hybrid':>9}{'py3langid':>11}")
    for code in languages:
        right, total = hybrid[code]
        print(f"{code:<5}{total:>4}{right / total:>9.0%}{baseline[code][0] / total:>11.0%}")
    lingua_languages = [code for code in languages if code in tie_break_languages()]
    print()
    overall = print_accuracy("hybrid, all languages", hybrid, languages)
    print_accuracy("hybrid, languages lingua also knows", hybrid, lingua_languages)
    print_accuracy("py3langid alone, all languages", baseline, languages)
    answers = [(expected, detect_language(sentence)[0]) for expected, sentence in cases]
    confusions = Counter(pair for pair in answers if pair[0] != pair[1])
    print("most common confusions (expected -> got):",
          ", ".join(f"{a}->{b} x{n}" for (a, b), n in confusions.most_common(10)))

    documents = [(expected, " ".join(sentences[start:] + sentences[:start]))
                 for expected, sentences in _sentences_by_expected(cases).items() if len(sentences) >= 3
                 for start in range(len(sentences))]
    right = sum(detect_language(text)[0] == expected for expected, text in documents)
    print(f"documents (a language's sentences joined, {len(documents)} of them, sampled to "
          f"{SAMPLE_CHARS} chars): {right}/{len(documents)} = {right / len(documents):.1%}")

    rate, cpu_rate = sentences_per_second([sentence for _, sentence in cases], args.seconds)
    print(f"\nspeed: {rate:,.0f} sentences/s wall, {cpu_rate:,.0f} per CPU second "
          "(one process, language_signals over all sentences, warm)")
    accuracy_verdict = "met" if overall >= TARGET_ACCURACY else "NOT met"
    speed_verdict = "met" if rate >= TARGET_RATE else "NOT met"
    print(f"targets: accuracy >= {TARGET_ACCURACY:.0%} over all languages -> {accuracy_verdict}; "
          f"speed >= {TARGET_RATE:,}/s -> {speed_verdict}")


if __name__ == "__main__":
    main()
