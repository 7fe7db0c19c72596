"""GDPR requests (issue 19): search, export, erasure and suppression across every store, with real stores."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from principals import as_admin, new_user
from privacy_fixtures import EMAIL, NAME, PHONE, PLANTED_RECORDS, plant_person, upload, upload_bytes

from core.auth import PermissionDenied
from core.packaging.manifest import verify_package
from core.privacy.erase import erase_subject, erasure_history
from core.privacy.export import export_subject
from core.privacy.packages import notices_for_buyer, notices_for_package
from core.privacy.search import find_subject
from core.privacy.subject import REDACTION, Subject, SubjectError, keyed_hash
from core.privacy.suppression import SUPPRESSED_REASON
from core.store import jobs
from core.store.models import DataPackage, Item, Job
from core.store.models_privacy import SuppressedIdentifier
from core.store.raw import get_raw_store
from core.store.sql import session_scope


@pytest.fixture()
def planted(workbench):
    return plant_person()


def subject_by(**given) -> Subject:
    return Subject.from_input(**given)


# -- identifiers --------------------------------------------------------------------------------------------------
def test_identifiers_are_normalised_and_matched_as_whole_identifiers():
    subject = subject_by(email=" JANE.marlowe@example.ORG ", phone="020 7946 0321", name="jane  MARLOWE", region="GB")
    assert subject.emails == ("jane.marlowe@example.org",)
    assert subject.phones == ("+442079460321",)
    assert subject.names == ("jane marlowe",)
    text = "Mail Jane.Marlowe@Example.org, call +44 (0)20 7946 0321 or 020 7946 0321; Jane\nMarlowe signed."
    assert [m.kind for m in subject.matches(text)] == ["email", "phone", "phone", "name"]
    for near_miss in ("Janet Marlowe", "Jane Marlowes", "jane.marlowe@example.org.uk", "+44 20 7946 0322"):
        assert subject.matches(near_miss) == [], near_miss
    with pytest.raises(SubjectError):
        Subject.from_input()
    with pytest.raises(SubjectError):
        Subject.from_input(phone="020 7946 0321")  # a national number without its country is ambiguous
    # The list keeps keyed hashes only: no identifier appears in them.
    hashes = subject.identifier_hashes()
    assert {h for _, h, _ in hashes} == {keyed_hash("email", "jane.marlowe@example.org"),
                                        keyed_hash("phone", "+442079460321"), keyed_hash("name", "jane marlowe")}


# -- search -------------------------------------------------------------------------------------------------------
def test_search_finds_the_person_in_every_store_and_only_for_those_who_may_see_it(planted):
    subject = subject_by(email=EMAIL, phone=PHONE, name=NAME)
    found = find_subject(planted.owner, subject)
    counts = found.counts()
    assert counts["raw"] == PLANTED_RECORDS
    assert counts["item"] == PLANTED_RECORDS
    # processed items.parquet and the validated run file each hold both records
    assert counts["lake"] == 2 * PLANTED_RECORDS
    assert counts["raw_file"] == 1  # the upload as received
    assert counts["package"] == 2 * PLANTED_RECORDS  # two versions
    assert set(found.package_rows) == {planted.sold_package_id, planted.unsold_package_id}
    table = found.table()
    assert set(table["kind"]) == {"email", "phone", "name"}
    assert not table["snippet"].str.contains("marlowe@example.org", case=False).any()  # snippets are masked
    assert not table["snippet"].str.contains("7946 0321").any()

    admin_counts = find_subject(as_admin(), subject).counts()
    assert all(admin_counts[store] >= counts[store] for store in counts)
    assert sum(find_subject(new_user("supplier"), subject).counts().values()) == 0  # another supplier: nothing
    with pytest.raises(PermissionDenied):
        find_subject(planted.buyer, subject)
    with pytest.raises(PermissionDenied):
        find_subject(None, subject)


# -- export -------------------------------------------------------------------------------------------------------
def test_export_archive_holds_a_manifest_and_every_matching_record(planted):
    subject = subject_by(email=EMAIL)
    result = export_subject(planted.owner, subject)
    path = Path(result["path"])
    assert path.name.startswith("subject-") and "marlowe" not in path.name.lower()
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["subject"]["emails"] == ["jane.marlowe@example.org"]
        assert manifest["counts"]["raw"] == 1 and manifest["counts"]["item"] == 1
        raw_rows = [json.loads(line) for line in archive.read(manifest["files"]["raw"]).splitlines()]
        assert EMAIL in raw_rows[0]["record"]["raw_content"]
        package_rows = [json.loads(line) for line in archive.read(manifest["files"]["package"]).splitlines()]
        assert len(package_rows) == 2 and all(EMAIL in row["record"]["text"] for row in package_rows)
    # The archive is itself a place the subject appears, and another supplier cannot see it.
    assert find_subject(planted.owner, subject).counts()["export"] == 1
    assert find_subject(new_user("supplier"), subject).counts()["export"] == 0


# -- erasure ------------------------------------------------------------------------------------------------------
def test_erasure_job_redacts_removes_rebuilds_and_flags_then_a_search_finds_only_the_sold_copy(planted):
    subject = subject_by(email=EMAIL, phone=PHONE, name=NAME)
    before = find_subject(planted.owner, subject)
    archive = Path(export_subject(planted.owner, subject)["path"])
    with session_scope() as session:
        unsold_before = session.get(DataPackage, planted.unsold_package_id).model_dump()
        sold_before = session.get(DataPackage, planted.sold_package_id).model_dump()

    job_id = jobs.create_job("privacy_erase", subject.as_dict(), planted.owner)
    outcome = jobs.execute(job_id)
    assert outcome["status"] == "succeeded", outcome
    report = outcome["result"]
    assert report["raw"]["documents_redacted"] == PLANTED_RECORDS
    assert report["items"]["items_redacted"] == PLANTED_RECORDS
    assert report["lake"] == {"files_rewritten": 2, "rows_removed": 2 * PLANTED_RECORDS}
    assert report["raw_files"]["files_deleted"] == 1
    assert report["exports"]["archives_deleted"] == 1 and not archive.exists()
    assert report["packages"]["versions_rebuilt"] == 1 and report["packages"]["sold_versions_flagged"] == 1
    assert report["suppression"]["identifiers_added"] == 3
    with session_scope() as session:
        job = session.get(Job, job_id)
        assert "marlowe" not in json.dumps(job.params).lower()  # the job row keeps no identifier
        unsold = session.get(DataPackage, planted.unsold_package_id).model_dump()
        sold = session.get(DataPackage, planted.sold_package_id).model_dump()
        items = [session.get(Item, int(i)).model_dump() for i in before.item_ids]

    # raw documents: redacted in place, with the fields named
    raw = get_raw_store()
    for app, ids in before.raw_ids.items():
        for raw_id in ids:
            doc = raw.get(app, raw_id)
            assert REDACTION in doc["raw_content"] and "7946" not in doc["raw_content"]
            assert doc["metadata"]["privacy_erasure"]["fields"] == ["raw_content"]
    assert all(REDACTION in item["text"] and "marlowe" not in item["text"].lower() for item in items)
    # unsold version rebuilt in place, verified, without the rows; sold version untouched but flagged
    assert unsold["metrics"]["rows"] == unsold_before["metrics"]["rows"] - PLANTED_RECORDS
    assert unsold["files"] != unsold_before["files"] and verify_package(Path(unsold["path"])) == []
    assert "erasure" in unsold["changelog"]
    assert sold["files"] == sold_before["files"]
    notices = notices_for_package(planted.buyer, planted.sold_package_id)
    assert len(notices) == 1 and notices[0]["rows_affected"] == PLANTED_RECORDS
    assert notices_for_buyer(planted.buyer) == notices
    with pytest.raises(PermissionDenied):
        notices_for_package(new_user("buyer"), planted.sold_package_id)

    after = find_subject(planted.owner, subject).counts()
    assert after == {"raw": 0, "item": 0, "lake": 0, "raw_file": 0, "package": PLANTED_RECORDS, "export": 0}
    assert set(find_subject(planted.owner, subject).package_rows) == {planted.sold_package_id}
    history = erasure_history(planted.owner)
    assert history[0]["status"] == "succeeded" and history[0]["report"]["raw"]["documents_redacted"] == 2
    assert erasure_history(new_user("supplier")) == []


def test_reingest_after_erasure_is_suppressed_for_that_owner_only(planted):
    subject = subject_by(email=EMAIL, name=NAME)
    erase_subject(planted.owner, subject)
    again = upload(planted.owner, planted.dataset, planted.data)
    assert again.suppressed == 2 and again.new == 0
    assert [why for _, _, why in again.rejected].count(SUPPRESSED_REASON) == 2
    fresh = upload(planted.owner, planted.dataset, upload_bytes([f"New page: write to {EMAIL.upper()} today.",
                                                                   "A page about nobody in particular."]))
    assert fresh.suppressed == 1 and fresh.new == 1
    assert sum(find_subject(planted.owner, subject).counts()[s] for s in ("raw", "item")) == 0
    # Another supplier's data is not theirs to suppress.
    other = new_user("supplier")
    theirs = upload(other, f"{planted.dataset}-other", upload_bytes([f"Contact {EMAIL} please."]))
    assert theirs.suppressed == 0 and theirs.new == 1
    with session_scope() as session:
        stored = session.exec(SuppressedIdentifier.__table__.select()).all()
    assert not any("marlowe" in str(row).lower() for row in stored)


def test_streamed_ingest_after_erasure_is_suppressed_too(planted, tmp_path):
    from core.sources.stream_ingest import ingest_path

    erase_subject(planted.owner, subject_by(email=EMAIL))
    lines = [{"text": f"Write to {EMAIL} for the keys."}, {"text": "A page about nobody in particular."}]
    path = tmp_path / "people.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    report = ingest_path(planted.owner, path, app="uploads", dataset=planted.dataset, license="CC-BY-4.0",
                         attest=True, origin="enterprise")
    assert report["suppressed"] == 1 and report["new"] == 1
    assert [why for _, line, why in report["rejected"]] == [SUPPRESSED_REASON]


def test_a_supplier_cannot_erase_another_suppliers_data(planted):
    subject = subject_by(email=EMAIL)
    report = erase_subject(new_user("supplier"), subject)
    assert report["found"] == {"raw": 0, "item": 0, "lake": 0, "raw_file": 0, "package": 0, "export": 0}
    assert find_subject(planted.owner, subject).counts()["raw"] == 1  # untouched
    with pytest.raises(PermissionDenied):
        erase_subject(planted.buyer, subject)
    with pytest.raises(PermissionDenied):
        jobs.create_job("privacy_erase", subject.as_dict(), planted.buyer)


def test_suppression_list_adds_each_identifier_once_per_scope_on_every_sql_store(sql_url):
    from core.privacy.suppression import add_subject, suppression_count

    admin, supplier = new_user("admin"), new_user("supplier")
    subject = subject_by(email=EMAIL, name=NAME)
    assert add_subject(subject, None, admin.id, None) == 2  # everyone's data
    assert add_subject(subject, None, admin.id, None) == 0  # NULL scope found again, not duplicated
    assert add_subject(subject, supplier.id, supplier.id, None) == 2
    assert add_subject(subject, supplier.id, supplier.id, None) == 0
    assert suppression_count() == 4 and suppression_count(supplier.id) == 2
