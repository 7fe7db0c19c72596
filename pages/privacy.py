import pandas as pd
import streamlit as st

from core.auth import PermissionDenied
from core.privacy.erase import erasure_history
from core.privacy.export import export_subject
from core.privacy.search import STORE_LABELS, find_subject
from core.privacy.subject import Subject, SubjectError
from core.store import jobs
from pages._ui import require_page_user, show_job

st.title("Privacy (GDPR)")
user = require_page_user("supplier", "admin")
scope = "everyone's data" if user.role == "admin" else "your own datasets, sources and packages"
st.caption(f"Find a person by email, phone or name in every store ({scope}): raw documents, items, lake files, "
           "raw snapshots, package versions and earlier exports. Export what was found, or erase it everywhere.")

SUBJECT = "privacy_subject"  # the identifiers searched last (normalised), for export and erasure
RESULT = "privacy_result"
JOB = "privacy_job"

with st.form("privacy_search"):
    left, right = st.columns(2)
    email = left.text_input("Email", placeholder="jane.doe@example.org", key="privacy_email")
    name = right.text_input("Name", placeholder="Jane Doe", key="privacy_name")
    phone = left.text_input("Phone", placeholder="+44 20 7946 0958", key="privacy_phone")
    region = right.text_input("Country of a phone written without +code", placeholder="GB", max_chars=2,
                              key="privacy_region")
    if st.form_submit_button("Search", type="primary"):
        try:
            subject = Subject.from_input(email=email, phone=phone, name=name, region=region or None)
            findings = find_subject(user, subject)
        except (SubjectError, PermissionDenied) as exc:
            st.error(str(exc))
        else:
            st.session_state[SUBJECT] = subject.as_dict()
            st.session_state[RESULT] = {"counts": findings.counts(), "places": findings.table()}

result = st.session_state.get(RESULT)
if result:
    subject = Subject(*(tuple(st.session_state[SUBJECT][k]) for k in ("emails", "phones", "names")))
    counts = result["counts"]
    for column, (store, count) in zip(st.columns(len(counts)), counts.items(), strict=True):
        column.metric(STORE_LABELS[store] + "s", count)
    places = result["places"]
    if places.empty:
        st.info("This person appears nowhere in the data you can see.")
    else:
        st.caption("One row per field the person appears in; the identifier itself is masked.")
        st.dataframe(places.assign(store=places["store"].map(STORE_LABELS)), hide_index=True, width="stretch")

        st.subheader("Export")
        if st.button("Prepare export archive", key="privacy_export"):
            try:
                exported = export_subject(user, subject)
                with open(exported["path"], "rb") as handle:
                    st.session_state["privacy_export_file"] = (exported["file_name"], handle.read())
            except PermissionDenied as exc:
                st.error(str(exc))
            except OSError as exc:
                st.error(f"The archive could not be written ({exc}); check that DATA_DIR is writable and has space.")
        prepared = st.session_state.get("privacy_export_file")
        if prepared:
            st.download_button("Download archive (ZIP: manifest.json + records)", prepared[1], file_name=prepared[0],
                               mime="application/zip", key="privacy_download")

        st.subheader("Erase")
        st.caption("Raw documents and items are redacted (the person's identifiers replaced by [erased]); lake file "
                   "rows, raw snapshot files and earlier exports are removed; unsold package versions are rebuilt "
                   "without the records; sold versions are flagged for their buyers. The identifiers go on the "
                   "suppression list (hashed), so a re-scrape does not bring the data back. This cannot be undone.")
        confirmed = st.checkbox("I have checked the results above and want to erase this person everywhere",
                                key="privacy_confirm")
        if st.button("Erase everywhere", type="primary", disabled=not confirmed, key="privacy_erase"):
            try:
                st.session_state[JOB] = jobs.submit("privacy_erase", subject.as_dict(), user)
            except PermissionDenied as exc:
                st.error(str(exc))
            st.session_state.pop("privacy_export_file", None)

job_id = st.session_state.get(JOB)
if job_id:
    job = show_job(job_id, "privacy", describe=lambda r: f"erasure {r.get('erasure_id')} done; report below")
    if job and job["status"] == "succeeded":
        report = job["result"]
        rows = [{"store": store, "what changed": ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in counts.items()
                                                           if k != "versions")}
                for store, counts in report.items() if isinstance(counts, dict) and store != "found"]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.session_state.pop(RESULT, None)  # the results are out of date now; search again to verify

history = erasure_history(user, limit=20)
if history:
    st.subheader("Erasures")
    st.dataframe(pd.DataFrame([{"erasure": e["id"], "status": e["status"], "job": e["job_id"],
                                "when": e["created_at"], "found": e["report"].get("found")} for e in history]),
                 hide_index=True, width="stretch")
