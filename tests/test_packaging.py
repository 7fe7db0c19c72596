"""Package versions: data files, Croissant (checked by mlcroissant), Data Package (checked by
frictionless), dataset card, manifest and verification, atomic build, licences and versions."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import stat
from pathlib import Path

import mlcroissant  # slow import (~3 s): once per module
import pandas as pd
import pytest
import yaml
from frictionless import validate as frictionless_validate

from core.licenses import (
    RULE_ATTRIBUTION,
    RULE_NO_DERIVATIVES,
    RULE_NON_COMMERCIAL,
    RULE_SHARE_ALIKE,
    RULE_UNKNOWN,
    LicenseError,
    check_license_compatibility,
    is_valid_license,
    license_ids,
    normalize_license,
)
from core.packaging import writer
from core.packaging.manifest import MANIFEST_NAME, sha256_file, verify_package
from core.packaging.versioning import changelog_entry, next_version
from core.packaging.writer import PackageBuildError, PackageMeta, escape_csv_formula, write_package_version

ALL_FORMATS = ["jsonl", "csv", "parquet"]
TITLES = ["Grüße aus Köln ☃ <script>alert(1)</script> | *bold*", '=HYPERLINK("http://evil")', None,
          "東京の天気"]


def mixed_rows() -> pd.DataFrame:
    return pd.DataFrame({
        "title": TITLES,
        "price": [19.99, None, -3.5, 0.0],
        "stock": pd.array([3, None, -1, 12], dtype="Int64"),
        "in_stock": pd.array([True, False, None, True], dtype="boolean"),
        "listed_on": pd.to_datetime(["2024-01-02", None, "2024-03-04", "2024-12-31"]),
        "seen_at": pd.to_datetime(["2024-01-02T03:04:05Z", "2024-02-03T04:05:06.5Z", None,
                                   "2024-04-05T06:07:08Z"], format="ISO8601"),
        "published": [dt.date(2023, 5, 6), None, dt.date(2020, 2, 29), dt.date(2024, 1, 1)],
    })


def make_meta(**overrides) -> PackageMeta:
    fields = dict(
        name="market-listings", title="Market listings", version="1.2.0",
        description="Refined marketplace listings. <img src=x onerror=alert(1)>",
        license="CC-BY-4.0", creator="DataBroker Analysts",
        created_at=dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC),
        keywords=["marketplace", "prices"], languages=["de", "ja"],
        sources=[{"source_id": "shop-1", "app": "marketplace", "url": "https://shop.example/list",
                  "license": "CC-BY-4.0", "origin": "scraped", "attested": True},
                 {"source_id": "feed-2", "app": "news", "url": "https://feed.example/rss",
                  "license": "CC0-1.0", "origin": "feed", "attested": False}],
        refinement={"run_id": "run-42", "recipe": {"rules": [{"rule": "min_quality", "min": 0.6}]},
                    "recipe_hash": "3f2a9c",
                    "counts": {"input": 10, "kept": 4, "dropped_by_rule": {"min_quality": 5, "duplicate": 1}},
                    "metrics": {"mean_quality": 0.8125, "pii_redactions": 2}},
        pii_handling="E-mail addresses and phone numbers were redacted.",
        limitations="Prices are as listed, not as sold.", changelog="- first release",
        field_descriptions={"title": "Listing headline as scraped", "price": "Asking price in EUR"},
    )
    fields.update(overrides)
    return PackageMeta(**fields)


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> writer.PackageResult:
    out_dir = tmp_path_factory.mktemp("pkgs") / "1.2.0"
    return write_package_version(mixed_rows(), make_meta(), out_dir, ALL_FORMATS)


def writable_copy(result: writer.PackageResult, target: Path) -> Path:
    shutil.copytree(result.path, target)
    for path in target.rglob("*"):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return target


# --- layout, manifest, verification -----------------------------------------------------------


def test_version_directory_holds_data_metadata_and_an_exact_manifest(package):
    root = package.path
    listed = {"data/data.jsonl", "data/data.csv", "data/data.parquet", "croissant.json", "datapackage.json",
              "README.md"}
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert on_disk == listed | {MANIFEST_NAME}
    manifest = json.loads((root / MANIFEST_NAME).read_text())
    assert list(manifest) == ["files"] and set(manifest["files"]) == listed
    for relative, entry in manifest["files"].items():
        assert entry == {"sha256": sha256_file(root / relative), "bytes": (root / relative).stat().st_size}
    assert package.files == manifest["files"]
    assert package.checksums == {relative: entry["sha256"] for relative, entry in manifest["files"].items()}
    assert package.row_count == 4
    assert verify_package(root) == []
    assert os.listdir(root.parent) == [root.name], "no staging directory may be left behind"
    assert stat.S_IMODE((root / "data/data.csv").stat().st_mode) == 0o444


def test_verify_package_reports_each_kind_of_tampering(package, tmp_path):
    root = writable_copy(package, tmp_path / "copy")
    data = root / "data/data.jsonl"
    original = data.read_bytes()
    data.write_bytes(original[:-2] + b"X\n")  # same size, different content
    (root / "README.md").write_text((root / "README.md").read_text() + "appended\n")
    (root / "datapackage.json").unlink()
    (root / "data/extra.bin").write_bytes(b"not in the manifest")
    problems = verify_package(root)
    assert "data/data.jsonl: sha256 mismatch (content changed)" in problems
    assert any(p.startswith("README.md: size mismatch") for p in problems)
    assert "datapackage.json: missing" in problems
    assert "data/extra.bin: not listed in manifest.json" in problems
    assert len(problems) == 4

    manifest = json.loads((root / MANIFEST_NAME).read_text())
    manifest["files"]["../outside.txt"] = {"sha256": "0" * 64, "bytes": 1}
    (root / MANIFEST_NAME).write_text(json.dumps(manifest))
    assert "../outside.txt: path points outside the package" in verify_package(root)
    (root / MANIFEST_NAME).unlink()
    assert verify_package(root) == ["manifest.json is missing"]


# --- Croissant ------------------------------------------------------------------------------


@pytest.mark.parametrize(("formats", "record_file"), [
    (ALL_FORMATS, "data/data.parquet"), (["jsonl"], "data/data.jsonl"), (["csv"], "data/data.csv")])
def test_croissant_validates_and_its_records_read_back(tmp_path, formats, record_file):
    result = write_package_version(mixed_rows(), make_meta(), tmp_path / "v", formats)
    dataset = mlcroissant.Dataset(jsonld=result.path / "croissant.json")
    issues = dataset.metadata.ctx.issues
    assert not issues.errors and not issues.warnings, issues.report()
    records = list(dataset.records("records"))
    assert len(records) == result.row_count == 4
    first, third = records[0], records[2]
    expected_title = TITLES[0].encode()
    assert first["records/title"] == expected_title and third["records/title"] is None
    assert [record["records/stock"] for record in records] == [3, None, -1, 12]
    assert first["records/price"] == pytest.approx(19.99) and first["records/in_stock"] is True
    assert pd.Timestamp(first["records/listed_on"]).date() == dt.date(2024, 1, 2)
    escaped = b"'" if record_file.endswith(".csv") else b""
    assert records[1]["records/title"] == escaped + TITLES[1].encode()

    document = json.loads((result.path / "croissant.json").read_text())
    assert document["conformsTo"] == "http://mlcommons.org/croissant/1.0"
    types = {f["name"]: f["dataType"] for f in document["recordSet"][0]["field"]}
    assert types == {"title": "sc:Text", "price": "sc:Float", "stock": "sc:Integer", "in_stock": "sc:Boolean",
                     "listed_on": "sc:Date", "seen_at": "sc:DateTime", "published": "sc:Date"}
    assert {f["source"]["fileObject"]["@id"] for f in document["recordSet"][0]["field"]} == {record_file}
    for file_object in document["distribution"]:
        assert not file_object["contentUrl"].startswith(("/", "http"))
        assert file_object["sha256"] == result.checksums[file_object["contentUrl"]]


def test_croissant_carries_provenance_and_responsible_ai_fields(package):
    metadata = mlcroissant.Dataset(jsonld=package.path / "croissant.json").metadata
    assert metadata.version == "1.2.0" and metadata.license == ["https://spdx.org/licenses/CC-BY-4.0.html"]
    assert metadata.data_limitations == ["Prices are as listed, not as sold."]
    assert metadata.personal_sensitive_information == ["E-mail addresses and phone numbers were redacted."]
    steps = metadata.data_preprocessing_protocol
    assert any("kept 4 of 10" in step and "min_quality: 5" in step for step in steps)
    document = json.loads((package.path / "croissant.json").read_text())
    derived = {entity["@id"]: entity for entity in document["prov:wasDerivedFrom"]}
    assert set(derived) == {"urn:databroker:source:shop-1", "urn:databroker:source:feed-2"}
    assert derived["urn:databroker:source:shop-1"]["url"] == "https://shop.example/list"
    activity = document["prov:wasGeneratedBy"]
    assert activity["@type"] == "prov:Activity" and activity["@id"] == "urn:databroker:refinement-run:run-42"
    assert "3f2a9c" in activity["description"]


# --- Frictionless ---------------------------------------------------------------------------


def test_datapackage_validates_with_frictionless(package):
    report = frictionless_validate(str(package.path / "datapackage.json"))
    assert report.valid, report.flatten(["taskNumber", "type", "note"])
    assert [task.stats["rows"] for task in report.tasks] == [4, 4, 4]
    descriptor = json.loads((package.path / "datapackage.json").read_text())
    assert descriptor["version"] == "1.2.0" and descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    assert [c["title"] for c in descriptor["contributors"]] == ["DataBroker Analysts"]
    assert {s["path"] for s in descriptor["sources"]} == {"https://shop.example/list", "https://feed.example/rss"}
    for resource in descriptor["resources"]:
        assert resource["hash"] == f"sha256:{package.checksums[resource['path']]}"
        assert {"path", "format", "mediatype", "schema"} <= set(resource)
        if resource["format"] != "parquet":
            assert resource["bytes"] == package.files[resource["path"]]["bytes"]
    types = {f["name"]: f["type"] for f in descriptor["resources"][0]["schema"]["fields"]}
    assert types == {"title": "string", "price": "number", "stock": "integer", "in_stock": "boolean",
                     "listed_on": "date", "seen_at": "datetime", "published": "date"}


def test_frictionless_catches_a_changed_data_file(package, tmp_path):
    root = writable_copy(package, tmp_path / "copy")
    csv_path = root / "data/data.csv"
    csv_path.write_text(csv_path.read_text().replace("19.99", "29.99"))
    report = frictionless_validate(str(root / "datapackage.json"))
    assert not report.valid
    assert "hash-count" in {error.type for task in report.tasks for error in task.errors}


# --- CSV safety and the dataset card ---------------------------------------------------------


def test_csv_escapes_formula_cells_but_not_numbers(tmp_path):
    triggers = ["=1+2", "+41", "-2", "@SUM(A1)", "\tx", "\rcmd", "plain", "a=b"]
    rows = pd.DataFrame({"text": triggers, "amount": [-1.5] * len(triggers)})
    result = write_package_version(rows, make_meta(), tmp_path / "v", ["csv", "jsonl"])
    with open(result.path / "data/data.csv", newline="", encoding="utf-8") as handle:
        read = list(csv.DictReader(handle))
    assert [row["text"] for row in read] == ["'" + t for t in triggers[:6]] + ["plain", "a=b"]
    assert {row["amount"] for row in read} == {"-1.5"}
    jsonl = [json.loads(line) for line in (result.path / "data/data.jsonl").read_text().splitlines()]
    assert [row["text"] for row in jsonl] == triggers
    assert escape_csv_formula("=cmd") == "'=cmd" and escape_csv_formula("ok") == "ok"


def test_dataset_card_has_front_matter_sections_and_no_live_html(package):
    card = (package.path / "README.md").read_text()
    _, front, body = card.split("---\n", 2)
    header = yaml.safe_load(front)
    assert header["license"] == "cc-by-4.0" and header["language"] == ["de", "ja"]
    assert header["pretty_name"] == "Market listings" and header["size_categories"] == ["n<1K"]
    headings = [line for line in body.splitlines() if line.startswith("## ")]
    assert headings == ["## Dataset summary", "## Dataset structure", "## Sources and provenance",
                        "## Refinement", "## Quality metrics", "## Languages", "## Licence", "## Limitations",
                        "## Personal data (PII) handling", "## Changelog"]
    assert "<script" not in card and "<img" not in card
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt; \\| \\*bold\\*" in card
    assert "| dropped by min\\_quality | 5 |" in card and "| mean\\_quality | 0.8125 |" in card
    assert "no conflict with the source licences" in card and "- first release" in card
    assert "prefixed with an apostrophe" in card  # the package has a CSV file


# --- atomic build and bad input --------------------------------------------------------------


def test_unserializable_column_fails_before_anything_is_written(tmp_path):
    rows = mixed_rows().assign(tags=[{"a"}, {"b"}, None, {"c"}])
    with pytest.raises(PackageBuildError, match="column 'tags' holds values of types set"):
        write_package_version(rows, make_meta(), tmp_path / "v", ALL_FORMATS)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("failing", [
    "core.packaging.dataset_card.dataset_card", "core.packaging.writer.write_manifest",
    "core.packaging.writer.os.rename"])
def test_failure_mid_build_leaves_no_directory(tmp_path, monkeypatch, failing):
    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(failing, explode)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_package_version(mixed_rows(), make_meta(), tmp_path / "v", ALL_FORMATS)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_an_existing_version(tmp_path):
    existing = tmp_path / "1.2.0"
    existing.mkdir()
    (existing / "keep.txt").write_text("old")
    with pytest.raises(FileExistsError, match="immutable"):
        write_package_version(mixed_rows(), make_meta(), existing, ALL_FORMATS)
    assert [p.name for p in existing.iterdir()] == ["keep.txt"] and len(list(tmp_path.iterdir())) == 1


def test_bad_metadata_names_every_problem(tmp_path):
    meta = make_meta(name="Bad Name", version="1.2", license="Foo-1.0", created_at="yesterday")
    with pytest.raises(PackageBuildError) as caught:
        write_package_version(mixed_rows(), meta, tmp_path / "v", ALL_FORMATS)
    message = str(caught.value)
    for fragment in ("name 'Bad Name'", "version '1.2'", "Foo-1.0", "created_at 'yesterday'"):
        assert fragment in message
    assert not (tmp_path / "v").exists()


@pytest.mark.parametrize(("rows", "formats", "message"), [
    (pd.DataFrame({"a": ["x", 1]}), ALL_FORMATS, "column 'a' holds values of types int, str"),
    (pd.DataFrame({"a": [1.0, float("inf")]}), ALL_FORMATS, "column 'a' is infinite at row 1"),
    (pd.DataFrame([[1, 2]], columns=["a", "a"]), ALL_FORMATS, "duplicate column names: a"),
    (pd.DataFrame({"=cmd": [1]}), ALL_FORMATS, "formula character"),
    (pd.DataFrame({"a": pd.Series([], dtype="float64")}), ALL_FORMATS, "rows is empty"),
    (pd.DataFrame({"a": pd.to_timedelta([1], unit="s")}), ALL_FORMATS, "dtype timedelta64"),
    (pd.DataFrame({"a": [1]}), ["xlsx"], "unknown: xlsx"),
    (pd.DataFrame({"a": [dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2024, 1, 1)]}), ALL_FORMATS,
     "column 'a' mixes datetimes"),
])
def test_bad_rows_are_refused_with_a_clear_message(tmp_path, rows, formats, message):
    with pytest.raises(PackageBuildError, match=message):
        write_package_version(rows, make_meta(), tmp_path / "v", formats)
    assert list(tmp_path.iterdir()) == []


def test_aware_datetimes_with_different_offsets_are_stored_in_utc(tmp_path):
    winter, summer = dt.timezone(dt.timedelta(hours=1)), dt.timezone(dt.timedelta(hours=2))
    rows = pd.DataFrame({"seen_at": [dt.datetime(2024, 1, 1, 10, tzinfo=winter),
                                     dt.datetime(2024, 7, 1, 10, 30, tzinfo=summer), None]})
    result = write_package_version(rows, make_meta(field_descriptions={}), tmp_path / "v", ["jsonl"])
    lines = (result.path / "data/data.jsonl").read_text().splitlines()
    assert [json.loads(line)["seen_at"] for line in lines] == [
        "2024-01-01T09:00:00+00:00", "2024-07-01T08:30:00+00:00", None]


# --- licences -------------------------------------------------------------------------------


def test_spdx_validation_accepts_ids_and_expressions_and_names_bad_ones():
    assert normalize_license("mit") == "MIT"
    assert normalize_license("GPL-2.0+ or apache-2.0") == "GPL-2.0-or-later OR Apache-2.0"
    assert license_ids("MIT OR (Apache-2.0 WITH LLVM-exception AND BSD-3-Clause)") == [
        "MIT", "Apache-2.0", "BSD-3-Clause"]
    assert is_valid_license("LicenseRef-DataBroker-Commercial") and is_valid_license("ODbL-1.0")
    for bad in ("Foo-1.0", "MIT OR", "(MIT", "", "MIT AND", "LicenseRef-"):
        assert not is_valid_license(bad), bad
    with pytest.raises(LicenseError, match="unknown SPDX id"):
        normalize_license("CC-BY-5.0")


@pytest.mark.parametrize(("package_license", "source_license", "rule"), [
    ("CC-BY-4.0", "CC-BY-NC-4.0", RULE_NON_COMMERCIAL),
    ("LicenseRef-DataBroker-Commercial", "CC-BY-NC-4.0", RULE_NON_COMMERCIAL),
    ("CC-BY-NC-SA-4.0", "CC-BY-NC-4.0", None),
    ("MIT", "CC-BY-ND-4.0", RULE_NO_DERIVATIVES),
    ("CC-BY-NC-ND-4.0", "CC-BY-NC-ND-4.0", None),
    ("CC-BY-4.0", "CC-BY-SA-4.0", RULE_SHARE_ALIKE),
    ("CC-BY-SA-4.0", "CC-BY-SA-3.0", None),
    ("CC-BY-SA-3.0", "CC-BY-SA-4.0", RULE_SHARE_ALIKE),
    ("MIT", "GPL-3.0-only", RULE_SHARE_ALIKE),
    ("GPL-3.0-only", "GPL-2.0-only", RULE_SHARE_ALIKE),
    ("CC-BY-4.0", "ODbL-1.0", RULE_SHARE_ALIKE),
    ("ODbL-1.0", "ODbL-1.0", None),
    ("CC-BY-4.0", "CC0-1.0", None),
    ("Apache-2.0", "MIT", None),
    ("CC-BY-SA-4.0", "ODC-By-1.0", None),
    ("ODbL-1.0", "PDDL-1.0", None),
    ("LicenseRef-DataBroker-Commercial", "CC-BY-4.0", None),
    ("CC0-1.0", "CC-BY-4.0", RULE_ATTRIBUTION),
    ("CC0-1.0", "PDDL-1.0", None),
    ("CC-BY-4.0", "LicenseRef-Vendor-EULA", RULE_UNKNOWN),
    ("LicenseRef-Vendor-EULA", "LicenseRef-Vendor-EULA", None),
    ("CC-BY-4.0", "Foo-1.0", RULE_UNKNOWN),
    ("CC0-1.0", "NOASSERTION", RULE_UNKNOWN),
    ("CC-BY-4.0", "MIT OR CC-BY-NC-4.0", None),
    ("CC-BY-4.0", "MIT AND CC-BY-NC-4.0", RULE_NON_COMMERCIAL),
    ("MIT OR CC-BY-SA-4.0", "CC-BY-SA-4.0", RULE_SHARE_ALIKE),
])
def test_license_compatibility_rules(package_license, source_license, rule):
    conflicts = check_license_compatibility(package_license, {"shop-1": source_license})
    assert [c.rule for c in conflicts] == ([rule] if rule else [])
    assert all(c.source == "shop-1" for c in conflicts)


def test_compatibility_names_only_the_conflicting_sources():
    conflicts = check_license_compatibility("CC-BY-4.0", {
        "news": "CC-BY-4.0", "forum": "CC-BY-NC-SA-4.0", "open-data": "CC0-1.0"})
    assert {c.source for c in conflicts} == {"forum"}
    assert {c.rule for c in conflicts} == {RULE_NON_COMMERCIAL, RULE_SHARE_ALIKE}
    with pytest.raises(LicenseError):
        check_license_compatibility("Not-A-Licence", {"news": "MIT"})


# --- versions -------------------------------------------------------------------------------


@pytest.mark.parametrize(("previous", "change", "expected"), [
    (None, "major", "1.0.0"), (None, "minor", "0.1.0"), (None, "patch", "0.0.1"),
    ("1.4.2", "major", "2.0.0"), ("1.4.2", "minor", "1.5.0"), ("1.4.2", "patch", "1.4.3"),
    ("2.0.0-rc.1", "major", "2.0.0"), ("1.2.0-beta", "minor", "1.2.0"), ("1.2.3-rc.1", "minor", "1.3.0"),
    ("1.2.3-rc.1", "patch", "1.2.3"), ("1.2.3+build.7", "patch", "1.2.4"),
])
def test_next_version_follows_semver(previous, change, expected):
    assert next_version(previous, change) == expected


@pytest.mark.parametrize(("previous", "change"), [("1.2", "patch"), ("01.2.3", "patch"), ("1.2.3", "huge")])
def test_next_version_rejects_bad_input(previous, change):
    with pytest.raises(ValueError):
        next_version(previous, change)


def test_changelog_entry_lists_changed_added_and_removed_counts():
    before = {"input": 100, "kept": 80, "dropped_by_rule": {"min_quality": 15, "duplicate": 5}}
    after = {"input": 120, "kept": 80, "dropped_by_rule": {"min_quality": 30, "pii": 10}}
    assert changelog_entry(before, after).splitlines() == [
        "- input: 100 → 120 (+20)",
        "- dropped_by_rule.min_quality: 15 → 30 (+15)",
        "- dropped_by_rule.pii: new, 10",
        "- dropped_by_rule.duplicate: removed (was 5)",
    ]
    assert changelog_entry(before, before) == "- no count changed"
    assert changelog_entry(None, {"input": 3, "kept": 2}) == "- first version: input 3, kept 2"
