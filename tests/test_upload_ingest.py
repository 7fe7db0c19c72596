"""Uploads and ingest against the real stores: bad rows named, good rows kept, hostile files refused."""

import io
import json
import os
import subprocess
import sys
import uuid
import zipfile

import pandas as pd
import pytest
from sqlmodel import select

from core import auth
from core.sources.ingest import ingest_upload
from core.sources.upload_formats import UploadError, UploadLimits, parse_file
from core.store.models import Item
from core.store.sql import session_scope


def _ingest(filename, data, **overrides):
    params = dict(app="uploads", dataset=f"ds-{uuid.uuid4().hex[:8]}", license="CC-BY-4.0", origin="university",
                  attested=True, notes="test")
    params.update(overrides)
    return ingest_upload(auth.demo_principal("supplier"), filename, data, **params)


def _items(dataset_name):
    from core.store.models import Dataset

    with session_scope() as session:
        dataset = session.exec(select(Dataset).where(Dataset.name == dataset_name)).one()
        return [i.model_dump() for i in session.exec(select(Item).where(Item.dataset_id == dataset.id))]


def test_malformed_csv_rows_reported_with_line_numbers_and_good_rows_kept(workbench):
    csv_bytes = b"title,price,currency\nLamp,12.50,EUR\nBroken,1,2,3\nChair,\"1.299,00 \xe2\x82\xac\",\nTable,99,USD\n"
    report = _ingest("listings.csv", csv_bytes, app="marketplace")
    assert report.new == 3 and report.items_created == 3
    assert report.rejected == [("listings.csv", 3, "has 4 fields, the header has 3")]
    items = {i["title"]: i for i in _items(report.dataset)}
    assert items["Chair"]["fields"]["price"] == 1299.0 and items["Chair"]["fields"]["currency"] == "EUR"
    assert items["Lamp"]["data_type"] == "listing" and items["Lamp"]["fields"]["price"] == 12.5


def test_reuploading_the_same_file_adds_nothing(workbench):
    data = b'{"id": 1, "text": "first"}\n{"id": 2, "text": "second"}\n'
    first = _ingest("a.jsonl", data, dataset="same-ds")
    second = _ingest("a.jsonl", data, dataset="same-ds")
    assert (first.new, second.new, second.already_present) == (2, 0, 2)
    assert len(_items("same-ds")) == 2


def test_wrong_encoding_is_decoded_not_lost():
    parsed = parse_file("notes.csv", "name,city\nJosé,Málaga\nZoë,Köln\n".encode("cp1252"))
    assert [r["city"] for r in parsed.records] == ["Málaga", "Köln"]


def test_jsonl_bad_lines_are_named():
    parsed = parse_file("x.jsonl", b'{"a": 1}\nnot json\n[1, 2]\n\n{"a": 2}\n')
    assert [r["_line"] for r in parsed.records] == [1, 5]
    reasons = [(line, reason.split(":")[0]) for _, line, reason in parsed.rejected]
    assert reasons == [(2, "invalid JSON"), (3, "expected a JSON object, found list")]


def test_json_array_wrapped_in_items_and_parquet_are_read():
    assert len(parse_file("x.json", json.dumps({"items": [{"a": 1}, {"a": 2}]}).encode()).records) == 2
    buffer = io.BytesIO()
    pd.DataFrame({"text": ["x", "y"], "when": pd.to_datetime(["2024-01-01", "2024-01-02"])}).to_parquet(buffer)
    records = parse_file("x.parquet", buffer.getvalue()).records
    assert records[1]["when"].startswith("2024-01-02")


def test_corrupt_parquet_and_json_give_clear_errors():
    with pytest.raises(UploadError, match="not a readable Parquet"):
        parse_file("x.parquet", b"PAR1 garbage")
    with pytest.raises(UploadError, match="invalid JSON at line 1"):
        parse_file("x.json", b"{oops")


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_of_text_files_is_ingested(workbench):
    archive = _zip({"a/one.txt": b"The first document text.", "two.md": b"# Second\nMore text here.",
                    "rows.jsonl": b'{"text": "third"}\n'})
    report = _ingest("corpus.zip", archive)
    assert report.new == 3 and report.rejected == []
    assert sorted(i["text"] for i in _items(report.dataset)) == ["# Second\nMore text here.",
                                                                "The first document text.", "third"]


@pytest.mark.parametrize("evil", ["../escape.txt", "/etc/passwd", "a/../../b.txt", "C:/windows.txt"])
def test_zip_with_unsafe_paths_is_refused(evil):
    with pytest.raises(UploadError, match="unsafe path"):
        parse_file("evil.zip", _zip({"ok.txt": b"fine", evil: b"bad"}))


def test_zip_bomb_is_refused():
    bomb = _zip({"zeros.txt": b"\0" * (50 * 1024 * 1024)})
    assert len(bomb) < 200_000
    with pytest.raises(UploadError, match="zip bomb"):
        parse_file("bomb.zip", bomb)


def test_oversized_file_is_refused():
    with pytest.raises(UploadError, match="the limit is"):
        parse_file("big.csv", b"a\n" + b"1\n" * 1000, UploadLimits(max_file_bytes=1000))


def test_nothing_is_ingested_without_attestation_or_with_a_bad_licence(workbench):
    with pytest.raises(UploadError, match="right to supply"):
        _ingest("a.txt", b"text", attested=False)
    with pytest.raises(UploadError, match="SPDX"):
        _ingest("a.txt", b"text", license="do whatever")


def test_buyers_cannot_upload(workbench):
    with pytest.raises(auth.PermissionDenied):
        ingest_upload(auth.demo_principal("buyer"), "a.txt", b"x", app="uploads", dataset="d", license="MIT",
                      origin="crowd", attested=True)


def test_binary_files_go_to_gridfs_with_provenance(workbench, raw_store):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 100
    report = _ingest("photo.png", png)
    item = _items(report.dataset)[0]
    assert item["data_type"] == "image"
    data, info = raw_store.get_file("uploads", item["fields"]["gridfs_id"])
    assert data == png and info["metadata"]["license"] == "CC-BY-4.0" and info["metadata"]["attested"] is True


def test_raw_document_keeps_provenance(workbench, raw_store):
    report = _ingest("a.txt", b"provenance check text")
    doc = raw_store.find("uploads", {"source_id": f"upload:{report.dataset}"})[0]
    assert doc["raw_content"] == "provenance check text"
    assert doc["metadata"]["license"] == "CC-BY-4.0" and doc["metadata"]["origin"] == "university"
    assert doc["metadata"]["attested_by"] == auth.demo_principal("supplier").id


def test_cli_ingest_refuses_without_attest_and_prints_counts(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("title,text\nA,alpha text\nB,beta,extra\n")
    env_data = {"DATA_DIR": str(tmp_path / "data")}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "core", "ingest", str(path), *args], capture_output=True,
                              text=True, env={**os.environ, **env_data}, timeout=120)

    refused = run("--app", "uploads", "--dataset", "cli", "--license", "MIT")
    assert refused.returncode == 2 and "--attest" in refused.stderr
    done = run("--app", "uploads", "--dataset", "cli", "--license", "MIT", "--attest")
    assert done.returncode == 0, done.stderr
    assert "new=1 already_present=0 rejected=1" in done.stdout
    assert "rejected rows.csv line 3: has 3 fields, the header has 2" in done.stdout
