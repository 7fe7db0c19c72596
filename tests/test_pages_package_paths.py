"""The Packages page never tells a non-admin where packages sit on the server's disk."""

import shutil

import pytest
from apptest_helpers import assert_no_exception, page_app
from refine_fixtures import dataset_with_run

from core import auth
from core.packaging.build import PackageRequest, build_package


def _everything_shown(at) -> str:
    kinds = ("markdown", "caption", "subheader", "text", "success", "info", "warning", "error", "code", "json")
    shown = [str(e.value) for kind in kinds for e in getattr(at, kind)]
    shown += [frame.value.to_csv() for frame in at.dataframe]
    return "\n".join(shown)


def _open(role: str, package: dict):
    at = page_app("packages.py", role=role)
    at.selectbox(key="pkg_open").select(int(package["package_id"])).run()
    assert_no_exception(at)
    return at


@pytest.mark.parametrize("files_deleted", [False, True])
def test_supplier_does_not_see_the_server_path(workbench, files_deleted):
    dataset, _ = dataset_with_run()
    package = build_package(auth.demo_principal("supplier"), PackageRequest(
        dataset=dataset["name"], title=f"Paths {dataset['name']}", license="CC-BY-4.0"))
    if files_deleted:
        shutil.rmtree(package["path"])  # errors about missing files must not name the path either
    at = _open("supplier", package)
    shown = _everything_shown(at)
    assert str(package["path"]) not in shown and str(workbench.data_dir) not in shown
    if files_deleted:
        assert any("README.md) is missing" in w.value for w in at.warning)
        assert any("croissant.json is missing" in e.value for e in at.error)


def test_admin_still_sees_where_a_package_is_stored(workbench):
    dataset, _ = dataset_with_run()
    package = build_package(auth.demo_principal("supplier"), PackageRequest(
        dataset=dataset["name"], title=f"Paths {dataset['name']}", license="CC-BY-4.0"))
    at = _open("admin", package)
    assert any(str(package["path"]) in c.value for c in at.caption)
