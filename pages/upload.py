import pandas as pd
import streamlit as st

from core.applications import APPLICATIONS
from core.auth import PermissionDenied
from core.config import get_settings
from core.sources.ingest import ORIGINS, ingest_upload
from core.sources.upload_formats import SUPPORTED_SUFFIXES, UploadError
from pages._ui import next_steps, remember, require_page_user

COMMON_LICENSES = ["CC-BY-4.0", "CC0-1.0", "CC-BY-SA-4.0", "ODC-By-1.0", "ODbL-1.0", "MIT", "Apache-2.0",
                   "CC-BY-NC-4.0", "Other (type an SPDX id)"]

st.title("Upload")
st.caption("Add files to the raw store with their licence, origin and your rights attestation. "
           "CSV, JSONL, JSON, Parquet, text, HTML, ZIP of text files, images, audio and video.")
user = require_page_user("supplier", "admin")
limits = get_settings()
st.caption(f"Limits: text and tables {limits.upload_max_text_mb} MB, images {limits.upload_max_image_mb} MB, "
           f"audio {limits.upload_max_audio_mb} MB, video {limits.upload_max_video_mb} MB each.")

files = st.file_uploader("Files", accept_multiple_files=True, key="upload_files",
                         type=sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES))
left, right = st.columns(2)
app = left.selectbox("Application", APPLICATIONS, key="upload_app",
                     help="The raw-store database the records go to; marketplace and property rows become listings.")
dataset = right.text_input("Dataset name", key="upload_dataset", placeholder="e.g. customer-reviews-2026",
                           help="New names create a dataset; an existing name adds to it. Use letters, digits, "
                                "'-', '_' and '.' (up to 100).")
license_choice = left.selectbox("Licence of the data (SPDX)", COMMON_LICENSES, key="upload_license_choice")
license_id = (right.text_input("SPDX licence id", key="upload_license_other") if license_choice.startswith("Other")
              else license_choice)
origin = st.radio("Origin", ORIGINS, horizontal=True, key="upload_origin")
notes = st.text_area("Notes (provenance, collection method, caveats)", key="upload_notes", height=80)
attested = st.checkbox("I have the right to supply this data, under the licence above.", key="upload_attest")

if st.button("Upload and ingest", type="primary", disabled=not (files and attested and dataset), key="upload_go"):
    rejected_rows, ingested = [], False
    for uploaded in files:
        bar = st.progress(0.0, text=f"{uploaded.name}: starting")
        try:
            report = ingest_upload(
                user, uploaded.name, uploaded.getvalue(), app=app, dataset=dataset.strip(), license=license_id,
                origin=origin, attested=attested, notes=notes,
                progress=lambda fraction, message, bar=bar, name=uploaded.name: bar.progress(fraction,
                                                                                             f"{name}: {message}"),
            )
        except (UploadError, PermissionDenied) as exc:
            bar.empty()
            st.error(f"{uploaded.name} was not ingested: {exc}")
            continue
        bar.progress(1.0, text=f"{uploaded.name}: done")
        cols = st.columns(4)
        cols[0].metric("New records", f"{report.new:,}")
        cols[1].metric("Already present", f"{report.already_present:,}")
        cols[2].metric("Rejected rows", f"{len(report.rejected):,}")
        cols[3].metric("Items created", f"{report.items_created:,}")
        rejected_rows.extend({"file": f, "line": line, "reason": why} for f, line, why in report.rejected)
        st.success(f"{uploaded.name} ingested into {report.app}/{report.dataset}.")
        ingested = True
        if report.warnings:
            lines = ", ".join(str(line) for _, line, _ in report.warnings[:20])
            st.info(f"{len(report.warnings)} row(s) kept with a repair (line {lines}"
                    f"{', ...' if len(report.warnings) > 20 else ''}): {report.warnings[0][2]}")
    if rejected_rows:
        st.warning(f"{len(rejected_rows)} row(s) were rejected; the other rows were kept.")
        st.dataframe(pd.DataFrame(rejected_rows), hide_index=True, width="stretch")
    if ingested:
        remember("dataset", dataset.strip())  # Refine and Packages open on the dataset just uploaded to
        next_steps(("pages/raw_explorer.py", "Open the records in Raw Explorer", ":material/manage_search:"),
                   ("pages/refine.py", f"Refine {dataset.strip()}", ":material/tune:"))
elif files and not attested:
    st.caption("Tick the attestation to enable the upload: nothing is ingested without it.")
