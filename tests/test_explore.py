"""Raw Explorer queries against the real embedded MongoDB server and SQL store."""

import csv
import io
import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from principals import as_admin

from core import auth, explore
from core.store.raw import content_hash


@pytest.fixture
def seeded(raw_store):
    app = f"x{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    docs = []
    for i in range(120):
        body = f"<html><p>document number {i} about {'solar' if i % 2 else 'wind'} power</p></html>"
        docs.append({
            "source_id": "alpha" if i % 3 else "beta", "url": f"https://site.test/{i}",
            "fetched_at": now - timedelta(days=i // 40, seconds=i), "content_hash": content_hash(body),
            "raw_content": body if i != 7 else "=HYPERLINK(\"http://evil\")",
            "metadata": {"status": 500 if i == 5 else 200, "kind": "article",
                         "extracted": {"title": f"Doc {i}"} if i % 4 else {}},
        })
    raw_store.insert_documents(app, docs)
    return app


def test_pages_are_server_side_and_newest_first(seeded):
    first, more = explore.raw_page(as_admin(), seeded, page=0, page_size=50)
    assert len(first) == 50 and more
    assert list(first["fetched_at"]) == sorted(first["fetched_at"], reverse=True)
    last, more = explore.raw_page(as_admin(), seeded, page=2, page_size=50)
    assert len(last) == 20 and not more
    assert not set(first["id"]) & set(last["id"])


def test_filters(seeded):
    by_source, _ = explore.raw_page(as_admin(), seeded, explore.RawFilter(source_id="beta"), page_size=100)
    assert len(by_source) == 40 and set(by_source["source_id"]) == {"beta"}
    failed, _ = explore.raw_page(as_admin(), seeded, explore.RawFilter(status=500))
    assert failed["url"].tolist() == ["https://site.test/5"]
    titled, _ = explore.raw_page(as_admin(), seeded, explore.RawFilter(has_field="title"), page_size=200)
    assert len(titled) == 90
    words, _ = explore.raw_page(as_admin(), seeded, explore.RawFilter(text="solar"), page_size=200)
    assert len(words) == 59  # odd numbers, minus record 7 whose content was replaced
    today = date.today()
    recent, _ = explore.raw_page(as_admin(), seeded, explore.RawFilter(date_from=today, date_to=today), page_size=200)
    assert len(recent) == 40
    assert explore.source_ids(as_admin(), seeded) == ["alpha", "beta"]


def test_record_detail_shows_versions_and_provenance(seeded, raw_store):
    row = explore.raw_page(as_admin(), seeded, explore.RawFilter(text="number 10"))[0].iloc[0]
    raw_store.insert_documents(seeded, [{"source_id": row["source_id"], "url": row["url"],
                                         "fetched_at": datetime.now(UTC), "content_hash": content_hash("v2"),
                                         "raw_content": "v2", "metadata": {"status": 200}}])
    detail = explore.record_detail(as_admin(), seeded, row["id"])
    assert detail["document"]["url"] == row["url"]
    assert len(detail["versions"]) == 2
    assert detail["refinement"] is None
    assert explore.record_detail(as_admin(), seeded, "0" * 24) is None


def test_labels_are_stored_and_replaced(seeded, workbench):
    ids = explore.raw_page(as_admin(), seeded)[0]["id"].tolist()[:3]
    labeller = as_admin()  # these records were stored without an owning source, so only an admin reaches them
    explore.label_records(labeller, seeded, ids, "good")
    explore.label_records(labeller, seeded, ids[:1], "bad")
    assert explore.labels_for(as_admin(), seeded, ids) == {ids[0]: "bad", ids[1]: "good", ids[2]: "good"}
    with pytest.raises(auth.PermissionDenied):
        explore.label_records(auth.demo_principal("buyer"), seeded, ids, "good")
    with pytest.raises(ValueError):
        explore.label_records(labeller, seeded, ids, "meh")


def test_delete_is_audited(seeded, workbench):
    from core.audit import recent

    ids = explore.raw_page(as_admin(), seeded)[0]["id"].tolist()[:2]
    outcome = explore.delete_records(auth.demo_principal("admin"), seeded, ids)
    assert outcome["deleted"] == 2
    assert explore.record_detail(as_admin(), seeded, ids[0]) is None
    assert recent(1, action="delete_raw")[0]["detail"]["raw_ids"] == ids


def test_export_jsonl_and_csv_with_formula_escaping(seeded):
    lines = explore.export_bytes(as_admin(), seeded, explore.RawFilter(source_id="beta"), "jsonl").decode().splitlines()
    assert len(lines) == 40 and json.loads(lines[0])["source_id"] == "beta"
    exported = explore.export_bytes(as_admin(), seeded, explore.RawFilter(), "csv").decode()
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == 120
    evil = [r for r in rows if r["url"] == "https://site.test/7"][0]
    assert evil["raw_content"].startswith("'=HYPERLINK")
    assert explore.escape_csv_cell("@SUM(A1)") == "'@SUM(A1)" and explore.escape_csv_cell("-2") == "'-2"
    assert explore.escape_csv_cell("plain") == "plain"
