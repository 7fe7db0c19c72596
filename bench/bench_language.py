"""Language identification on single sentences: accuracy per language and sentences per second.

Sentences: the example sentences spaCy ships for each language (`spacy/lang/<code>/examples.py`, MIT licence,
written by native speakers for spaCy's docs and tests). They are read from the installed package's files
with `ast`, so spaCy is never imported and nothing is downloaded. spaCy is a bench-only dependency:
`pip install spacy==3.8.18`.

Also times language_signals on a batch of generated ~3 KB documents (bench_refine_throughput's generator),
the cost it adds to every refined document. `--system-sentences` adds a larger check that no tuning has
seen: short sentences from this machine's translations (gettext catalogs under /usr/share/locale, manual
pages under /usr/share/man, rendered with groff); its figures depend on what the machine has installed.

Run: python3 bench/bench_language.py [--seconds 3] [--min-sentences 1] [--documents 2000] [--system-sentences]
"""

from __future__ import annotations

import argparse
import ast
import gettext
import gzip
import importlib.util
import random
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from core.refine.signals.language import (
    SAMPLE_CHARS,
    TIE_BREAK_BELOW,
    detect_language,
    detect_languages,
    dominant_script,
    language_signals,
    supported_languages,
    tie_break_languages,
)

ROOT = Path(__file__).resolve().parent.parent

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


# Locales whose text is not the plain language their code names (a variant script, a regional standard).
SKIPPED_LOCALES = ("pt_BR", "zh_TW", "zh_HK")
SYSTEM_SENTENCES_PER_LANGUAGE = 60
# printf and format placeholders, markup, and the underscore that marks a menu accelerator
_FORMAT_PLACEHOLDER = re.compile(
    r"%[-+ #0]*\d*(?:\.\d+)?[hlLqjzt]*[diouxXeEfgGcrsaAp%]|%\(\w+\)[sd]|\{[^}]*\}|<[^>]+>|_")
_NOT_PROSE = re.compile(r"[/\\=<>@_\[\]{}|]|--|\bhttps?\b")
_WORD = re.compile(r"\w+")


def _is_prose(sentence: str) -> bool:
    """A sentence of words: 20-200 characters, 3+ words, mostly letters, no paths, options or markup."""
    letters = sum(character.isalpha() for character in sentence)
    return (20 <= len(sentence) <= 200 and len(sentence.split()) >= 3
            and letters >= 0.75 * len(sentence.replace(" ", "")) and not _NOT_PROSE.search(sentence))


def _catalog_sentences(path: Path) -> set[str]:
    """Translated messages of one gettext catalog (untranslated ones, equal to their English id, left out)."""
    try:
        with path.open("rb") as handle:
            catalog = gettext.GNUTranslations(handle)._catalog
    except Exception:  # noqa: BLE001 - gettext fails on some malformed headers in many ways; skip that file
        return set()
    messages = (" ".join(_FORMAT_PLACEHOLDER.sub(" ", text).split())
                for source, text in catalog.items() if isinstance(source, str) and source and text != source)
    return {message for message in messages if _is_prose(message)}


def _manual_sentences(path: Path) -> set[str]:
    """Sentences of one manual page's paragraphs, rendered to plain text by groff."""
    with gzip.open(path, "rb") as handle:
        source = handle.read()
    rendered = subprocess.run(["groff", "-man", "-Tutf8", "-rLL=2000n", "-P", "-cbou", "-Kutf8"], input=source,
                              capture_output=True, check=False).stdout.decode("utf-8", errors="replace")
    # body text is indented; a blank or unindented line (a heading) ends a paragraph
    paragraphs = re.split(r"\n(?! {7}\S)", rendered)
    sentences = set()
    for paragraph in paragraphs:
        text = " ".join(paragraph.split())
        sentences.update(s for s in re.split(r"(?<=[.!?。])\s+", text) if _is_prose(s))
    return sentences


def system_sentences(supported: set[str]) -> dict[str, list[str]]:
    """{language code: up to SYSTEM_SENTENCES_PER_LANGUAGE sentences} from this machine's translations.

    Catalog messages and manual pages in a language, less anything that is also in the English pages (left
    untranslated) and, for Latin-script languages, sentences whose words are mostly English ones.
    """
    found: dict[str, set[str]] = {}
    english: set[str] = set()
    for path in sorted(Path("/usr/share/locale").glob("*/LC_MESSAGES/*.mo")):
        locale = path.parent.parent.name
        code = EXPECTED_CODE.get(locale.split("_")[0], locale.split("_")[0])
        if "@" not in locale and locale not in SKIPPED_LOCALES and code in supported:
            found.setdefault(code, set()).update(_catalog_sentences(path))
    if shutil.which("groff"):
        for path in sorted(Path("/usr/share/man").glob("*/man*/*.gz")):
            locale = path.parent.parent.name
            code = EXPECTED_CODE.get(locale.split("_")[0], locale.split("_")[0])
            if locale.startswith("man") or locale in SKIPPED_LOCALES or code not in supported:
                continue
            found.setdefault(code, set()).update(_manual_sentences(path))
            original = Path("/usr/share/man") / path.parent.name / path.name
            if original.exists():
                english.update(_manual_sentences(original))
    english_words = {word.lower() for sentence in english for word in _WORD.findall(sentence)}
    chosen = {}
    for code, sentences in sorted(found.items()):
        kept = []
        for sentence in sorted(sentences - english):
            words = [word.lower() for word in _WORD.findall(sentence)]
            mostly_english = sum(word in english_words for word in words) >= 0.5 * len(words)
            if code == "en" or dominant_script(sentence) != "Latin" or not mostly_english:
                kept.append(sentence)
        if len(kept) >= 15:  # fewer is a stray file, not a language's translation
            chosen[code] = random.Random(0).sample(kept, min(SYSTEM_SENTENCES_PER_LANGUAGE, len(kept)))
    return chosen


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


def microseconds_per_document(n: int, repeats: int = 5) -> tuple[float, float]:
    """(us per document, mean characters) of language_signals on one batch of n generated documents, best of."""
    from bench_refine_throughput import generate_documents  # imports the refine pipeline: only when timed

    texts = pd.Series([document["text"] for document in generate_documents(n)])
    language_signals(texts)  # warm
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        language_signals(texts)
        best = min(best, time.perf_counter() - started)
    return best / n * 1e6, float(texts.str.len().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to run the speed loop")
    parser.add_argument("--min-sentences", type=int, default=1, help="skip languages with fewer sentences")
    parser.add_argument("--documents", type=int, default=2000, help="batch of generated documents to time (0: skip)")
    parser.add_argument("--system-sentences", action="store_true",
                        help="also measure on sentences from this machine's translations (~1 min)")
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
    covered = print_accuracy("hybrid, languages lingua also knows", hybrid, lingua_languages)
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

    if args.system_sentences:
        extra = [(code, sentence) for code, sentences in system_sentences(supported).items() for sentence in sentences]
        hybrid_answers = detect_languages([sentence for _, sentence in extra])
        alone_answers = detect_languages([sentence for _, sentence in extra], tie_break_below=0.0)
        for title, answers in (("hybrid", hybrid_answers), ("py3langid alone", alone_answers)):
            right = sum(answer[0] == expected for (expected, _), answer in zip(extra, answers, strict=True))
            print(f"system sentences, {title}: {right}/{len(extra)} = {right / len(extra):.1%} over "
                  f"{len({code for code, _ in extra})} languages")

    rate, cpu_rate = sentences_per_second([sentence for _, sentence in cases], args.seconds)
    print(f"\nspeed: {rate:,.0f} sentences/s wall, {cpu_rate:,.0f} per CPU second "
          "(one process, language_signals over all sentences, warm)")
    if args.documents:
        cost, chars = microseconds_per_document(args.documents)
        print(f"documents: {cost:.1f} us per document (language_signals on one batch of {args.documents:,} "
              f"generated documents of {chars:,.0f} characters on average, best of 5)")
    # The target asks for 97% across 25+ languages; it is judged here on the languages both detectors know
    # (the full hybrid), and the all-language figure, with languages only py3langid knows, is shown beside it.
    def verdict(met: bool) -> str:
        return "met" if met else "NOT met"

    print(f"targets: accuracy >= {TARGET_ACCURACY:.0%} across 25+ languages -> "
          f"{verdict(covered >= TARGET_ACCURACY and len(lingua_languages) >= 25)} on the {len(lingua_languages)} "
          f"languages both detectors know ({covered:.1%}); {verdict(overall >= TARGET_ACCURACY)} over all "
          f"{len(languages)} ({overall:.1%}); speed >= {TARGET_RATE:,}/s -> {verdict(rate >= TARGET_RATE)}")


if __name__ == "__main__":
    main()
