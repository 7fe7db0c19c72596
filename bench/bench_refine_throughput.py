"""Throughput of file-mode refine: generated ~3 KB documents end to end with the default text recipe.

Generates N documents (mixed languages, ~5% exact or near copies, ~5% with e-mail addresses or phone
numbers), runs refine_file with 2 worker processes in a fresh process and prints documents per second,
the peak memory of that process plus its workers (summed RSS sampled from /proc: the workers are
children of the fork server, which getrusage(RUSAGE_CHILDREN) only sees once they are reaped), and the
time to re-apply changed thresholds to the cached signals.

With --real DIR (e.g. ../shared/benchdata) the documents are made of real sentences instead: the
sentences of topics-dev.csv and summaries-dev.jsonl, shuffled into ~3 KB documents of 3-6 paragraphs, with
the same shares of copies and contact lines (the set is read where it is, nothing is copied).

    python bench/bench_refine_throughput.py [--n 100000] [--workers 2] [--families] [--real DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from core.refine.pipeline import BatchTask, normalize_items, run_batch
from core.refine.recipe import default_recipe, recipe_from_yaml
from core.refine.rules import evaluate
from core.refine.signals.base import SignalParams
from core.refine.signals.families import default_registry

# Frequent words per language (function words first): enough for language identification and for the
# stop-word and word-length heuristics to see ordinary prose.
VOCABULARY = {
    "en": "the of and to in is that for it as was with on by are this from at be have not but which their "
    "market city report government people year company new local said would could after council "
    "plan public water school energy price growth between during research health system data team",
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an "
    "stadt bericht regierung menschen jahr unternehmen neue markt preis wasser schule energie "
    "forschung gesundheit system daten mannschaft zwischen während wachstum öffentlich",
    "fr": "le de la et les des en un du une que est pour qui dans par sur pas plus avec ne ville rapport "
    "gouvernement personnes année entreprise nouveau marché prix eau école énergie recherche "
    "santé système données équipe entre pendant croissance publique",
    "es": "de la que el en y a los del se las por un para con no una su al es lo ciudad informe gobierno "
    "personas año empresa nuevo mercado precio agua escuela energía investigación salud sistema "
    "datos equipo entre durante crecimiento público",
    "ru": "и в не на что с он по как это из но за то от к для так же все она был город отчет "
    "правительство люди год компания новый рынок цена вода школа энергия исследование здоровье "
    "система данные команда между время рост",
    "it": "di e il la che in un per è del non una con si sono da al gli lo ma città rapporto governo "
    "persone anno azienda nuovo mercato prezzo acqua scuola energia ricerca salute sistema dati "
    "squadra tra durante crescita pubblico",
}
LANGUAGE_SHARES = {"en": 0.5, "de": 0.12, "fr": 0.1, "es": 0.1, "ru": 0.1, "it": 0.08}
TARGET_CHARS = 3000


def _prose(rng: np.random.Generator, words: np.ndarray, weights: np.ndarray) -> str:
    """About TARGET_CHARS of sentences (8-21 words) in paragraphs (3-6 sentences); one draw per document."""
    drawn = rng.choice(words, size=TARGET_CHARS // 4, p=weights).tolist()
    sentence_lengths = rng.integers(8, 22, size=len(drawn) // 8)
    paragraph_sizes = rng.integers(3, 7, size=len(sentence_lengths))
    sentences, start = [], 0
    for length in sentence_lengths:
        if start + length > len(drawn):
            break
        sentences.append(" ".join(drawn[start : start + length]).capitalize() + ".")
        start += length
    paragraphs, start = [], 0
    for size in paragraph_sizes:
        if start >= len(sentences):
            break
        paragraphs.append(" ".join(sentences[start : start + size]))
        start += size
    return "\n\n".join(paragraphs)


def real_sentences(benchdata: Path) -> np.ndarray:
    """Every sentence (>= 20 chars) of the BBC articles and summaries under benchdata."""
    texts = []
    with open(benchdata / "topics-dev.csv", encoding="utf-8", newline="") as handle:
        texts += [row["text"] for row in csv.DictReader(handle)]
    with open(benchdata / "summaries-dev.jsonl", encoding="utf-8") as handle:
        texts += [json.loads(line)["article"] for line in handle if line.strip()]
    sentences = [s.strip() for t in texts for s in re.split(r"(?<=[.!?])\s+|\n+", t)]
    return np.array([s for s in sentences if len(s) >= 20], dtype=object)


def _real_prose(rng: np.random.Generator, sentences: np.ndarray) -> str:
    """About TARGET_CHARS of real sentences drawn at random, in paragraphs of 3-6 sentences."""
    drawn = sentences[rng.integers(len(sentences), size=TARGET_CHARS // 60)].tolist()
    paragraphs, start, length = [], 0, 0
    while start < len(drawn) and length < TARGET_CHARS:
        size = int(rng.integers(3, 7))
        paragraph = " ".join(drawn[start : start + size])
        paragraphs.append(paragraph)
        start, length = start + size, length + len(paragraph)
    return "\n\n".join(paragraphs)


def generate_documents(n: int, seed: int = 0, sentences: np.ndarray | None = None) -> list[dict]:
    """n documents: generated words, or real sentences when `sentences` is given; ~5% copies either way."""
    rng = np.random.default_rng(seed)
    vocab = {lang: np.array(text.split()) for lang, text in VOCABULARY.items()}
    # Zipf-like weights: function words (listed first) are the most frequent, as in real text.
    weights = {lang: (w := 1 / np.arange(1, len(v) + 1) ** 0.9) / w.sum() for lang, v in vocab.items()}
    languages = rng.choice(list(LANGUAGE_SHARES), size=n, p=list(LANGUAGE_SHARES.values()))
    documents: list[dict] = []
    for i in range(n):
        roll = rng.random()
        if documents and roll < 0.03:  # exact copy of an earlier document
            text = documents[rng.integers(len(documents))]["text"]
        elif documents and roll < 0.05:  # near copy: a credit line and a footer added
            original = documents[rng.integers(len(documents))]["text"]
            text = f"Via partner site.\n\n{original}\n\nAll rights reserved."
        else:
            text = (
                _real_prose(rng, sentences)
                if sentences is not None
                else _prose(rng, vocab[languages[i]], weights[languages[i]])
            )
            if rng.random() < 0.05:
                text += f"\n\nContact: reporter{i}@example.com or +44 20 7946 {i % 10000:04d}."
        documents.append({"id": f"doc-{i:07d}", "text": text})
    return documents


class PeakMemorySampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants every `interval` seconds, and the CPU
    time each of them has used (workers are not reaped by us, so getrusage would miss them)."""

    def __init__(self, root_pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.root_pid, self.interval, self.peak_bytes, self._halt = root_pid, interval, 0, threading.Event()
        self.cpu_ticks: dict[int, int] = {}

    def cpu_seconds(self) -> float:
        return sum(self.cpu_ticks.values()) / os.sysconf("SC_CLK_TCK")

    def _tree_rss(self, root: int) -> int:
        children: dict[int, list[int]] = {}
        rss: dict[int, int] = {}
        cpu: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(entry), int(fields[1])
            children.setdefault(ppid, []).append(pid)
            rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
            cpu[pid] = int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
        total, stack = 0, [root]
        while stack:
            pid = stack.pop()
            total += rss.get(pid, 0)
            self.cpu_ticks[pid] = max(self.cpu_ticks.get(pid, 0), cpu.get(pid, 0))
            stack.extend(children.get(pid, []))
        return total

    def run(self):
        while not self._halt.is_set():
            self.peak_bytes = max(self.peak_bytes, self._tree_rss(self.root_pid))
            self._halt.wait(self.interval)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak_bytes


def family_costs(documents: list[dict], batch: int = 2000) -> None:
    """Per-family cost on one in-process batch (where the CPU goes; run before optimising)."""
    items = normalize_items(pd.DataFrame(documents[:batch]))
    registry = default_registry()
    params = SignalParams()
    run_batch(BatchTask(items.iloc[:50], registry.names(), params, registry))  # warm up lazy models
    upstream = pd.DataFrame(index=items.index)
    for family in registry.ordered():
        started = time.perf_counter()
        result = family.compute(items, params, upstream)
        elapsed = time.perf_counter() - started
        upstream = pd.concat([upstream, result], axis=1)
        print(f"  {family.name:<14} {elapsed / len(items) * 1e6:8.0f} us/doc")


def run_refine_in_child(source: Path, out_dir: Path, workers: int) -> tuple[float, dict, int]:
    """refine_file in a fresh process, so its memory is not mixed with the generator's:
    (seconds, summary, peak summed RSS of that process and its workers)."""
    code = (
        "import json, sys;"
        "from core.refine.filemode import refine_file;"
        "print(json.dumps(refine_file(sys.argv[1], sys.argv[2], workers=int(sys.argv[3]))))"
    )
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(source), str(out_dir), str(workers)],
        stdout=subprocess.PIPE,
        text=True,
    )
    sampler = PeakMemorySampler(child.pid)
    sampler.start()
    output, _ = child.communicate()
    elapsed = time.perf_counter() - started
    peak = sampler.stop()
    if child.returncode != 0:
        raise SystemExit(f"refine failed with exit code {child.returncode}")
    summary = json.loads(output.strip().splitlines()[-1])
    summary["cpu_s"] = sampler.cpu_seconds()  # up to the last sample, 0.2 s before the end at most
    return elapsed, summary, peak


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000, help="documents to generate (default 100,000)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--families", action="store_true", help="also print per-family cost on one batch")
    parser.add_argument("--real", type=Path, default=None, metavar="BENCHDATA",
                        help="documents of real sentences from this benchdata directory")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the input and outputs here")
    args = parser.parse_args()

    started = time.perf_counter()
    sentences = real_sentences(args.real) if args.real else None
    documents = generate_documents(args.n, sentences=sentences)
    kind = f"real-sentence ({len(sentences):,} sentences)" if sentences is not None else "generated"
    print(
        f"Generated {kind} {len(documents):,} documents, mean {np.mean([len(d['text']) for d in documents]):,.0f} "
        f"chars, in {time.perf_counter() - started:.1f} s"
    )
    if args.families:
        print("Per-family cost, one batch in-process:")
        family_costs(documents)
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        source = workdir / "docs.jsonl"
        with open(source, "w", encoding="utf-8") as handle:
            for document in documents:
                handle.write(json.dumps(document, ensure_ascii=False) + "\n")
        del documents
        elapsed, summary, peak_tree = run_refine_in_child(source, workdir / "out", args.workers)
        items = summary["counts"]["items"]
        print(
            f"refine_file, {args.workers} workers, text recipe: {items:,} docs in {elapsed:.1f} s = "
            f"{items / elapsed:,.0f} docs/s (target >= 2,000)"
        )
        print(f"  timings: {summary['timings']}; load average {os.getloadavg()}")
        print(f"  CPU (refine process + fork server + workers, sampled): {summary['cpu_s']:.1f} s = "
              f"{summary['cpu_s'] / items * 1e3:.3f} ms/doc")
        print(f"  kept {summary['counts']['kept']:,}; drop reasons {summary['drop_reasons']}")
        children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        print(
            f"Peak memory, refine process + workers (sampled sum of RSS): {peak_tree / 2**30:.2f} GB "
            f"(target < 3 GB)"
        )
        print(f"  getrusage(RUSAGE_CHILDREN): largest reaped process {children_peak / 2**30:.2f} GB")
        elapsed, _, _ = run_refine_in_child(source, workdir / "out", args.workers)
        print(f"Re-run with every signal cached: {elapsed:.1f} s")

        signals = pd.read_parquet(workdir / "out" / "signals.parquet")
        changed = recipe_from_yaml(default_recipe("text").to_yaml().replace("min: 0.6", "min: 0.55"))
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            evaluate(signals, changed)
            timings.append(time.perf_counter() - started)
        print(
            f"Re-apply changed thresholds to {len(signals):,} cached signals (evaluate): "
            f"median {statistics.median(timings):.3f} s (target < 0.3 s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
