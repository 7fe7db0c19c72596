"""Monitoring: data quality, pipelines, drift, model accuracy, feedback, resources, logs and alerts."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from core.auth import PermissionDenied
from core.monitoring import accuracy, alerts, drift, feedback, pipeline, quality, resources
from core.monitoring import charts as mcharts
from core.monitoring.logs import LEVELS, search_logs
from core.refine.runs import list_datasets, list_runs
from core.store import jobs
from core.text_safety import markdown_without_remote_images
from pages._alerts import show_alerts
from pages._ui import require_page_user, show_job

st.title("Monitoring")
user = require_page_user("supplier", "admin")
st.caption("Is today's data, pipeline and model as good as last week's? Alerts below come from your alert rules.")
show_alerts(user, quiet_when_clear=False, fresh=st.button("Check alerts now", key="mon_check_alerts"))

datasets = [d["name"] for d in list_datasets(user)]
(tab_quality, tab_pipeline, tab_drift, tab_models, tab_feedback, tab_resources, tab_logs,
 tab_rules) = st.tabs(["Data quality", "Pipelines", "Drift", "Models", "Feedback", "Resources", "Logs",
                       "Alert rules"])


# Reads only, cached briefly: reruns (a tab click, a widget) should not redo the aggregations.
@st.cache_data(ttl=20, show_spinner=False)
def _quality(principal, dataset: str) -> dict:
    return quality.quality_over_time(principal, dataset)


@st.cache_data(ttl=20, show_spinner=False)
def _pipeline(principal, hours: int) -> dict:
    return pipeline.pipeline_stats(principal, since=datetime.now(UTC) - timedelta(hours=hours))


@st.cache_data(ttl=30, show_spinner=False)
def _models(principal) -> list[dict]:
    from ml import registry

    return registry.list_models(principal)


def _safe(text) -> str:
    return markdown_without_remote_images(str(text))


with tab_quality:
    if not datasets:
        st.info("No datasets yet. Scrape or upload data, then refine it to see its quality over time.")
    else:
        chosen = st.selectbox("Dataset", datasets, key="mon_quality_dataset")
        found = _quality(user, chosen)
        runs = found["runs"]
        if runs.empty:
            st.info("This dataset has no finished refinement run yet.")
        else:
            st.caption("A marker (red ring) means the run differs clearly from the previous runs of that source: "
                       "at least 5 points (0.05 for mean quality) and more than 3 standard errors.")
            marked = runs[runs["changes"].map(bool)]
            for row in marked.itertuples():
                st.warning(f"Run {row.run_id} · {_safe(row.source)}: " + "; ".join(row.changes))
            metric = st.radio("Figure", list(mcharts.QUALITY_SERIES), horizontal=True, key="mon_quality_metric",
                              format_func=mcharts.QUALITY_SERIES.get)
            st.plotly_chart(mcharts.quality_trend(runs, metric), width="stretch")
            if not found["reasons"].empty:
                overall = found["reasons"][found["reasons"]["source"] == quality.ALL_SOURCES]
                st.plotly_chart(mcharts.drop_reasons(overall), width="stretch")
            st.dataframe(runs.drop(columns=["quality_var"]).assign(
                changes=runs["changes"].map("; ".join), drop_reasons=runs["drop_reasons"].map(str)),
                hide_index=True, width="stretch")

with tab_pipeline:
    window = st.selectbox("Jobs of the last", ["24 hours", "7 days", "30 days"], index=1, key="mon_pipe_window")
    hours = {"24 hours": 24, "7 days": 24 * 7, "30 days": 24 * 30}[window]
    stats = _pipeline(user, hours)
    if stats["by_kind"].empty:
        st.info("No jobs in this window.")
    else:
        st.caption("Throughput is documents per second of running time; a retry is the same job started again "
                   "after it failed.")
        st.dataframe(stats["by_kind"], hide_index=True, width="stretch",
                     column_config={"failure_rate": st.column_config.NumberColumn(format="percent"),
                                    "docs_per_s": st.column_config.NumberColumn("docs/s", format="%.1f")})
        st.plotly_chart(mcharts.durations(stats["by_kind"]), width="stretch")
        st.markdown("**Per source**")
        st.dataframe(stats["by_source"], hide_index=True, width="stretch",
                     column_config={"failure_rate": st.column_config.NumberColumn(format="percent"),
                                    "docs_per_s": st.column_config.NumberColumn("docs/s", format="%.1f")})

with tab_drift:
    if not datasets:
        st.info("No datasets to compare yet.")
    else:
        drift_dataset = st.selectbox("Dataset", datasets, key="mon_drift_dataset")
        mode = st.radio("Compare", ["Two refinement runs", "A model's training data with this dataset"],
                        horizontal=True, key="mon_drift_mode")
        params: dict = {"dataset": drift_dataset}
        if mode == "Two refinement runs":
            dataset_id = next(d["id"] for d in list_datasets(user) if d["name"] == drift_dataset)
            run_ids = [int(r) for r in list_runs(user, dataset_id)["run_id"]] if dataset_id else []
            st.caption("By default the items new in the current run are compared with the reference run's kept "
                       "items; leave both on 'latest' to compare the newest run with the one before.")
            left, right = st.columns(2)
            reference = left.selectbox("Reference run", ["latest but one", *run_ids], key="mon_drift_ref")
            current = right.selectbox("Current run", ["latest", *run_ids], key="mon_drift_cur")
            params.update(reference_run=None if isinstance(reference, str) else reference,
                          current_run=None if isinstance(current, str) else current,
                          only_new=st.checkbox("Only the items new in the current run", value=True,
                                               key="mon_drift_only_new"))
        else:
            models = [m["name"] for m in _models(user)]
            if not models:
                st.info("No models yet: train one in the ML Lab.")
            params["model"] = st.selectbox("Model", models, key="mon_drift_model") or ""
            threshold = st.slider("Retrain a watched model when this share of its input columns drifted (or its "
                                  "predictions did)", 0.05, 1.0, 0.3, 0.05, key="mon_drift_retrain")
            params["retrain_above"] = threshold if st.checkbox("Retrain on drift", key="mon_drift_retrain_on") \
                else None
        if st.button("Run drift check", type="primary", key="mon_drift_run"):
            if "model" in params and not params["model"].strip():
                st.error("Choose a model to compare (train one in the ML Lab first).")
            else:
                st.session_state["mon_drift_job"] = jobs.submit("drift_check", params, user)
        if "mon_drift_job" in st.session_state:
            job = show_job(st.session_state["mon_drift_job"], key="mon_drift")
            if job and job["status"] == "succeeded" and (job["result"].get("retrain") or {}).get("reason"):
                st.info(job["result"]["retrain"]["reason"])
    reports = drift.list_reports(user)
    if reports.empty:
        st.caption("No drift checks yet.")
    else:
        st.dataframe(reports, hide_index=True, width="stretch")
        report_id = st.selectbox("Report", reports["report_id"].tolist(), key="mon_drift_report",
                                 format_func=lambda r: f"{r}: " + reports.set_index("report_id").at[r, "current"])
        detail = drift.report_detail(user, int(report_id))
        table = drift.drifted_table(detail)
        if detail["drifted"]:
            st.error(f"{len(detail['drifted'])} of {detail['columns_checked']} column(s) drifted: "
                     f"{detail['reference']} vs {detail['current']}")
            for row in table[table["drifted"]].itertuples():
                st.markdown(f"- **{_safe(row.column)}**: {_safe(row.effect)}")
        else:
            st.success(f"No drift in {detail['columns_checked']} column(s).")
        st.dataframe(table, hide_index=True, width="stretch")

with tab_models:
    scores = accuracy.accuracy_over_time(user)
    if scores.empty:
        st.info("No labelled predictions yet. Score a dataset in the ML Lab; labels arrive from the Raw Explorer "
                "(good/bad) or when an item's target field is filled in later.")
    else:
        if scores["accuracy"].notna().any():
            st.plotly_chart(mcharts.accuracy_lines(scores), width="stretch")
        st.dataframe(scores, hide_index=True, width="stretch")

with tab_feedback:
    summary = feedback.feedback_summary(user)
    if summary["labels"].empty:
        st.info("No labels yet. Label records good or bad in the Raw Explorer.")
    else:
        cols = st.columns(3)
        cols[0].metric("Labels", f"{len(summary['labels']):,}")
        cols[1].metric("People", f"{summary['labels']['by'].nunique():,}")
        if summary["agreement"] is not None:
            cols[2].metric("Latest decisions agreeing with labels", f"{summary['agreement']:.0%}")
        left, right = st.columns(2)
        left.markdown("**Labels by person**")
        left.dataframe(summary["by_person"], hide_index=True, width="stretch")
        right.markdown("**How decisions changed after a label**")
        right.dataframe(summary["changes"], hide_index=True, width="stretch")
        st.dataframe(summary["labels"], hide_index=True, width="stretch")

with tab_resources:
    if st.button("Take a sample now", key="mon_sample"):
        resources.record_sample()
    history = resources.resource_history(user)
    if history.empty:
        st.info("No samples yet; the workbench takes one every minute while it runs.")
    else:
        latest = history.iloc[-1]
        cols = st.columns(4)
        cols[0].metric("CPU", f"{latest['cpu_percent']:.0f}%")
        cols[1].metric("Memory", f"{latest['memory_percent']:.0f}%")
        cols[2].metric("Disk (data directory)", f"{latest['disk_percent']:.0f}%",
                       f"{latest['disk_free_gb']:.1f} GB free", delta_color="off")
        cols[3].metric("Stores", " / ".join(f"{latest[c]:.0f}" if pd.notna(latest[c]) else "?"
                                            for c in ("sql_mb", "mongo_mb", "lake_mb")) + " MB",
                       "SQL / Mongo / lake", delta_color="off")
        st.plotly_chart(mcharts.resource_lines(history, {"cpu_percent": "CPU %", "memory_percent": "memory %",
                                                         "disk_percent": "disk %"}, "Machine"), width="stretch")
        st.plotly_chart(mcharts.resource_lines(history, {"sql_mb": "SQL", "mongo_mb": "MongoDB",
                                                         "lake_mb": "lake files"}, "Store sizes (MB)"),
                        width="stretch")

with tab_logs:
    left, middle, right = st.columns([1, 2, 1])
    level = left.selectbox("At least", list(LEVELS)[2:], key="mon_log_level")
    words = middle.text_input("Containing", key="mon_log_text")
    since_hours = right.selectbox("Of the last", [1, 24, 24 * 7, 24 * 30], index=2, key="mon_log_since",
                                  format_func=lambda h: f"{h} hours" if h < 48 else f"{h // 24} days")
    try:
        entries = search_logs(user, level=level, text=words, since=datetime.now(UTC) - timedelta(hours=since_hours))
    except RuntimeError as exc:
        st.error(f"{exc} Check the raw store on the Overview page.")
        entries = pd.DataFrame()
    if entries.empty:
        st.caption("No log entries match." + ("" if user.role == "admin" else " You see the logs of your own jobs."))
    else:
        st.dataframe(entries, hide_index=True, width="stretch")

with tab_rules:
    rules = alerts.list_rules(user)
    st.dataframe(rules.drop(columns=["metric"]), hide_index=True, width="stretch")
    with st.form("mon_rule_form"):
        existing = st.selectbox("Rule", ["new rule", *rules["rule_id"].tolist()], key="mon_rule_id",
                                format_func=lambda r: r if isinstance(r, str) else f"rule {r}")
        metric = st.selectbox("Metric", list(alerts.METRICS), format_func=lambda m: alerts.METRICS[m].label,
                              key="mon_rule_metric")
        threshold = st.number_input("Threshold (shares 0 to 1, percents 0 to 100, counts)", value=0.5,
                                    key="mon_rule_threshold")
        rule_dataset = st.selectbox("Dataset (for per-dataset metrics; empty = all yours)", ["", *datasets],
                                    key="mon_rule_dataset")
        enabled = st.checkbox("Enabled", value=True, key="mon_rule_enabled")
        save, remove = st.columns(2)
        if save.form_submit_button("Save rule"):
            try:
                alerts.save_rule(user, metric, threshold, dataset=rule_dataset or None, enabled=enabled,
                                 rule_id=None if isinstance(existing, str) else int(existing))
                st.success("Rule saved; it is evaluated at once and then every minute.")
                show_alerts(user, fresh=True)
            except (ValueError, PermissionDenied) as exc:
                st.error(str(exc))
        if remove.form_submit_button("Remove rule"):
            if isinstance(existing, str):
                st.error("Choose the rule to remove.")
            else:
                try:
                    alerts.delete_rule(user, int(existing))
                    st.success(f"Rule {existing} removed.")
                except PermissionDenied as exc:
                    st.error(str(exc))
    history = alerts.open_alerts(user, include_resolved=True)
    if history:
        st.markdown("**Alert history**")
        st.dataframe(pd.DataFrame(history)[["status", "metric", "value", "threshold", "message", "raised_at",
                                            "resolved_at"]], hide_index=True, width="stretch")
