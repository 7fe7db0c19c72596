import shutil

from apptest_helpers import assert_no_exception, button, page_app
from principals import as_admin
from refine_fixtures import dataset_with_run

from core.packaging.build import list_packages
from core.store import jobs


def test_build_a_package_from_the_page_and_open_it(workbench):
    dataset, run_id = dataset_with_run()
    at = page_app("packages.py", role="supplier")
    assert_no_exception(at)
    at.selectbox(key="pkg_dataset").select(dataset["name"]).run()
    at.text_input(key="pkg_title").input(f"Page pack {dataset['name']}").run()
    button(at, "Build package").click().run()
    assert_no_exception(at)
    job = jobs.wait_for(at.session_state["pkg_job"], timeout_s=60)
    assert job["status"] == "succeeded", job["error"]
    at.run()
    assert_no_exception(at)
    assert any("finished" in s.value for s in at.success)
    built = list_packages(as_admin(), dataset["name"])
    assert built.iloc[0]["status"] == "published" and built.iloc[0]["run_id"] == run_id
    assert any("is published with" in s.value and "rows" in s.value for s in at.success)
    assert "List it for sale on the Marketplace" in [link.label for link in at.get("page_link")]
    at.selectbox(key="pkg_open").select(int(built.iloc[0]["package_id"])).run()
    assert_no_exception(at)
    assert any("Dataset" in m.value or "dataset" in m.value for m in at.markdown)
    # The supplier takes their own package home without buying it.
    button(at, "Prepare a download of this version").click().run()
    assert_no_exception(at)
    [download] = [b for b in at.get("download_button") if b.proto.label.startswith("Download ")]
    assert download.proto.label.startswith(f"Download {built.iloc[0]['name']}-{built.iloc[0]['version']}.zip")


def test_a_licence_conflict_is_reported_before_any_job_starts(workbench):
    dataset, _ = dataset_with_run(license="CC-BY-NC-4.0")
    at = page_app("packages.py", role="supplier")
    at.selectbox(key="pkg_dataset").select(dataset["name"]).run()
    at.text_input(key="pkg_title").input(f"Conflicted {dataset['name']}").run()
    at.text_input(key="pkg_license").input("CC-BY-4.0").run()
    button(at, "Build package").click().run()
    assert_no_exception(at)
    assert "pkg_job" not in at.session_state  # nothing was submitted
    [message] = [e.value for e in at.error]
    assert "The licence CC-BY-4.0 cannot be used" in message and "CC-BY-NC-4.0" in message


def test_a_version_whose_files_were_deleted_is_explained_not_a_crash(workbench):
    dataset, _ = dataset_with_run()
    at = page_app("packages.py", role="supplier")
    at.selectbox(key="pkg_dataset").select(dataset["name"]).run()
    at.text_input(key="pkg_title").input(f"Doomed pack {dataset['name']}").run()
    button(at, "Build package").click().run()
    assert jobs.wait_for(at.session_state["pkg_job"], timeout_s=60)["status"] == "succeeded"
    built = list_packages(as_admin(), dataset["name"]).iloc[0]
    shutil.rmtree(built["path"])  # an operator cleaned the disk
    at.run()
    at.selectbox(key="pkg_open").select(int(built["package_id"])).run()
    assert_no_exception(at)
    assert any("README.md) is missing" in w.value for w in at.warning)
    assert sum("croissant.json is missing" in e.value or "datapackage.json is missing" in e.value
               for e in at.error) == 2
