from pathlib import Path

import streamlit as st

from core.packaging.build import PackageBuildError, dataset_card_body, list_packages, package_detail, package_metadata
from core.refine.runs import list_datasets, list_runs, run_detail
from core.store import jobs
from core.text_safety import markdown_without_remote_images
from pages._ui import require_page_user, show_job

st.title("Packages")
st.caption("Versioned, documented datasets built from a refinement run's kept items: data files, manifest with "
           "checksums, Croissant and Frictionless metadata, and a dataset card.")
user = require_page_user("supplier", "admin")

with st.expander("Build a new package version", expanded=True):
    datasets = list_datasets(user)
    if not datasets:
        st.info("No datasets yet: scrape or upload data first, then refine it.")
    else:
        dataset = st.selectbox("Dataset", [d["name"] for d in datasets], key="pkg_dataset")
        dataset_id = next(d["id"] for d in datasets if d["name"] == dataset)
        runs = list_runs(user, dataset_id)
        runs = runs[runs["status"] == "succeeded"]
        if runs.empty:
            st.info("This dataset has no finished refinement run. Run one on the **Refine** page.")
        else:
            run_id = st.selectbox(
                "Refinement run", runs["run_id"].tolist(), key="pkg_run",
                format_func=lambda r: f"run {r}: {int(runs.set_index('run_id').loc[r, 'kept']):,} kept")
            languages = sorted((run_detail(user, run_id)["metrics"].get("languages") or {}).keys())
            c1, c2 = st.columns(2)
            title = c1.text_input("Title", key="pkg_title", placeholder="e.g. European news articles 2026")
            licence = c2.text_input("Licence (SPDX)", value="CC-BY-4.0", key="pkg_license")
            keep_languages = c1.multiselect("Only these languages (empty: all)", languages, key="pkg_languages")
            formats = c2.multiselect("Formats", ["jsonl", "csv", "parquet"], default=["jsonl", "csv", "parquet"],
                                     key="pkg_formats")
            change = st.radio("Version bump from the previous version", ["minor", "patch", "major"],
                              horizontal=True, key="pkg_change")
            description = st.text_area("Description", key="pkg_description", height=80)
            if st.button("Build package", type="primary", disabled=not (title and formats), key="pkg_build"):
                st.session_state["pkg_job"] = jobs.submit("package", {
                    "dataset": dataset, "run_id": int(run_id), "title": title,
                    "license": licence, "formats": formats, "languages": keep_languages, "change": change,
                    "description": description}, user)
if "pkg_job" in st.session_state:
    show_job(st.session_state["pkg_job"], key="pkg")

packages = list_packages(user)
st.subheader("Versions")
if packages.empty:
    st.caption("No packages yet.")
    st.stop()
st.dataframe(packages.drop(columns=["path"]), hide_index=True, width="stretch",
             column_config={"created_at": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm")})
published = packages[packages["status"] == "published"]
if published.empty:
    st.stop()
choice = st.selectbox("Open a version", published["package_id"].tolist(), key="pkg_open",
                      format_func=lambda p: "{name} {version}".format(**published.set_index("package_id").loc[p]))
package = package_detail(user, int(choice))
root = Path(package["path"])
# Where files sit on the server helps an operator and tells everyone else about the server's disk.
shows_server_paths = user.role == "admin"
card_tab, files_tab, croissant_tab, datapackage_tab = st.tabs(["Dataset card", "Files and checksums",
                                                                "Croissant", "datapackage.json"])
with card_tab:
    card = dataset_card_body(root)
    if card:
        st.markdown(markdown_without_remote_images(card))
    else:
        st.warning(f"The dataset card (README.md) is missing from {root if shows_server_paths else 'the package'}.")
with files_tab:
    st.dataframe([{"file": name, **entry} for name, entry in package["files"].items()], hide_index=True,
                 width="stretch")
    if shows_server_paths:
        st.caption(f"Stored at {root}")
for tab, name in ((croissant_tab, "croissant.json"), (datapackage_tab, "datapackage.json")):
    with tab:
        try:
            st.json(package_metadata(root, name), expanded=1)
        except PackageBuildError as exc:
            st.error(str(exc) if shows_server_paths else
                     f"{name} is missing or unreadable: the package's files need restoring; an admin can see where.")
