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
    at.selectbox(key="pkg_open").select(int(built.iloc[0]["package_id"])).run()
    assert_no_exception(at)
    assert any("Dataset" in m.value or "dataset" in m.value for m in at.markdown)


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
