"""News summaries: sentence splitting, the local summarizer's sanity and determinism, the CLI."""

import json
import subprocess
import sys

from conftest import PROJECT_ROOT

from core.apps.news.sentences import split_sentences
from core.apps.news.summarize import summarize, textrank_summary


def test_splitting_abbreviations_quotes_decimals_and_other_languages():
    assert split_sentences('Mr. Smith met Dr. Jones in the U.S. capital. "It is bad," he said. Growth was 0.1%... '
                           "in the third quarter. J. K. Rowling agreed.") == [
        "Mr. Smith met Dr. Jones in the U.S. capital.", '"It is bad," he said.',
        "Growth was 0.1%... in the third quarter.", "J. K. Rowling agreed."]
    assert split_sentences("Die Quote stieg am 3. Oktober um 2,5 Prozent, z.B. in Berlin. Was nun? Nichts!") == [
        "Die Quote stieg am 3. Oktober um 2,5 Prozent, z.B. in Berlin.", "Was nun?", "Nichts!"]
    assert split_sentences('He said "We will grow." Analysts disagreed.') == ['He said "We will grow."',
                                                                             "Analysts disagreed."]
    assert split_sentences("经济增长。今年很好！") == ["经济增长。", "今年很好！"]
    assert split_sentences("Headline without stop\n\nFirst. Second.") == ["Headline without stop", "First.",
                                                                         "Second."]


def test_empty_and_one_sentence_articles():
    assert summarize("").sentences == []
    assert summarize("   \n ").sentences == []
    assert summarize("Only one sentence here.").sentences == ["Only one sentence here."]
    assert textrank_summary("Only one sentence here.", 3).sentences == ["Only one sentence here."]


ARTICLE = """Tram network approved

The city council approved a new tram network for the north of the city on Monday.
The weather was mild and many people walked in the park.
The tram network will connect the north of the city with the central station by 2028.
A local bakery won a prize for its bread.
Council members said the tram network would cut car traffic in the north of the city.
"""


def test_summary_picks_the_sentences_about_the_story_in_reading_order_and_is_deterministic():
    summary = summarize(ARTICLE, 2)
    assert summary.title == "Tram network approved"
    assert all("tram" in s.lower() for s in summary.sentences)
    assert summary.indices == sorted(summary.indices)
    assert summarize(ARTICLE, 2).as_dict() == summary.as_dict()
    for sentence, (start, end) in zip(summary.sentences, summary.spans, strict=True):
        assert ARTICLE[start:end] == sentence


def test_cli_summarize_writes_one_line_per_input(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "text": ARTICLE, "sentences": 2}) + "\n"
                      + json.dumps({"id": "b", "text": "Kurzer Text. Noch ein Satz hier."}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    done = subprocess.run([sys.executable, "-m", "core", "news", "summarize", str(source), "--out", str(out),
                           "--sentences", "1"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert len(rows[0]["summary"].split("\n")) == 2
    assert len(rows[1]["summary"].split("\n")) == 1
