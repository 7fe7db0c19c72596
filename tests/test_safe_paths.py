"""Names from users never steer a write outside its lake zone (issue 11, "Paths built from user input")."""

import os
import uuid

import pytest

from core import auth
from core.safe_names import UnsafeNameError, safe_name, slug_from, upload_base_name, upload_path_name
from core.sources.ingest import ensure_dataset, ingest_upload
from core.sources.upload_formats import UploadError
from core.store import lake

ROWS = b'{"title": "attacker", "text": "attacker content"}\n'


def _ingest(filename, data=ROWS, dataset=None):
    return ingest_upload(auth.demo_principal("supplier"), filename, data, app="uploads",
                         dataset=dataset or f"ds-{uuid.uuid4().hex[:8]}", license="CC-BY-4.0", origin="university",
                         attested=True)


def _files_outside_raw_zone(data_dir):
    """Files in the other lake zones and beside DATA_DIR (the stores' own files are not lake files)."""
    roots = [data_dir / zone for zone in lake.ZONES if zone != "raw"]
    beside = {p for p in data_dir.parent.rglob("*") if p.is_file() and not p.is_relative_to(data_dir)}
    return beside | {p for root in roots for p in root.rglob("*") if p.is_file()}


def test_crafted_upload_name_cannot_replace_a_published_package_file(workbench):
    package = f"victim-{uuid.uuid4().hex[:6]}"
    victim = lake.zone_path("packages", package, "1.0.0") / "data" / "data.jsonl"
    victim.parent.mkdir(parents=True)
    victim.write_bytes(b'{"title": "genuine"}\n')
    outside_before = _files_outside_raw_zone(workbench.data_dir)

    report = _ingest(f"../../../../../packages/{package}/1.0.0/data/data.jsonl")

    assert victim.read_bytes() == b'{"title": "genuine"}\n'
    outside_after = _files_outside_raw_zone(workbench.data_dir)
    assert outside_after - outside_before == set(), "the upload wrote outside the raw zone"
    snapshots = list((workbench.data_dir / "raw" / "uploads" / report.dataset).iterdir())
    assert len(snapshots) == 1 and snapshots[0].name.endswith("_data.jsonl")
    assert report.new == 1


@pytest.mark.parametrize("filename", ["..\\..\\..\\packages\\p\\1.0.0\\manifest.json.jsonl",
                                      "/etc/passwd.jsonl", "C:\\Users\\me\\rows.jsonl"])
def test_uploaded_file_names_keep_only_their_base_name(workbench, filename):
    report = _ingest(filename)
    snapshot, = (workbench.data_dir / "raw" / "uploads" / report.dataset).iterdir()
    assert "/" not in snapshot.name[16:] and "\\" not in snapshot.name and ".." not in snapshot.name


def test_dataset_name_that_climbs_out_is_refused_clearly(workbench):
    escaped = workbench.data_dir.parent / "escaped"
    with pytest.raises(UploadError, match="dataset name .* not allowed"):
        _ingest("rows.jsonl", dataset="../../../escaped")
    assert not escaped.exists()
    with pytest.raises(UploadError, match="dataset name"):
        ensure_dataset(auth.demo_principal("supplier"), "../../../escaped", "uploads")


@pytest.mark.parametrize("dataset, message", [("bad\x00name", "NUL"), ("d" * 400, "limit is 100"),
                                              ("my data", "not allowed"), (".hidden", "starts with a dot"),
                                              ("a..b", "'..'")])
def test_bad_dataset_names_get_a_clear_error_not_an_os_error(workbench, dataset, message):
    with pytest.raises(UploadError, match=message):
        _ingest("rows.jsonl", dataset=dataset)


def test_nul_in_an_uploaded_file_name_is_a_clear_error(workbench):
    with pytest.raises(UploadError, match="NUL"):
        _ingest("rows\x00.jsonl")
    with pytest.raises(UploadError, match="no file name"):
        _ingest("uploads/..")


def test_a_400_byte_file_name_is_shortened_not_an_os_error(workbench):
    report = _ingest("r" * 400 + ".jsonl")
    snapshot, = (workbench.data_dir / "raw" / "uploads" / report.dataset).iterdir()
    assert snapshot.name.endswith(".jsonl") and len(snapshot.name) <= 100
    assert report.new == 1


@pytest.mark.parametrize("parts", [("..", "..", "escaped"), ("uploads/../../x",), ("a\x00b",), ("x" * 400,),
                                   ("",), (".",)])
def test_lake_refuses_parts_that_leave_or_break_the_zone(workbench, parts):
    with pytest.raises(UnsafeNameError):
        lake.zone_path("raw", *parts)


def test_lake_refuses_a_symlink_that_leads_out_of_the_zone(workbench, tmp_path):
    link = workbench.data_dir / "processed" / f"link-{uuid.uuid4().hex[:6]}"
    os.symlink(tmp_path, link)
    try:
        with pytest.raises(UnsafeNameError, match="outside the processed zone"):
            lake.zone_path("processed", link.name, "run-1.parquet")
    finally:
        link.unlink()


def test_the_safe_name_rule():
    assert safe_name("demo-news_2026.v1") == "demo-news_2026.v1"
    for bad in ("", ".env", "a..b", "a/b", "a\\b", "café", "x" * 101, "a\x00"):
        with pytest.raises(UnsafeNameError):
            safe_name(bad)
    with pytest.raises(ValueError):  # callers that only know ValueError still catch it
        safe_name(None)
    assert upload_base_name("dir/sub\\file name.csv") == "file name.csv"
    assert upload_path_name("dir/café menu.csv") == "caf_menu.csv"
    assert upload_path_name(".env") == "env"
    assert len(upload_path_name("x" * 400 + ".csv", max_length=80)) == 80
    assert slug_from("City news: daily") == "City-news-daily"
    with pytest.raises(UnsafeNameError):
        slug_from("???")
