"""The raw store against the real embedded MongoDB-protocol server, through pymongo."""

import uuid
from datetime import UTC, datetime

import pytest

from core.store.embedded_mongo import EmbeddedMongoManager, _answers_ping
from core.store.processes import pid_alive
from core.store.raw import RawStore, RawStoreError, content_hash


def _doc(source_id: str, body: str, url: str = "http://example.test/a") -> dict:
    return {"source_id": source_id, "url": url, "fetched_at": datetime.now(UTC),
            "content_hash": content_hash(body), "raw_content": body, "metadata": {"status": 200}}


def test_bulk_insert_is_idempotent_and_counts_new_versus_present(raw_store):
    source = f"src-{uuid.uuid4().hex[:8]}"
    docs = [_doc(source, f"page {i}", f"http://example.test/{i}") for i in range(30)]
    first = raw_store.insert_documents("news", docs)
    assert (first.new, first.already_present, first.rejected) == (30, 0, [])
    second = raw_store.insert_documents("news", docs + [_doc(source, "page 30")])
    assert (second.new, second.already_present) == (1, 30)


def test_a_changed_page_is_a_new_version_beside_the_old(raw_store):
    source = f"src-{uuid.uuid4().hex[:8]}"
    raw_store.insert_documents("news", [_doc(source, "v1", "http://example.test/page")])
    raw_store.insert_documents("news", [_doc(source, "v2", "http://example.test/page")])
    versions = raw_store.find("news", {"source_id": source, "url": "http://example.test/page"})
    assert sorted(v["raw_content"] for v in versions) == ["v1", "v2"]


def test_malformed_documents_are_rejected_with_reason_and_good_ones_kept(raw_store):
    source = f"src-{uuid.uuid4().hex[:8]}"
    bad = {"source_id": source, "url": "x"}
    report = raw_store.insert_documents("marketplace", [_doc(source, "ok"), bad, "not a dict"])
    assert report.new == 1
    assert [pos for pos, _ in report.rejected] == [1, 2]
    assert "missing" in report.rejected[0][1]


def test_one_database_per_application_and_original_form_kept(raw_store):
    source = f"src-{uuid.uuid4().hex[:8]}"
    raw_store.insert_documents("property", [_doc(source, "<html>villa</html>")])
    assert "property" in raw_store.apps()
    stored = raw_store.find("property", {"source_id": source})[0]
    assert stored["raw_content"] == "<html>villa</html>"
    assert stored["fetched_at"].tzinfo is not None
    assert raw_store.get("property", stored["_id"])["url"] == stored["url"]
    assert raw_store.get("property", "not-an-id") is None


def test_invalid_application_name_is_refused(raw_store):
    with pytest.raises(RawStoreError, match="not valid"):
        raw_store.collection("../etc")


def test_gridfs_keeps_large_binary_files(raw_store):
    payload = bytes(range(256)) * 8192  # 2 MiB
    file_id = raw_store.put_file("uploads", payload, "photo.bin", {"licence": "CC-BY-4.0"})
    data, info = raw_store.get_file("uploads", file_id)
    assert data == payload
    assert info["metadata"]["licence"] == "CC-BY-4.0"


def test_health_reports_counts(raw_store):
    health = raw_store.health()
    assert health["ok"] and health["kind"].startswith("embedded")
    assert health["total"] == sum(health["documents"].values())


def test_embedded_server_is_reused_by_a_second_process_and_stopped_cleanly(tmp_path):
    owner = EmbeddedMongoManager(tmp_path / "mongo")
    server = owner.ensure_running()
    try:
        # A second manager (as the CLI beside a running app would be) finds and reuses it.
        other = EmbeddedMongoManager(tmp_path / "mongo").ensure_running()
        assert (other.port, other.pid) == (server.port, server.pid)
        store = RawStore(server.uri, embedded=True)
        store.insert_documents("news", [_doc("s", "kept across restarts")])
        store.close()
    finally:
        owner.stop()
    assert not pid_alive(server.pid) or not _answers_ping(server.port)
    restarted = EmbeddedMongoManager(tmp_path / "mongo")
    again = restarted.ensure_running()
    try:
        store = RawStore(again.uri, embedded=True)
        assert store.find("news", {"source_id": "s"})[0]["raw_content"] == "kept across restarts"
        store.close()
    finally:
        restarted.stop()
