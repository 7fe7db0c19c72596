import pandas as pd
import streamlit as st

from core.auth import PermissionDenied
from core.refine.runs import list_datasets, with_item_texts
from core.safe_names import UnsafeNameError, slug_from, upload_path_name
from core.store import jobs, lake
from ml.errors import TrainingDataError
from pages._ui import require_page_user, show_job

st.title("ML Lab")
st.caption("Train models on refined data, compare and promote their versions, score datasets with them, and "
           "retrain them when new data lands. Models live in the MLflow registry under DATA_DIR/mlflow.")
user = require_page_user("supplier", "admin")

# ml.registry and friends import MLflow and scikit-learn on first use only, so app start-up stays fast.
from ml import continuous, registry  # noqa: E402
from ml.registry import RegistryError  # noqa: E402

USER_ERRORS = (TrainingDataError, RegistryError, PermissionDenied, UnsafeNameError, ValueError)
SHOWN_METRICS = ("rmse", "rmse_log", "mae", "r2", "accuracy", "macro_f1", "brier", "rows")
datasets = [d["name"] for d in list_datasets(user)]


@st.cache_data(ttl=60, show_spinner="Loading the data...", max_entries=4)
def _load(_principal, principal_id: int, source: str, marker: str) -> tuple[pd.DataFrame, dict]:
    from ml.data import load_training_data

    data = load_training_data(source, _principal)
    return data.frame, data.lineage


def _upload_source(uploaded) -> str:
    """Save an uploaded table under the lake (raw/ml-uploads/<user id>/) with a safe name; its path."""
    target = lake.zone_path("raw", "ml-uploads", str(user.id), upload_path_name(uploaded.name))
    data = uploaded.getvalue()
    if not (target.exists() and target.stat().st_size == len(data) and target.read_bytes() == data):
        with lake.atomic_path(target) as tmp:  # every rerun sees the file again; write it once
            tmp.write_bytes(data)
    return str(target)


def _version_rows(models: list[dict]) -> pd.DataFrame:
    rows = []
    for model in models:
        for version in model["versions"]:
            lineage, metrics = version["lineage"], version["metrics"]
            rows.append({
                "model": model["name"], "version": version["version"], "aliases": ", ".join(version["aliases"]),
                "task": version["task"], "target": version["target"], "method": version["chosen"],
                **{k: metrics.get(k) for k in SHOWN_METRICS if k in metrics},
                "trained on": lineage.get("source", ""), "run": lineage.get("run_id", ""),
                "package": f"{lineage['package']} {lineage.get('version', '')}" if lineage.get("package") else "",
                "fingerprint": (lineage.get("fingerprint") or "")[:12], "decision": version.get("decision") or "",
                "created": version["created_at"],
            })
    return pd.DataFrame(rows)


tab_train, tab_models, tab_predict, tab_watch, tab_quality = st.tabs(
    ["Train", "Models", "Predict", "Continuous training", "Quality model"])

# -- train ----------------------------------------------------------------------------------------
with tab_train:
    kind = st.radio("Data", ["Dataset", "Package", "File"], horizontal=True, key="mll_data_kind",
                    help="A dataset's latest kept items, a published package version, or a CSV/Parquet file.")
    source, base_name, marker = None, "", ""
    if kind == "Dataset":
        if datasets:
            base_name = st.selectbox("Dataset", datasets, key="mll_dataset")
            source = "dataset:" + base_name
        else:
            st.info("No datasets yet: upload or scrape data and refine it first.")
    elif kind == "Package":
        from core.packaging.build import list_packages

        packages = list_packages(user)
        published = packages[packages["status"] == "published"]
        if published.empty:
            st.info("No published packages yet; build one on the Packages page.")
        else:
            labels = [f"{n}@{v}" for n, v in zip(published["name"], published["version"], strict=True)]
            source = "package:" + st.selectbox("Package version", labels, key="mll_package")
            base_name = source[len("package:"):].split("@")[0]
    else:
        uploaded = st.file_uploader("CSV or Parquet file", type=["csv", "tsv", "parquet", "jsonl"], key="mll_upload")
        if uploaded is not None:
            try:
                source = _upload_source(uploaded)
                base_name, marker = uploaded.name.rsplit(".", 1)[0], str(uploaded.size)
            except (UnsafeNameError, OSError) as exc:
                st.error(f"The file could not be saved: {exc}")

    frame = None
    if source:
        try:
            frame, lineage = _load(user, user.id, source, marker)
        except USER_ERRORS as exc:
            st.error(f"This data cannot be used for training: {exc}")
    if frame is not None:
        st.caption(f"{len(frame):,} rows, {frame.shape[1]} columns · fingerprint {lineage['fingerprint'][:12]}"
                   + (f" · refinement run {lineage['run_id']}" if lineage.get("run_id") else ""))
        with st.expander("Preview"):
            st.dataframe(frame.head(20), hide_index=True)
        columns = [str(c) for c in frame.columns]
        # The last column that varies (an all-empty or constant column is nothing to predict).
        head = frame.head(2000)
        varying = [i for i, c in enumerate(columns) if head[c].astype(str).where(head[c].notna()).nunique() > 1]
        target = st.selectbox("Target column (what to predict)", columns, key="mll_target",
                              index=varying[-1] if varying else len(columns) - 1)
        left, right = st.columns(2)
        task = left.selectbox("Task", ["auto", "regression", "classification"], key="mll_task")
        text_options = [c for c in columns if c != target and frame[c].dtype == object]
        text_columns = right.multiselect("Free-text columns (auto when empty)", text_options, key="mll_text")
        try:
            default_name = slug_from(f"{base_name}-{target}", "model name")[:100]
        except UnsafeNameError:
            default_name = "model"
        # The suggested name follows the data and target until the user types their own.
        if st.session_state.get("mll_name") in (None, st.session_state.get("mll_name_default")):
            st.session_state["mll_name"] = default_name
        st.session_state["mll_name_default"] = default_name
        name = left.text_input("Model name", key="mll_name")
        budget = right.number_input("Time budget (seconds)", min_value=0.0, max_value=3600.0, value=120.0, step=10.0,
                                    key="mll_budget", help="Model selection stops when the budget is spent.")
        if st.button("Train", type="primary", key="mll_train"):
            params = {"source": source, "target": target, "name": name.strip(),
                      "task": None if task == "auto" else task, "text_columns": text_columns or None,
                      "time_budget_s": float(budget)}
            try:
                registry.check_registrable(user, params["name"])
                st.session_state["mll_train_job"] = jobs.submit("train", params, user)
            except USER_ERRORS as exc:
                st.error(f"Training cannot start: {exc}")
    if "mll_train_job" in st.session_state:
        job = show_job(st.session_state["mll_train_job"], key="mll_train")
        if job and job["status"] == "succeeded":
            result = job["result"]
            st.write(f"**{result['model']}** version {result['version']} ({result['chosen']}) "
                     + " · ".join(f"{k} {v:.4g}" for k, v in result["metrics"].items()))
            notes = result.get("notes", [])
            if len(notes) > 3:  # a dozen "column not used" lines buried the result
                with st.expander(f"{len(notes)} notes on the data"):
                    st.caption("\n\n".join(notes))
            else:
                for note in notes:
                    st.caption(note)

# -- models, comparison, aliases ------------------------------------------------------------------
try:
    models = registry.list_models(user)
except USER_ERRORS as exc:
    models = []
    st.error(f"The model registry cannot be read: {exc}")
model_names = [m["name"] for m in models]

with tab_models:
    if not models:
        st.info("No models yet: train one in the Train tab.")
    else:
        st.dataframe(_version_rows(models), hide_index=True)
        chosen = st.selectbox("Model", model_names, key="mll_model")
        model = next(m for m in models if m["name"] == chosen)
        numbers = [v["version"] for v in model["versions"]]
        st.caption(f"Champion: {model['champion'] or 'none'} · challenger: {model['challenger'] or 'none'} · "
                   f"previous champions: {', '.join(map(str, model['champion_history'])) or 'none'}")

        st.subheader("Compare versions")
        default = [n for n in (model["champion"], model["challenger"]) if n] or numbers[:2]
        compared = st.multiselect("Versions", numbers, default=default, key=f"mll_compare_{chosen}")
        if compared:
            versions = {v["version"]: v for v in model["versions"]}
            table = pd.DataFrame({f"v{n}": pd.Series(versions[n]["metrics"]) for n in compared})
            st.dataframe(table, key=f"mll_metrics_{chosen}")
            import plotly.io as pio

            for column, number in zip(st.columns(len(compared)), compared, strict=True):
                with column:
                    version = versions[number]
                    st.markdown(f"**v{number}** {' '.join(version['aliases'])} · {version['chosen'] or ''}")
                    lineage = version["lineage"]
                    st.caption(" · ".join(f"{k}: {lineage[k]}" for k in ("source", "run_id", "package", "version",
                                                                        "rows") if lineage.get(k)))
                    if version.get("decision_reason"):
                        st.caption(f"Decision: {version['decision']} - {version['decision_reason']}")
                    try:
                        figures = registry.version_figures(user, chosen, number)
                    except USER_ERRORS as exc:
                        st.warning(f"Figures of v{number} cannot be loaded: {exc}")
                        figures = {}
                    for key, figure in figures.items():
                        st.plotly_chart(pio.from_json(figure), key=f"mll_fig_{chosen}_{number}_{key}")

        st.subheader("Aliases")
        left, middle, right = st.columns(3)
        target_version = left.selectbox("Version", numbers, key=f"mll_alias_version_{chosen}")
        if middle.button("Promote to champion", key="mll_promote"):
            st.session_state["mll_pending"] = ("promote", chosen, target_version)
        if middle.button("Set as challenger", key="mll_challenger"):
            st.session_state["mll_pending"] = ("challenger", chosen, target_version)
        if right.button("Roll back champion", key="mll_rollback", disabled=not model["champion_history"]):
            st.session_state["mll_pending"] = ("rollback", chosen, None)
        pending = st.session_state.get("mll_pending")
        if pending and pending[1] == chosen:
            action, _, number = pending
            question = {"promote": f"Make v{number} the champion of {chosen}? Predictions and retraining use it.",
                        "challenger": f"Make v{number} the challenger of {chosen}?",
                        "rollback": f"Restore v{model['champion_history'][-1] if model['champion_history'] else '?'}"
                                    f" as champion of {chosen}?"}[action]
            st.warning(question)
            yes, no = st.columns(2)
            if yes.button("Confirm", type="primary", key="mll_confirm"):
                try:
                    if action == "promote":
                        registry.promote(user, chosen, number, reason=f"promoted by {user.email} in the ML Lab")
                    elif action == "challenger":
                        registry.set_challenger(user, chosen, number)
                    else:
                        registry.rollback(user, chosen)
                    st.session_state["mll_done"] = f"{action.capitalize()} of {chosen} done."
                except USER_ERRORS as exc:
                    st.session_state["mll_done"] = f"error:{exc}"
                del st.session_state["mll_pending"]
                st.rerun()
            if no.button("Cancel", key="mll_cancel"):
                del st.session_state["mll_pending"]
                st.rerun()
        done = st.session_state.pop("mll_done", None)
        if done:
            (st.error if done.startswith("error:") else st.success)(done.removeprefix("error:"))

# -- predictions ----------------------------------------------------------------------------------
with tab_predict:
    if not models or not datasets:
        st.info("Predictions need a model and a dataset to score.")
    else:
        left, middle, right = st.columns(3)
        predict_model = left.selectbox("Model", model_names, key="mll_pred_model")
        versions = next(m for m in models if m["name"] == predict_model)["versions"]
        refs = ["champion"] + [f"v{v['version']}" for v in versions]
        ref = middle.selectbox("Version", refs, key="mll_pred_version")
        predict_dataset = right.selectbox("Dataset to score", datasets, key="mll_pred_dataset")
        st.caption("Predictions are written beside the raw documents (the application's `predictions` collection) "
                   "and into the SQL prediction table, where the application pages show them.")
        if st.button("Run predictions", type="primary", key="mll_predict"):
            try:
                version = registry.resolve_version(user, predict_model, ref)
                st.session_state["mll_pred_job"] = jobs.submit(
                    "predict", {"dataset": predict_dataset, "model": predict_model, "version": version}, user)
            except USER_ERRORS as exc:
                st.error(f"Predictions cannot start: {exc}")
        if "mll_pred_job" in st.session_state:
            job = show_job(st.session_state["mll_pred_job"], key="mll_pred")
            if job and job["status"] == "succeeded":
                from ml.predict import read_predictions

                result = job["result"]
                sample = read_predictions(user, model_name=result["model"], model_version=result["version"]).head(20)
                if not sample.empty:
                    sample = with_item_texts(user, sample, id_column="item_id", text_chars=160)
                st.caption(f"{result['rows']:,} items of {result['dataset']} scored with {result['model']} "
                           f"v{result['version']}; a sample:")
                # The prediction first: with long titles and texts it was off screen to the right.
                st.dataframe(sample[[c for c in ("item_id", "prediction", "probability", "model_version", "title",
                                                 "text") if c in sample.columns]], hide_index=True,
                             column_config={"probability": st.column_config.NumberColumn(format="percent")})

# -- continuous training --------------------------------------------------------------------------
with tab_watch:
    st.caption("A watched model is retrained when its dataset gets a new refinement run; the new version is "
               "promoted only if it beats the champion on the same held-out rows.")
    watches = continuous.list_watches(user)
    if watches:
        st.dataframe(pd.DataFrame([{
            "model": w["model_name"], "data": w["source"], "target": w["target"],
            "last decision": (w["last_decision"] or {}).get("decision", ""),
            "why": (w["last_decision"] or {}).get("reason", ""), "checked": w["last_checked_at"]}
            for w in watches]), hide_index=True)
    if models and datasets:
        left, right = st.columns(2)
        watch_model = left.selectbox("Model", model_names, key="mll_watch_model")
        watch_dataset = right.selectbox("Dataset", datasets, key="mll_watch_dataset")
        buttons = st.columns(3)
        if buttons[0].button("Watch", key="mll_watch"):
            try:
                continuous.watch(user, watch_model, f"dataset:{watch_dataset}")
                st.success(f"{watch_model} now retrains when {watch_dataset} gets a new refinement run.")
            except USER_ERRORS as exc:
                st.error(f"Cannot watch: {exc}")
        watched = [w["model_name"] for w in watches]
        if buttons[1].button("Unwatch", key="mll_unwatch", disabled=watch_model not in watched):
            try:
                continuous.unwatch(user, watch_model)
                st.success(f"{watch_model} is no longer retrained automatically.")
            except USER_ERRORS as exc:
                st.error(f"Cannot unwatch: {exc}")
        if buttons[2].button("Check now", key="mll_check", disabled=not watches):
            st.session_state["mll_retrain_job"] = jobs.submit("retrain", {}, user)
    if "mll_retrain_job" in st.session_state:
        job = show_job(st.session_state["mll_retrain_job"], key="mll_retrain")
        if job and job["status"] == "succeeded":
            decisions = job["result"].get("decisions") or []
            if decisions:
                st.dataframe(pd.DataFrame(decisions)[["model", "decision", "reason"]], hide_index=True)
            else:
                st.caption("No watched data changed since the last training.")

# -- learned quality model ------------------------------------------------------------------------
with tab_quality:
    st.caption("A classifier of good and bad items, trained on your Raw Explorer labels (and on the latest "
               "refinement run's decisions when there are few). Once trained, refining the dataset adds the "
               "signal column `learned_quality` (its probability of good), usable in a recipe as "
               "`threshold: {column: learned_quality, min: 0.5}`.")
    if datasets:
        quality_dataset = st.selectbox("Dataset", datasets, key="mll_quality_dataset")
        if st.button("Train quality model", key="mll_quality_train"):
            import ml.quality_model  # noqa: F401 - registers the quality_model job

            st.session_state["mll_quality_job"] = jobs.submit("quality_model", {"dataset": quality_dataset}, user)
        if "mll_quality_job" in st.session_state:
            job = show_job(st.session_state["mll_quality_job"], key="mll_quality")
            if job and job["status"] == "succeeded":
                labels = job["result"]["labels"]
                st.caption(f"{job['result']['model']} v{job['result']['version']}: labels from "
                           f"{labels['label_source']} ({labels['feedback_good']} good / {labels['feedback_bad']} bad "
                           f"feedback, {labels['weak_good']} good / {labels['weak_bad']} bad from run "
                           f"{labels['run_id']}).")
    else:
        st.info("No datasets yet.")
