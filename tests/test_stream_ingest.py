"""Streamed ingest (issue 17): files larger than the browser limit, constant memory, resume after a crash."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tracemalloc
import uuid
from pathlib import Path

import pandas as pd
import pytest
from principals import as_supplier, new_user
from sqlmodel import func, select

from core.config import reset_settings_cache
from core.sources import stream_ingest
from core.sources.stream_ingest import ingest_path
from core.sources.upload_formats import UploadError
from core.store.models import Dataset, Item
from core.store.sql import session_scope

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def small_browser_limit(monkeypatch, workbench):
    """A 1 MB browser limit, so a file of a few MB is 'larger than the browser limit' without writing GBs."""
    monkeypatch.setenv("UPLOAD_MAX_MB", "1")
    monkeypatch.setenv("INGEST_BATCH_SIZE", "200")
    reset_settings_cache()
    yield
    monkeypatch.delenv("UPLOAD_MAX_MB")
    monkeypatch.delenv("INGEST_BATCH_SIZE")
    reset_settings_cache()


def _write_jsonl(path: Path, count: int, bad_lines: dict[int, str] | None = None, tag: str = "") -> Path:
    bad_lines = bad_lines or {}
    with open(path, "w", encoding="utf-8") as handle:
        for line in range(1, count + 1):
            if line in bad_lines:
                handle.write(bad_lines[line] + "\n")
            else:
                handle.write(json.dumps({"title": f"doc {tag}{line}", "text": f"record {tag}{line} " + "words " * 500})
                             + "\n")
    return path


def _dataset_counts(dataset: str, raw_store) -> tuple[int, int, int]:
    """(raw documents, distinct content hashes among them, items) of an upload dataset."""
    docs = raw_store.collection("uploads").find({"source_id": f"upload:{dataset}"}, {"content_hash": 1})
    hashes = [d["content_hash"] for d in docs]
    with session_scope() as session:
        dataset_id = session.exec(select(Dataset.id).where(Dataset.name == dataset)).one()
        items = session.exec(select(func.count()).select_from(Item).where(Item.dataset_id == dataset_id)).one()
    return len(hashes), len(set(hashes)), items


def test_file_larger_than_browser_limit_streams_in_constant_memory(tmp_path, small_browser_limit, raw_store):
    path = _write_jsonl(tmp_path / "big.jsonl", 3000, bad_lines={1234: '{"title": "broken", '})
    size = path.stat().st_size
    assert size > 3 * 1024 * 1024  # three times the browser limit set above
    with pytest.raises(UploadError, match="the limit is 1 MB"):
        from core.sources.ingest import ingest_upload
        ingest_upload(as_supplier(), path.name, path.read_bytes(), app="uploads", dataset="browser-refused",
                      license="MIT", origin="web", attested=True)
    dataset = f"stream-{uuid.uuid4().hex[:8]}"
    seen = []
    tracemalloc.start()
    try:
        report = ingest_path(as_supplier(), path, app="uploads", dataset=dataset, license="CC-BY-4.0", attest=True,
                             progress=lambda fraction, message: seen.append(fraction))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report["new"] == 2999 and report["items_created"] == 2999 and report["streamed"]
    assert report["rejected"] == [("big.jsonl", 1234, "invalid JSON: Expecting property name enclosed in double "
                                                      "quotes at column 21")]
    # Bounded by the 1 MiB read buffer, the 1 MiB fingerprint sample and two batches of 200 records, whatever
    # the file's size; reading the file whole (as the browser path does) would alone take more than all of it.
    assert peak < 6e6 < size, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB file"
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) >= 5
    assert _dataset_counts(dataset, raw_store) == (2999, 2999, 2999)


def test_crash_mid_file_resumes_without_duplicates(tmp_path, small_browser_limit, raw_store, monkeypatch):
    path = _write_jsonl(tmp_path / "resume.jsonl", 1300, tag="r", bad_lines={10: "[1, 2]"})
    dataset = f"resume-{uuid.uuid4().hex[:8]}"
    real_store_batch, calls = stream_ingest.store_batch, []

    def crash_on_third_batch(app, dataset_id, documents):
        calls.append(len(documents))
        if len(calls) == 3:
            # The raw insert of this batch happened, then the process "died" before its items and checkpoint.
            stream_ingest.get_raw_store().insert_documents(app, documents)
            raise KeyboardInterrupt("simulated crash")
        return real_store_batch(app, dataset_id, documents)

    monkeypatch.setattr(stream_ingest, "store_batch", crash_on_third_batch)
    with pytest.raises(KeyboardInterrupt):
        ingest_path(as_supplier(), path, app="uploads", dataset=dataset, license="MIT", attest=True)
    raw_docs, _, items = _dataset_counts(dataset, raw_store)
    # Batches are 200 lines read: two committed (399 records and the bad line 10), plus the raw half of the third.
    assert raw_docs == 599 and items == 399
    monkeypatch.setattr(stream_ingest, "store_batch", real_store_batch)

    # The API spools each upload to a new temporary path: the same bytes elsewhere still resume.
    moved = tmp_path / "spool" / "resume.jsonl"
    moved.parent.mkdir()
    path.rename(moved)
    report = ingest_path(as_supplier(), moved, app="uploads", dataset=dataset, license="MIT", attest=True)
    assert report["resumed_from_line"] == 400
    assert report["new"] == 1299 - 200 and report["already_present"] == 200
    assert report["items_created"] == 1299 and report["rejected_count"] == 1
    assert report["rejected"] == [("resume.jsonl", 10, "expected a JSON object, found list")]
    assert _dataset_counts(dataset, raw_store) == (1299, 1299, 1299)

    again = ingest_path(as_supplier(), moved, app="uploads", dataset=dataset, license="MIT", attest=True)
    assert again["resumed_from_line"] == 0 and again["new"] == 0 and again["already_present"] == 1299
    assert _dataset_counts(dataset, raw_store) == (1299, 1299, 1299)


def test_csv_gzip_json_and_parquet_stream_with_line_numbers(tmp_path, small_browser_limit, raw_store):
    dataset = f"formats-{uuid.uuid4().hex[:8]}"
    csv_path = tmp_path / "rows.csv.gz"
    with gzip.open(csv_path, "wt", encoding="utf-8", newline="") as handle:
        handle.write("title,text\n")
        for row in range(1, 1201):
            handle.write(f"t{row},\"text {row}, with a comma\"\n" if row != 700 else "bad,row,extra\n")
        handle.write('"unclosed,quote\nlast,row\n')
    report = ingest_path(as_supplier(), csv_path, app="uploads", dataset=dataset, license="MIT", attest=True)
    assert report["new"] == 1200 and report["rejected_count"] == 2
    assert report["rejected"][0] == ("rows.csv.gz", 701, "has 3 fields, the header has 2")
    assert report["rejected"][1][1] == 1202 and "unbalanced quote" in report["rejected"][1][2]

    json_path = tmp_path / "wrapped.json"
    json_path.write_text(json.dumps({"meta": {"pages": [1, 2]}, "items": [{"title": f"j{i}"} for i in range(900)]
                                     + ["not an object"]}))
    report = ingest_path(as_supplier(), json_path, app="uploads", dataset=dataset, license="MIT", attest=True)
    assert report["new"] == 900 and report["rejected"] == [("wrapped.json", 901, "element 901 is a str, "
                                                                                 "not an object")]
    single = tmp_path / "single.json"
    single.write_text(json.dumps({"title": "one object", "text": "is one record"}))
    report = ingest_path(as_supplier(), single, app="uploads", dataset=dataset, license="MIT", attest=True)
    assert report["new"] == 1 and report["rejected"] == []
    parquet_path = tmp_path / "rows.parquet"
    pd.DataFrame({"title": [f"p{i}" for i in range(1500)], "price": range(1500)}).to_parquet(
        parquet_path, row_group_size=400)
    report = ingest_path(as_supplier(), parquet_path, app="uploads", dataset=dataset, license="MIT", attest=True)
    assert report["new"] == 1500 and report["rejected_count"] == 0
    doc = raw_store.find("uploads", {"url": f"upload://{dataset}/rows.parquet#1234"})[0]
    assert json.loads(doc["raw_content"]) == {"title": "p1233", "price": 1233}


def test_refusals_store_nothing(tmp_path, small_browser_limit, raw_store, monkeypatch):
    path = _write_jsonl(tmp_path / "rows.jsonl", 3)
    with pytest.raises(UploadError, match="right to supply"):
        ingest_path(as_supplier(), path, app="uploads", dataset="x-none", license="MIT", attest=False)
    only_bad = tmp_path / "bad.jsonl"
    only_bad.write_text("{oops\n[1]\n")
    with pytest.raises(UploadError, match="no usable records"):
        ingest_path(as_supplier(), only_bad, app="uploads", dataset="x-bad-only", license="MIT", attest=True)
    with session_scope() as session:
        assert session.exec(select(Dataset).where(Dataset.name == "x-bad-only")).first() is None
    monkeypatch.setenv("INGEST_MAX_GB", "0.000001")
    reset_settings_cache()
    with pytest.raises(UploadError, match="INGEST_MAX_GB"):
        ingest_path(as_supplier(), path, app="uploads", dataset="x-too-big", license="MIT", attest=True)
    monkeypatch.delenv("INGEST_MAX_GB")
    reset_settings_cache()
    owner, intruder = new_user("supplier"), new_user("supplier")
    ingest_path(owner, path, app="uploads", dataset=f"owned-{owner.id}", license="MIT", attest=True)
    with pytest.raises(PermissionError):
        ingest_path(intruder, path, app="uploads", dataset=f"owned-{owner.id}", license="MIT", attest=True)


def test_cli_streams_a_file_larger_than_the_browser_limit(tmp_path):
    path = _write_jsonl(tmp_path / "cli-big.jsonl", 1500, bad_lines={3: "not json"})
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "UPLOAD_MAX_MB": "1"}
    result = subprocess.run([sys.executable, "-m", "core", "ingest", str(path), "--app", "uploads", "--dataset",
                             "cli-big", "--license", "MIT", "--attest"], cwd=ROOT, capture_output=True, text=True,
                            env=env, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "new=1499 already_present=0 rejected=1 items=1499" in result.stdout
    assert "rejected cli-big.jsonl line 3: invalid JSON" in result.stdout
