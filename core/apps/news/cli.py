"""`python -m core news ...`: summaries from a terminal (no stores needed for `summarize`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.cli_groups import command_group


def register(subparsers) -> None:
    commands = command_group(subparsers, "news", help="News app: summaries.", description="News app commands.")
    summarize = commands.add_parser(
        "summarize", help="Summarize a JSONL file of {id, text[, sentences]} lines.",
        description="Each input line is {\"id\", \"text\"} with an optional \"sentences\" (summary length); each "
                    "output line is {\"id\", \"summary\", \"method\", \"indices\"}, the summary's sentences joined "
                    "by newlines in reading order. Local method only: nothing leaves the machine.")
    summarize.add_argument("input", type=Path)
    summarize.add_argument("--out", type=Path, required=True)
    summarize.add_argument("--sentences", type=int, default=None,
                           help="summary length when a line has no 'sentences' (default: a quarter, 1..5)")
    summarize.add_argument("--language", default=None, help="ISO 639-1 code; default: detected per text")
    summarize.set_defaults(handler=_cmd_summarize)


def _cmd_summarize(args: argparse.Namespace) -> int:
    from core.apps.news.language import detect_language
    from core.apps.news.summarize import summarize

    if not args.input.is_file():
        print(f"error: no such file: {args.input}", file=sys.stderr)
        return 2
    written = bad = 0
    with args.input.open(encoding="utf-8") as source, args.out.open("w", encoding="utf-8") as out:
        for number, line in enumerate(source, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text = row["text"] if isinstance(row.get("text"), str) else ""
                count = row.get("sentences", args.sentences)
                count = int(count) if count is not None else None
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                print(f"line {number}: skipped ({exc.__class__.__name__}: {exc})", file=sys.stderr)
                bad += 1
                continue
            language = args.language or detect_language(text)
            summary = summarize(text, count, language=language)
            out.write(json.dumps({"id": row.get("id"), "summary": summary.text, "method": summary.method,
                                  "indices": summary.indices, "language": language}, ensure_ascii=False) + "\n")
            written += 1
    print(f"Summarized {written} text(s) into {args.out}" + (f"; {bad} line(s) skipped" if bad else ""))
    return 0 if written or not bad else 1
