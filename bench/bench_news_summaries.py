"""ROUGE of the local news summarizer against the TextRank + position baseline.

    .venv/bin/python bench/bench_news_summaries.py ../shared/benchdata/summaries-dev.jsonl [--halves]

Each line of the file is `{id, topic, article, summary}`; the summary is one reference sentence a line, and
each method is asked for that many sentences (the usual protocol for this set). Scores are ROUGE-1, ROUGE-2
and ROUGE-Lsum F1 from the `rouge-score` package with stemming on (ROUGE-Lsum because summaries are
multi-sentence and the reference's sentence order is not the article's). `--halves` also prints each
method on the two halves of the file (ids sorted), a check that a change helps everywhere rather than
on a lucky subset. The data is read from the given path, never copied into the project.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rouge_score import rouge_scorer

from core.apps.news.summarize import summarize, textrank_summary

METRICS = ("rouge1", "rouge2", "rougeLsum")


def lead_summary(text: str, n: int):
    from core.apps.news.summarize import article_parts

    _, body = article_parts(text)
    return "\n".join(s.text for s in body[:n])


METHODS = {
    "lead-N": lead_summary,
    "textrank+position (baseline)": lambda text, n: textrank_summary(text, n).text,
    "salience (ours)": lambda text, n: summarize(text, n).text,
}


def evaluate(rows: list[dict], method) -> dict:
    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)  # Lsum splits on newlines
    totals = dict.fromkeys(METRICS, 0.0)
    started = time.perf_counter()
    predictions = [method(row["article"], len(row["summary"].strip().splitlines())) for row in rows]
    elapsed = time.perf_counter() - started
    for row, prediction in zip(rows, predictions, strict=True):
        scores = scorer.score(row["summary"], prediction)
        for metric in METRICS:
            totals[metric] += scores[metric].fmeasure
    result = {metric: totals[metric] / len(rows) for metric in METRICS}
    result["articles_per_s"] = len(rows) / elapsed if elapsed else float("inf")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="summaries-dev.jsonl (from ../shared/benchdata/)")
    parser.add_argument("--halves", action="store_true", help="also score the two halves separately")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows.sort(key=lambda row: row["id"])
    sets = {"all": rows}
    if args.halves:
        sets["half A"], sets["half B"] = rows[0::2], rows[1::2]
    print(f"{len(rows)} articles; ROUGE F1, stemming on, summary length = reference sentence count")
    print(f"{'set':8} {'method':32} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-Lsum':>10} {'art/s':>8}")
    for set_name, subset in sets.items():
        for name, method in METHODS.items():
            r = evaluate(subset, method)
            print(f"{set_name:8} {name:32} {r['rouge1']:8.4f} {r['rouge2']:8.4f} {r['rougeLsum']:10.4f} "
                  f"{r['articles_per_s']:8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
