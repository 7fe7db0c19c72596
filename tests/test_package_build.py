import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from principals import as_admin
from refine_fixtures import dataset_with_run

from core import auth
from core.packaging.build import PackageRequest, build_package, list_packages, package_detail
from core.packaging.manifest import verify_package
from core.packaging.writer import PackageBuildError
from core.refine import runs

ROOT = Path(__file__).resolve().parent.parent


def test_run_persistence_counts_and_records(workbench):
    dataset, run_id = dataset_with_run()
    detail = runs.run_detail(as_admin(), run_id)
    assert detail["status"] == "succeeded" and detail["counts"]["input"] == 12 and detail["counts"]["kept"] == 9
    assert detail["counts"]["dropped_by_rule"] == {"min_quality": 3}
    table = runs.run_tables(as_admin(), run_id)
    assert len(table) == 12 and table["kept"].sum() == 9
    assert Path(detail["validated_path"]).exists()
    assert runs.list_runs(as_admin(), dataset["id"]).iloc[0]["run_id"] == run_id


def test_build_publishes_verified_versions_with_changelog(workbench):
    dataset, run_id = dataset_with_run()
    supplier = auth.demo_principal("supplier")
    first = build_package(supplier, PackageRequest(dataset=dataset["name"], title=f"Energy {dataset['name']}",
                                                   license="CC-BY-4.0"))
    assert first["version"] == "1.0.0" and first["rows"] == 9
    assert verify_package(Path(first["path"])) == []
    manifest = json.loads((Path(first["path"]) / "manifest.json").read_text())
    assert {"data/data.jsonl", "data/data.csv", "data/data.parquet", "croissant.json", "datapackage.json",
            "README.md"} <= set(manifest["files"])
    with open(Path(first["path"]) / "data" / "data.csv", newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    assert texts and all(t.startswith("'=SUM") for t in texts)  # formula cells are escaped for spreadsheets
    second = build_package(supplier, PackageRequest(dataset=dataset["name"], title=f"Energy {dataset['name']}",
                                                    license="CC-BY-4.0", languages=["en"]))
    assert second["version"] == "1.1.0"
    assert "since 1.0.0" in package_detail(as_admin(), second["package_id"])["changelog"]
    assert set(list_packages(as_admin(), dataset["name"])["version"]) == {"1.0.0", "1.1.0"}


def test_licence_conflict_names_the_source_and_publishes_nothing(workbench):
    dataset, _ = dataset_with_run(license="CC-BY-NC-4.0")
    with pytest.raises(PackageBuildError, match=f"source 'upload:{dataset['name']}'"):
        build_package(auth.demo_principal("admin"), PackageRequest(dataset=dataset["name"], title="x conflict",
                                                                   license="CC-BY-4.0"))
    assert list_packages(as_admin(), dataset["name"]).empty


def test_failed_build_is_marked_failed_and_leaves_no_directory(workbench, tmp_path):
    dataset, _ = dataset_with_run()
    request = PackageRequest(dataset=dataset["name"], title="bad formats", license="CC-BY-4.0", formats=("xlsx",),
                             out_dir=tmp_path / "out")
    with pytest.raises(PackageBuildError):
        build_package(auth.demo_principal("admin"), request)
    assert not (tmp_path / "out").exists()
    assert list_packages(as_admin(), dataset["name"]).iloc[0]["status"] == "failed"


def test_buyers_cannot_build_and_filters_that_match_nothing_are_refused(workbench):
    dataset, _ = dataset_with_run()
    with pytest.raises(auth.PermissionDenied):
        build_package(auth.demo_principal("buyer"), PackageRequest(dataset=dataset["name"], title="t", license="MIT"))
    with pytest.raises(PackageBuildError, match="No kept items"):
        build_package(auth.demo_principal("admin"), PackageRequest(dataset=dataset["name"], title="t",
                                                                   license="MIT", languages=["zz"]))


def test_cli_package_build_and_list(workbench, tmp_path):
    dataset, run_id = dataset_with_run()
    env = {**os.environ}
    out = tmp_path / "version"
    built = subprocess.run([sys.executable, "-m", "core", "package", "build", "--dataset", dataset["name"],
                            "--run", str(run_id), "--name", "CLI pack", "--license", "CC-BY-4.0",
                            "--formats", "jsonl,parquet", "--out", str(out)],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert built.returncode == 0, built.stderr
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "croissant.json", "data", "datapackage.json",
                                                      "manifest.json"]
    listed = subprocess.run([sys.executable, "-m", "core", "package", "list", "--dataset", dataset["name"]],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert "cli-pack" in listed.stdout and "1.0.0" in listed.stdout
