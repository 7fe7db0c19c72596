from pathlib import Path

import streamlit as st

from core.market.downloads import DownloadError, own_package_archive
from core.market.returns import REPORT_MARKDOWN, quality_report, quality_report_markdown, supplier_return
from core.packaging.build import (
    PackageBuildError,
    PackageRequest,
    check_package_licence,
    list_packages,
    package_detail,
)
from core.packaging.documents import package_card, package_document
from core.refine.runs import list_datasets, list_runs, run_choice_label, run_detail
from core.store import jobs
from core.text_safety import markdown_without_remote_images
from pages._ui import next_steps, remember, remembered_selectbox, require_page_user, show_job

st.title("Packages")
st.caption("Versioned, documented datasets built from a refinement run's kept items: data files, manifest with "
           "checksums, Croissant and Frictionless metadata, and a dataset card.")
user = require_page_user("supplier", "admin")

with st.expander("Build a new package version", expanded=True):
    datasets = list_datasets(user)
    if not datasets:
        st.info("No datasets yet: scrape or upload data first, then refine it.")
    else:
        dataset = remembered_selectbox("Dataset", [d["name"] for d in datasets], "dataset", key="pkg_dataset")
        dataset_id = next(d["id"] for d in datasets if d["name"] == dataset)
        runs = list_runs(user, dataset_id)
        runs = runs[runs["status"] == "succeeded"]
        if runs.empty:
            st.info("This dataset has no finished refinement run. Run one on the **Refine** page.")
        else:
            by_id = runs.set_index("run_id")
            run_id = remembered_selectbox("Refinement run", runs["run_id"].tolist(), "run", key="pkg_run",
                                          format_func=lambda r: run_choice_label({**by_id.loc[r].to_dict(),
                                                                                  "run_id": r}))
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
                # The build's own licence check, made now: a conflict is a message here, not a failed job.
                problems = check_package_licence(user, PackageRequest(
                    dataset=dataset, title=title, license=licence, run_id=int(run_id), languages=keep_languages))
                if problems:
                    st.error(f"The licence {licence} cannot be used for this data. "
                             + "; ".join(problems) + ". Choose a licence every source allows, or leave those "
                             "sources out.")
                else:
                    st.session_state["pkg_job"] = jobs.submit("package", {
                        "dataset": dataset, "run_id": int(run_id), "title": title,
                        "license": licence, "formats": formats, "languages": keep_languages, "change": change,
                        "description": description}, user)
if "pkg_job" in st.session_state:
    job = show_job(st.session_state["pkg_job"], key="pkg", describe=lambda result: (
        f"{result['name']} {result['version']} is published with {result['rows']:,} rows."))
    if job and job["status"] == "succeeded":
        remember("package", job["result"]["package_id"])
        next_steps(("pages/marketplace.py", "List it for sale on the Marketplace", ":material/storefront:"))

packages = list_packages(user)
st.subheader("Versions")
if packages.empty:
    st.caption("No packages yet.")
    st.stop()
st.dataframe(packages.drop(columns=["path"]), hide_index=True, width="stretch",
             column_config={"package_id": st.column_config.NumberColumn("package"),
                            "run_id": st.column_config.NumberColumn("refinement run"),
                            "dataset_version": "dataset version", "license": "licence",
                            "created_at": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm")})
published = packages[packages["status"] == "published"]
if published.empty:
    st.stop()
choice = remembered_selectbox(
    "Open a version", published["package_id"].tolist(), "package", key="pkg_open",
    format_func=lambda p: "{name} {version}".format(**published.set_index("package_id").loc[p]))
package = package_detail(user, int(choice))
built_from = (package["manifest"].get("dataset_version") or {}).get("label")
if built_from:
    st.caption(f"Built from dataset version {built_from} (refinement run {package['run_id']}).")
elif package.get("run_id"):
    st.caption(f"Built from refinement run {package['run_id']} (before dataset versions were recorded).")
if st.button("Prepare a download of this version", key="pkg_prepare"):
    try:
        st.session_state["pkg_archive"] = (int(choice), *own_package_archive(user, int(choice)))
    except DownloadError as exc:
        st.error(str(exc))
prepared = st.session_state.get("pkg_archive")
if prepared and prepared[0] == int(choice):
    st.download_button(f"Download {prepared[1]} ({len(prepared[2]) / 1e6:.1f} MB)", prepared[2],
                       file_name=prepared[1], mime="application/zip", key="pkg_download")
with st.expander("Supplier return: this version with its quality report"):
    st.caption("Your cleaned data as packaged, plus the refinement run's quality report (counts, why items were "
               f"dropped, signal distributions) as JSON and Markdown under {REPORT_MARKDOWN.split('/')[0]}/, whether "
               "or not you sell it. manifest.json in the zip covers the report too.")
    if st.button("Prepare the supplier return", key="pkg_return_prepare"):
        try:
            name, archive = supplier_return(user, int(choice))
            report = quality_report(user, package["run_id"]) if package.get("run_id") else None
            st.session_state["pkg_return"] = (int(choice), name, archive, report)
        except DownloadError as exc:
            st.error(str(exc))
    returned = st.session_state.get("pkg_return")
    if returned and returned[0] == int(choice):
        _, return_name, return_archive, report = returned
        st.download_button(f"Download {return_name} ({len(return_archive) / 1e6:.1f} MB)", return_archive,
                           file_name=return_name, mime="application/zip", key="pkg_return_download")
        if report:
            st.markdown(quality_report_markdown(report))
with st.expander("Upload this version to a bucket (S3)"):
    st.caption("Every file is uploaded to <bucket URL>/<name>/<version>/ and read back to verify its SHA-256. "
               "Credentials come from the workbench settings; a private endpoint must be on the network allow-list.")
    dest_left, dest_right = st.columns(2)
    dest_url = dest_left.text_input("Bucket URL", key="pkg_bucket_url", placeholder="s3://my-bucket/packages")
    dest_endpoint = dest_right.text_input("Endpoint URL (S3-compatible services)", key="pkg_bucket_endpoint")
    if st.button("Upload to bucket", disabled=not dest_url, key="pkg_bucket_upload"):
        st.session_state["pkg_bucket_job"] = jobs.submit("bucket_package_upload", {
            "package_id": int(choice), "url": dest_url, "endpoint_url": dest_endpoint or None}, user)
    if "pkg_bucket_job" in st.session_state:
        show_job(st.session_state["pkg_bucket_job"], key="pkg_bucket", describe=lambda result: (
            f"Uploaded {result['files']} files to {result['url']}; every checksum verified."))
root = Path(package["path"])
# Where files sit on the server helps an operator and tells everyone else about the server's disk.
shows_server_paths = user.role == "admin"
card_tab, files_tab, croissant_tab, datapackage_tab = st.tabs(["Dataset card", "Files and checksums",
                                                                "Croissant", "datapackage.json"])
with card_tab:
    card = package_card(user, int(choice))
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
            st.json(package_document(user, int(choice), name), expanded=1)
        except PackageBuildError as exc:
            st.error(str(exc) if shows_server_paths else
                     f"{name} is missing or unreadable: the package's files need restoring; an admin can see where.")
