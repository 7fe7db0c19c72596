"""Dataset versions (issue 19): two refinement runs of one dataset compared item by item, through the
real refinement engine and stores; ownership; the `refine diff` CLI; the package records its version."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from principals import as_admin, as_supplier, new_user
from refine_fixtures import ingest_texts
from sqlmodel import select

from core.auth import PermissionDenied
from core.refine import runs
from core.refine.service import refine_dataset
from core.refine.versions import (
    VersionError,
    changes_table,
    compare_runs,
    dataset_versions,
    drop_rule,
    run_version,
)
from core.store.models import Item
from core.store.sql import session_scope

ROOT = Path(__file__).resolve().parent.parent
TOPICS = ["tram network", "harbour dredging", "school meals", "wind farm", "library hours", "bridge repairs",
          "bus lanes", "flood defences", "market square", "cycle paths", "water prices", "night trains"]


def distinct_article(topic: str, variant: int) -> str:
    """A readable article that shares no sentence with the others (no near-duplicates to muddle decisions)."""
    return (f"The council debated the {topic} plan on day {variant}. Officials explained why the {topic} "
            f"budget grew, and residents asked how the {topic} works would change their street. "
            f"A final decision on the {topic} project is expected next month after a vote. ") * 2


def recipe(min_quality: float) -> dict:
    # One rule only, so which items a threshold drops can be read straight off the cached signals.
    return {"name": f"versions-q{min_quality:g}", "rules": [{"threshold": {"column": "quality", "min": min_quality}}]}


@pytest.fixture(scope="module")
def planted(workbench):
    """Run A; then a new ingest, a stricter threshold and one edited text; then run B."""
    name = f"versions-{uuid.uuid4().hex[:8]}"
    ingest_texts(name, [distinct_article(topic, 1) for topic in TOPICS[:8]])
    first = refine_dataset(as_supplier(), name, recipe(0.0))["run_id"]
    table_a = runs.run_tables(as_admin(), first)
    kept_a = set(table_a.loc[table_a["kept"], "id"].astype(int))
    assert len(kept_a) == 8
    quality = table_a.set_index(table_a["id"].astype(int))["quality"].sort_values()
    # The stricter threshold sits between the 3rd and 4th lowest quality: exactly three items fall below it.
    stricter = round(float((quality.iloc[2] + quality.iloc[3]) / 2), 6)
    expected_removed = set(quality.index[:3])
    edited = int(quality.index[-1])  # the best item, so it survives the stricter threshold
    with session_scope() as session:
        item = session.get(Item, edited)
        item.text = item.text + " A correction was added after publication."
        session.add(item)
    before = _item_ids(name)
    ingest_texts(name, [distinct_article(topic, 2) for topic in TOPICS[8:]])
    new_ids = _item_ids(name) - before
    assert len(new_ids) == 4
    second = refine_dataset(as_supplier(), name, recipe(stricter))["run_id"]
    table_b = runs.run_tables(as_admin(), second)
    table_b["id"] = table_b["id"].astype(int)
    new_kept = set(table_b.loc[table_b["kept"] & table_b["id"].isin(new_ids), "id"])
    assert new_kept, "the new articles should pass the threshold"
    return {"name": name, "first": first, "second": second, "removed": expected_removed, "edited": edited,
            "added": new_kept, "new": new_ids, "stricter": stricter}


def _item_ids(name: str) -> set[int]:
    with session_scope() as session:
        return set(session.exec(select(Item.id).where(Item.dataset_id == _dataset_id(name))).all())


def _dataset_id(name: str) -> int:
    return next(d["id"] for d in runs.list_datasets(as_admin()) if d["name"] == name)


def test_planted_changes_are_exactly_the_diff(planted):
    diff = compare_runs(as_supplier(), planted["first"], planted["second"])
    assert {e["item_id"] for e in diff["added"]} == planted["added"]
    assert {e["item_id"] for e in diff["removed"]} == planted["removed"]
    assert [(e["item_id"], e["change"], e["reason"]) for e in diff["changed"]] == [
        (planted["edited"], "content", "text changed")]
    assert all(e["reason"].startswith("new item: collected after v") for e in diff["added"])
    assert {e["reason"] for e in diff["removed"]} == {f"dropped by min_quality<{planted['stricter']:g} in "
                                                      f"v{diff['run_b']['number']}"}
    counts = diff["counts"]
    assert (counts["added"], counts["removed"], counts["changed"]) == (len(planted["added"]), 3, 1)
    assert counts["kept_b"] == counts["kept_a"] - 3 + len(planted["added"])
    assert counts["unchanged_kept"] == counts["kept_a"] - 3 - 1
    # Reversed, the same changes read the other way round.
    back = compare_runs(as_supplier(), planted["second"], planted["first"])
    assert {e["item_id"] for e in back["removed"]} == planted["added"]
    assert {e["item_id"] for e in back["added"]} == planted["removed"]
    assert all(e["reason"].startswith("dropped by min_quality<") for e in back["added"])


def test_lists_are_paged_and_tabled(planted):
    one = compare_runs(as_supplier(), planted["first"], planted["second"], page=1, page_size=2)
    two = compare_runs(as_supplier(), planted["first"], planted["second"], page=2, page_size=2)
    assert len(one["removed"]) == 2 and len(two["removed"]) == 1
    assert {e["item_id"] for e in one["removed"] + two["removed"]} == planted["removed"]
    assert one["removed"][0]["title"] is not None
    table = changes_table(one)
    assert list(table.columns) == ["change", "item_id", "title", "reason"] and set(table["change"]) <= {
        "added", "removed", "changed"}
    with pytest.raises(VersionError, match="Pages start at 1"):
        compare_runs(as_supplier(), planted["first"], planted["second"], page=0)


def test_versions_are_numbered_and_labelled(planted):
    versions = dataset_versions(as_supplier(), _dataset_id(planted["name"]))
    # Later tests may add runs; the first two versions are the planted runs, whatever runs come after.
    assert [v["run_id"] for v in versions[:2]] == [planted["first"], planted["second"]]
    assert [v["number"] for v in versions] == list(range(1, len(versions) + 1))
    label = run_version(as_supplier(), planted["second"])["label"]
    assert label.startswith("v2 · ") and label.endswith(f"· recipe versions-q{planted['stricter']:g}")


def test_another_supplier_and_other_datasets_are_refused(planted):
    stranger = new_user("supplier")
    with pytest.raises(PermissionDenied, match="that you can use"):
        compare_runs(stranger, planted["first"], planted["second"])
    with pytest.raises(PermissionDenied):
        compare_runs(new_user("buyer"), planted["first"], planted["second"])
    other = f"versions-other-{uuid.uuid4().hex[:6]}"
    ingest_texts(other, [distinct_article("ferry timetable", 3)])
    other_run = refine_dataset(as_supplier(), other, recipe(0.0))["run_id"]
    with pytest.raises(VersionError, match="different datasets"):
        compare_runs(as_supplier(), planted["first"], other_run)
    with pytest.raises(VersionError, match="two different runs"):
        compare_runs(as_supplier(), planted["first"], planted["first"])


def test_cli_diff(planted, capsys):
    from core.cli import main

    args = ["refine", "diff", str(planted["first"]), str(planted["second"])]
    # The real entry point once; the other outputs in-process (each interpreter start costs seconds).
    done = subprocess.run([sys.executable, "-m", "core", *args, "--json"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert {e["item_id"] for e in result["removed"]} == planted["removed"]
    assert result["counts"]["changed"] == 1
    capsys.readouterr()
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "removed 3" in text and "text changed" in text and "A: run " in text
    assert main([*args[:-1], "999999999"]) == 1
    assert "that you can use" in capsys.readouterr().err
    assert main(["refine", "diff", "7"]) == 2
    assert "two run ids" in capsys.readouterr().err


def test_package_records_the_dataset_version_it_came_from(planted):
    from core.packaging.build import PackageRequest, build_package, list_packages, package_detail

    built = build_package(as_supplier(), PackageRequest(dataset=planted["name"], title=f"Versions {planted['name']}",
                                                        license="CC-BY-4.0", run_id=planted["first"],
                                                        formats=("jsonl",)))
    version = run_version(as_supplier(), planted["first"])
    assert version["label"].startswith("v1 · ")
    package = package_detail(as_supplier(), built["package_id"])
    assert package["manifest"]["dataset_version"] == {k: version[k] for k in ("run_id", "number", "label")}
    root = Path(built["path"])
    assert json.loads((root / "datapackage.json").read_text())["refinement"]["dataset_version"] == version["label"]
    assert "Dataset version v1 · " in (root / "README.md").read_text()
    assert list(json.loads((root / "manifest.json").read_text())) == ["files"]  # the checksum file stays exact
    listed = list_packages(as_supplier(), planted["name"]).set_index("package_id")
    assert listed.at[built["package_id"], "dataset_version"] == version["label"]
    # The Packages page shows it under the opened version.
    import streamlit as st
    from apptest_helpers import assert_no_exception, page_app

    st.cache_data.clear()
    at = page_app("packages.py", role="supplier")
    at.selectbox(key="pkg_open").select(built["package_id"]).run()
    assert_no_exception(at)
    assert any(c.value.startswith(f"Built from dataset version {version['label']}") for c in at.caption)


def test_quality_page_compares_two_versions(planted):
    import streamlit as st
    from apptest_helpers import assert_no_exception, page_app

    st.cache_data.clear()
    at = page_app("quality.py", role="supplier")
    at.selectbox(key="quality_run_select").select(planted["second"]).run()
    assert_no_exception(at)
    # Version B opens on the run in hand, version A on the version before it.
    assert (at.selectbox(key="q_cmp_a").value, at.selectbox(key="q_cmp_b").value) == (planted["first"],
                                                                                      planted["second"])
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Added"], metrics["Removed"], metrics["Changed"]) == (str(len(planted["added"])), "3", "1")
    shown = next(d.value for d in at.dataframe if {"change", "reason"} <= set(d.value.columns))
    assert set(shown.loc[shown["change"] == "removed", "item_id"]) == planted["removed"]
    assert shown.loc[shown["change"] == "changed", "reason"].tolist() == ["text changed"]
    at.selectbox(key="q_cmp_a").select(planted["second"]).run()
    assert_no_exception(at)
    assert any("two different runs" in w.value for w in at.warning)


def test_a_different_rule_is_a_changed_reason_and_a_moved_threshold_is_not(planted):
    assert drop_rule("min_quality<0.6") == drop_rule("min_quality<0.7") == "min_quality"
    assert drop_rule("content_type=boilerplate") == "content_type=boilerplate"
    everything_too_short = {"name": "versions-long", "rules": [{"min_length": 100000}]}
    third = refine_dataset(as_supplier(), planted["name"], everything_too_short)["run_id"]
    diff = compare_runs(as_supplier(), planted["second"], third, page_size=500)
    assert diff["counts"]["kept_b"] == 0 and diff["counts"]["removed"] == diff["counts"]["kept_a"]
    # The three items the stricter threshold dropped are now dropped by another rule.
    assert {e["item_id"] for e in diff["changed"]} == planted["removed"]
    assert {(e["change"], e["reason_a"], e["reason_b"]) for e in diff["changed"]} == {
        ("drop reason", f"min_quality<{planted['stricter']:g}", "min_length<100000")}
