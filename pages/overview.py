import pandas as pd
import streamlit as st

from core import charts
from core.auth import Principal
from core.plain_errors import plain_error
from core.status import workbench_status
from pages._alerts import show_alerts
from pages._ui import job_label, require_page_user

st.title("Overview")
user = require_page_user("supplier", "admin")
show_alerts(user)  # open monitoring alerts (pages/_alerts.py); details on the Monitoring page


@st.cache_data(ttl=5, show_spinner=False)
def _status(principal: Principal) -> dict:
    return workbench_status(principal, job_limit=15)


status = _status(user)
counts = status["counts"]
if counts:
    cols = st.columns(len(counts))
    for col, (stage, count) in zip(cols, counts.items(), strict=True):
        col.metric(charts.STAGE_LABELS[stage], f"{count:,}")
    if any(counts.values()):
        st.plotly_chart(charts.stage_funnel(counts, "From raw data to sales"), width="stretch")
    if counts["raw"] == 0:
        st.info("The raw store is empty. Open **Sources & Scraping** to scrape the demo sites, or **Upload** a file.")
else:
    st.error("The SQL store is not reachable, so no counts can be shown.")

st.subheader("Recent jobs")
jobs = status["recent_jobs"]
if jobs:
    table = pd.DataFrame(jobs)[["id", "kind", "status", "progress", "message", "error", "created_at", "finished_at"]]
    table["kind"] = table["kind"].map(job_label)
    table["error"] = table["error"].map(lambda text: plain_error(text) if isinstance(text, str) else text)
    st.dataframe(
        table, hide_index=True, width="stretch",
        column_config={"id": st.column_config.NumberColumn("job"), "kind": "job kind",
                       "progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0),
                       "created_at": st.column_config.DatetimeColumn("started", format="YYYY-MM-DD HH:mm"),
                       "finished_at": st.column_config.DatetimeColumn("finished", format="YYYY-MM-DD HH:mm")},
    )
else:
    st.caption("No jobs yet. Scraping, refinement and packaging runs appear here.")

st.subheader("Stores")
for label, key in (("SQL store (system of record)", "sql"), ("Raw store (original documents)", "raw")):
    info = status[key]
    if info["ok"]:
        # Where the stores live is for whoever runs the server; a supplier sees what they hold.
        location = info.get("url") if user.role == "admin" else None
        extra = location or ", ".join(f"{app}: {n:,}" for app, n in info.get("documents", {}).items())
        st.success(f"{label}: {info['kind']}" + (f" - {extra}" if extra else ""))
    else:
        st.error(f"{label}: {info['kind']} is down: {info.get('error')}")
