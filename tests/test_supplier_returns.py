"""Supplier returns: the owner's package version with its run's quality report, from core and the page's API."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import pytest
from principals import new_user
from refine_fixtures import article_text

from core.auth import PermissionDenied
from core.market.downloads import DownloadError, verify_downloaded_archive
from core.market.returns import REPORT_JSON, REPORT_MARKDOWN, quality_report, quality_report_markdown, supplier_return
from core.packaging.dataset_card import escape_markdown
from core.refine.runs import run_detail
from core.sources.ingest import ingest_upload
from core.store.jobs import run_foreground


@pytest.fixture(scope="module")
def built(workbench):
    """A supplier's dataset with a too-short text among articles, refined and packaged (never listed)."""
    owner = new_user("supplier")
    name = f"ret-{uuid.uuid4().hex[:8]}"
    rows = [{"text": article_text(i)} for i in range(10)] + [{"text": "too short"}]
    ingest_upload(owner, "docs.jsonl", "\n".join(json.dumps(r) for r in rows).encode(), app="uploads", dataset=name,
                  license="CC-BY-4.0", origin="enterprise", attested=True)
    refined = run_foreground("refine", {"dataset": name}, owner, echo=None)
    packaged = run_foreground("package", {"dataset": name, "title": f"Return {name}", "license": "CC-BY-4.0"},
                              owner, echo=None)
    assert refined["status"] == packaged["status"] == "succeeded", (refined, packaged)
    run_id = refined["result"]["run_id"]
    return {"owner": owner, "name": name, "run_id": run_id, "package_id": packaged["result"]["package_id"],
            "counts": run_detail(owner, run_id)["counts"]}


def test_quality_report_counts_drop_reasons_and_signals(built):
    report = quality_report(built["owner"], built["run_id"])
    counts = built["counts"]
    assert report["counts"] == {"input": counts["input"], "kept": counts["kept"], "dropped": counts["dropped"]}
    assert report["counts"]["input"] == 11 and report["counts"]["dropped"] >= 1  # at least the short text
    assert sum(report["drop_reasons"].values()) == report["counts"]["dropped"]
    quality = report["signals"]["numeric"]["quality"]
    assert quality["all"]["count"] == 11 and quality["kept"]["count"] == counts["kept"]
    assert quality["all"]["min"] <= quality["all"]["p50"] <= quality["all"]["max"]
    assert sum(report["signals"]["categorical"]["language"].values()) == 11
    markdown = quality_report_markdown(report)
    assert f"Items in: {counts['input']:,}" in markdown and "| quality |" in markdown
    for reason, items in report["drop_reasons"].items():
        assert f"| {escape_markdown(reason, 120)} | {items:,} |" in markdown


def test_supplier_return_archive_holds_data_and_report_and_verifies(built):
    name, archive = supplier_return(built["owner"], built["package_id"])
    assert name.endswith("-with-quality-report.zip")
    assert verify_downloaded_archive(archive) == []
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        names = set(zipped.namelist())
        assert {REPORT_JSON, REPORT_MARKDOWN, "manifest.json", "README.md"} <= names
        assert any(n.startswith("data/") for n in names)
        inside = json.loads(zipped.read(REPORT_JSON))
        manifest = json.loads(zipped.read("manifest.json"))["files"]
    assert inside == quality_report(built["owner"], built["run_id"])
    assert REPORT_JSON in manifest and REPORT_MARKDOWN in manifest


def test_tampered_return_fails_verification(built):
    _, archive = supplier_return(built["owner"], built["package_id"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info.filename, data.replace(b'"kept"', b'"KEPT"') if info.filename == REPORT_JSON else data)
    assert any(REPORT_JSON in problem for problem in verify_downloaded_archive(buffer.getvalue()))


def test_only_the_owner_or_an_admin_gets_the_return(built):
    for stranger in (new_user("supplier"), new_user("buyer")):
        with pytest.raises((PermissionDenied, LookupError)):
            supplier_return(stranger, built["package_id"])
        with pytest.raises((PermissionDenied, LookupError)):
            quality_report(stranger, built["run_id"])
    admin_name, admin_archive = supplier_return(new_user("admin"), built["package_id"])
    assert verify_downloaded_archive(admin_archive) == []


def test_return_of_a_missing_package_is_refused(built):
    with pytest.raises((DownloadError, LookupError, PermissionDenied)):
        supplier_return(built["owner"], 10**9)


def test_supplier_return_and_report_through_the_api(built):
    from api_helpers import client_for, running_api
    with running_api(rate_per_minute=100_000, rate_burst=100_000) as api:
        owner = client_for(api, built["owner"])
        report = owner.get(f"/packages/{built['package_id']}/quality-report")
        assert report.status_code == 200 and report.json()["counts"]["input"] == 11
        archive = owner.get(f"/packages/{built['package_id']}/supplier-return")
        assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
        assert "with-quality-report.zip" in archive.headers["content-disposition"]
        assert verify_downloaded_archive(archive.content) == []
        stranger = client_for(api, new_user("supplier"))
        assert stranger.get(f"/packages/{built['package_id']}/supplier-return").status_code == 404


def test_packages_page_prepares_the_supplier_return(workbench):
    from apptest_helpers import assert_no_exception, button, page_app
    from refine_fixtures import dataset_with_run

    from core import auth
    from core.packaging.build import PackageRequest, build_package
    dataset, _ = dataset_with_run()
    package = build_package(auth.demo_principal("supplier"),
                            PackageRequest(dataset=dataset["name"], title=f"Return page {dataset['name']}",
                                           license="CC-BY-4.0"))
    at = page_app("packages.py", role="supplier")
    at.selectbox(key="pkg_open").select(package["package_id"]).run()
    button(at, "Prepare the supplier return").click().run()
    assert_no_exception(at)
    [download] = [b for b in at.get("download_button") if "with-quality-report.zip" in b.proto.label]
    assert any(m.value.startswith("# Quality report:") for m in at.markdown)
