"""The batch pipeline (executors, cache, cross-batch clusters) and file-mode refine end to end."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import pytest

from core.refine.cache import SignalCache
from core.refine.cli import add_refine_arguments
from core.refine.executor import InProcessExecutor, ProcessPoolExecutor
from core.refine.filemode import refine_file, run_refine_file_cli
from core.refine.pipeline import compute_signals
from core.refine.signals.base import SignalFamily, SignalParams, SignalRegistry
from core.refine.signals.families import default_registry

ARTICLE = (
    "The regional council approved a plan on Monday to rebuild the old harbour bridge, which has been closed "
    "to heavy traffic since a storm damaged its supports two winters ago. Engineers expect the work to take "
    "eighteen months and to cost about forty million euros, most of it from a national infrastructure fund.\n"
    "Local shop owners welcomed the decision. Many of them said that the detour had cut the number of "
    "visitors in half and that several businesses had already closed their doors for good.\n"
    "The council will publish the full timetable next week, and residents can comment on the plans online "
    "or at a public meeting in the town hall at the end of the month."
)
OTHER = (
    "Scientists studying the northern lakes have found that the ice now melts almost three weeks earlier "
    "than it did fifty years ago. The team measured the thickness of the ice at dozens of sites every winter "
    "and compared the results with records kept by fishermen and ferry operators since the sixties.\n"
    "The earlier thaw changes when fish spawn and when birds arrive, the researchers said, and it shortens "
    "the season for the roads that are built across the frozen lakes each year to reach remote villages."
)
CONTRACT_COLUMNS = [
    "id",
    "language",
    "language_confidence",
    "exact_hash",
    "duplicate_cluster",
    "quality",
    "completeness",
    "clarity",
    "relevance",
    "validity",
    "pii_count",
]


def crafted_items() -> pd.DataFrame:
    rows = [
        {"id": "b-original", "text": ARTICLE},
        {"id": "a-copy", "text": ARTICLE.upper().replace(",", "")},  # exact after normalization
        {
            "id": "c-syndicated",
            "text": "Reprinted from the Harbour Gazette.\n" + ARTICLE + "\nAll rights reserved.",
        },
        {"id": "d-other", "text": OTHER + " Contact: jane.doe@example.com"},
        {"id": "e-empty", "text": ""},
        {"id": "f-empty", "text": ""},
        {
            "id": "g-listing",
            "text": "",
            "title": "Road bike, 54 cm frame",
            "data_type": "listing",
            "fields": {"price": "abc", "currency": "EUR"},
        },
    ]
    return pd.DataFrame(rows)


def test_signals_have_the_contract_columns_and_clusters():
    signals = compute_signals(crafted_items(), SignalParams(batch_size=3))
    assert set(CONTRACT_COLUMNS) <= set(signals.columns)
    clusters = dict(zip(signals["id"], signals["duplicate_cluster"], strict=True))
    assert clusters["b-original"] == clusters["a-copy"] == clusters["c-syndicated"] == "a-copy"
    assert clusters["d-other"] == "d-other"
    assert clusters["e-empty"] == "e-empty" and clusters["f-empty"] == "f-empty"  # empty texts are not copies
    row = signals.set_index("id")
    assert row.loc["d-other", "pii_count"] >= 1 and row.loc["b-original", "language"] == "en"
    assert "price_not_number" in row.loc["g-listing", "listing_field_errors"]
    assert (signals["signal_errors"] == "").all()


def test_process_pool_gives_the_same_signals_as_in_process():
    items = pd.concat([crafted_items()] * 2, ignore_index=True)
    items["id"] = [f"{i:03d}-{v}" for i, v in enumerate(items["id"])]
    params = SignalParams(batch_size=4)
    local = compute_signals(items, params, InProcessExecutor())
    with ProcessPoolExecutor(workers=2) as pool:
        pooled = compute_signals(items, params, pool)
    pd.testing.assert_frame_equal(local, pooled)


def _counting_registry(calls: list[int]) -> SignalRegistry:
    """The listing and quality families plus one that records how many rows it was asked for."""
    base = default_registry()

    def word_total(items, params, upstream):
        calls.append(len(items))
        return pd.DataFrame({"word_total": [len(t.split()) for t in items["text"]]}, index=items.index)

    return SignalRegistry(
        [
            base.get("listing"),
            base.get("quality"),
            SignalFamily("word_total", "1", word_total, ("word_total",)),
        ]
    )


def test_cache_skips_unchanged_items_and_recomputes_changed_ones(tmp_path):
    calls: list[int] = []
    registry = _counting_registry(calls)
    cache = SignalCache(tmp_path / "cache")
    items = crafted_items()
    first = compute_signals(items, SignalParams(topics=False), cache=cache, registry=registry)
    assert sum(calls) == len(items)
    calls.clear()
    second = compute_signals(items, SignalParams(topics=False), cache=cache, registry=registry)
    assert calls == []
    pd.testing.assert_frame_equal(first, second, check_dtype=False)
    items.loc[3, "text"] = OTHER + " Updated."
    third = compute_signals(items, SignalParams(topics=False), cache=cache, registry=registry)
    assert calls == [1]
    assert third.loc[3, "word_total"] == len((OTHER + " Updated.").split())
    # A changed parameter of a family is a new cache key: only that family is recomputed.
    calls.clear()
    compute_signals(
        items, SignalParams(topics=False, topic_keywords=("bridge",)), cache=cache, registry=registry
    )
    assert calls == []  # only the quality family (and the listing family it reads) ran again
    assert len(list((tmp_path / "cache").glob("quality-v*.parquet"))) == 1  # the old version was pruned


def test_cache_files_of_retired_families_are_deleted(tmp_path):
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    for stale in ("exact_hash-v1234abcd.parquet", "minhash-v1234abcd-0123456789.parquet"):
        (cache_dir / stale).write_bytes(b"left by an older version")
    compute_signals(crafted_items(), SignalParams(topics=False), cache=SignalCache(cache_dir))
    names = sorted(path.name.split("-v")[0] for path in cache_dir.glob("*.parquet"))
    assert "exact_hash" not in names and "minhash" not in names
    assert "duplicates" in names  # their successor, which computes both columns


def test_a_failing_row_costs_only_that_row():
    def fragile(items, params, upstream):
        if items["text"].str.contains("jane.doe").any():
            raise ValueError("cannot handle e-mail")
        return pd.DataFrame({"fragile": [1] * len(items)}, index=items.index)

    base = default_registry()
    registry = SignalRegistry(
        [base.get("listing"), base.get("quality"), SignalFamily("fragile", "1", fragile, ("fragile",))]
    )
    signals = compute_signals(crafted_items(), SignalParams(topics=False), registry=registry).set_index("id")
    assert signals.loc["d-other", "signal_errors"] == "fragile: ValueError: cannot handle e-mail"
    assert (signals.drop(index="d-other")["signal_errors"] == "").all()
    assert signals.drop(index="d-other")["fragile"].eq(1).all()


def test_duplicate_and_missing_ids_are_rejected():
    with pytest.raises(ValueError, match="duplicated item id"):
        compute_signals(pd.DataFrame({"id": ["a", "a"], "text": ["x", "y"]}))
    with pytest.raises(ValueError, match="without an id"):
        compute_signals(pd.DataFrame({"id": ["a", None], "text": ["x", "y"]}))


def write_jsonl(path: Path) -> Path:
    lines = [json.dumps({"id": f"doc{i}", "text": text}) for i, text in enumerate([ARTICLE, OTHER, ARTICLE])]
    lines.insert(1, "{not json")
    lines.append(json.dumps({"id": "doc0", "text": "same id again"}))
    lines.append(
        json.dumps(
            {"id": "listing1", "title": "Road bike", "price": 250, "currency": "EUR", "location": "Berlin"}
        )
    )
    lines.append(json.dumps(["an", "array"]))
    lines.append(json.dumps({"id": "nothing"}))
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    return path


def test_refine_file_reports_bad_lines_and_is_deterministic(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl")
    summary = refine_file(source, tmp_path / "out1")
    assert [b["line"] for b in summary["bad_lines"]] == [2, 5, 7, 8]
    assert "invalid JSON" in summary["bad_lines"][0]["error"]
    assert "duplicate id 'doc0' (first on line 1)" in summary["bad_lines"][1]["error"]
    assert summary["counts"] == {"lines": 8, "items": 4, "bad_lines": 4, "kept": 2, "dropped": 2}
    assert summary["drop_reasons"] == {"duplicate": 1, "min_length<200": 1}
    signals = pd.read_parquet(tmp_path / "out1" / "signals.parquet")
    assert signals["id"].tolist() == ["doc0", "doc1", "doc2", "listing1"]
    assert set(CONTRACT_COLUMNS) <= set(signals.columns)
    decisions = pd.read_parquet(tmp_path / "out1" / "decisions.parquet")
    assert decisions.columns.tolist() == ["id", "kept", "drop_reason"]
    written = json.loads((tmp_path / "out1" / "summary.json").read_text())
    assert written["recipe"]["hash"] == summary["recipe"]["hash"] and "total_s" in written["timings"]
    # Same input and recipe: identical outputs, whether signals come from the cache or are computed anew.
    refine_file(source, tmp_path / "out1")
    refine_file(source, tmp_path / "out2", use_cache=False)
    for name in ("signals.parquet", "decisions.parquet"):
        assert (tmp_path / "out1" / name).read_bytes() == (tmp_path / "out2" / name).read_bytes()
    second = json.loads((tmp_path / "out2" / "summary.json").read_text())
    assert {k: v for k, v in second.items() if k not in ("timings",)} == {
        k: v for k, v in written.items() if k not in ("timings",)
    }


def test_interrupted_refine_leaves_no_partial_output(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl")

    def interrupt(fraction, message):
        if message.startswith("Writing"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        refine_file(source, tmp_path / "out", progress=interrupt)
    leftovers = [p.name for p in (tmp_path / "out").iterdir() if p.is_file()]
    assert leftovers == []

    refine_file(source, tmp_path / "out")
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir() if p.is_file()}

    def fail_mid_batches(fraction, message):
        if message.startswith("Signals: batch"):
            raise RuntimeError("worker lost")

    with pytest.raises(RuntimeError, match="worker lost"):
        refine_file(source, tmp_path / "out", progress=fail_mid_batches, use_cache=False)
    after = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir() if p.is_file()}
    assert after == before  # the previous complete outputs survive, and no temporary is left


def test_cli_functions(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_refine_arguments(parser)
    source = write_jsonl(tmp_path / "in.jsonl")
    assert run_refine_file_cli(parser.parse_args([str(source), "--out", str(tmp_path / "o")])) == 0
    out = capsys.readouterr().out
    assert "kept 2, dropped 2" in out and "skipped line 2: invalid JSON" in out
    missing = parser.parse_args([str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o")])
    assert run_refine_file_cli(missing) == 2
    assert "cannot read" in capsys.readouterr().err
    bad_recipe = tmp_path / "bad.yaml"
    bad_recipe.write_text("name: x\nrules:\n  - shiny: 1\n")
    args = parser.parse_args([str(source), "--out", str(tmp_path / "o"), "--recipe", str(bad_recipe)])
    assert run_refine_file_cli(args) == 2
    assert "unknown rule 'shiny'" in capsys.readouterr().err
