import os

import pandas as pd
import streamlit as st

from core import quality_charts
from core.refine.recipe import DUPLICATE_POLICIES, PII_POLICIES, RecipeError, parse_recipe, recipe_from_yaml
from core.refine.runs import RefineError, items_by_ids, list_datasets
from core.refine.service import cached_signals, preview, recipe_for, signals_path
from core.store import jobs
from pages._ui import require_page_user, show_job

st.title("Refine")
st.caption("Signals are computed once per item; moving a threshold re-applies the recipe to them at once. "
           "Every dropped item records the first rule that dropped it.")
user = require_page_user("supplier", "admin")
datasets = list_datasets(user)
if not datasets:
    st.info("No datasets yet. Scrape the demo sources or upload a file first.")
    st.stop()

names = [d["name"] for d in datasets]
dataset_name = st.selectbox("Dataset", names, key="ref_dataset")
dataset = next(d for d in datasets if d["name"] == dataset_name)


@st.cache_data(show_spinner="Loading signals...", max_entries=4)
def _signals(principal, name: str, modified: float) -> pd.DataFrame | None:
    return cached_signals(principal, name)


path = signals_path(dataset_name)
signals = _signals(user, dataset_name, os.path.getmtime(path)) if path.exists() else None
job_key = f"ref_signals_job_{dataset_name}"
if signals is None:
    st.info("Signals for this dataset have not been computed yet.")
    if st.button("Compute signals", type="primary", key="ref_compute"):
        st.session_state[job_key] = jobs.submit("signals", {"dataset": dataset_name}, user)
    if job_key in st.session_state:
        show_job(st.session_state[job_key], key="ref_sig")
    st.stop()

uploaded = st.file_uploader("Load a recipe (YAML)", type=["yaml", "yml"], key="ref_recipe_file")
try:
    base = recipe_from_yaml(uploaded.getvalue().decode("utf-8")) if uploaded else recipe_for(dataset["app"])
except (RecipeError, UnicodeDecodeError) as exc:
    st.error(f"That recipe cannot be used: {exc}")
    base = recipe_for(dataset["app"])

st.subheader(f"Recipe: {base.name}")
# Controls on the left, their effect on the right: the point is to see a threshold's effect as it moves.
controls, effect = st.columns([2, 3], gap="large")
languages = sorted(signals["language"].dropna().unique().tolist()) if "language" in signals else []
rules, histograms = [], []
for position, rule in enumerate(base.rules):
    key = f"ref_rule_{position}_{base.hash}"
    with controls.container(border=True):
        if rule.kind == "min_length":
            value = st.slider("Minimum text length (characters)", 0, 5000, int(rule.min), 50, key=key)
            rules.append({"min_length": value})
        elif rule.kind == "threshold":
            body = {"column": rule.column}
            values = pd.to_numeric(signals[rule.column], errors="coerce") if rule.column in signals else pd.Series()
            # Scores live in 0..1; counts and flags (field_error_count, price_outlier) may go higher.
            top = max(1.0, float(values.max()) if values.notna().any() else 1.0,
                      *(b for b in (rule.min, rule.max) if b is not None))
            step = 0.01 if top <= 1.0 else 1.0
            for bound in ("min", "max"):
                if getattr(rule, bound) is not None:
                    body[bound] = st.slider(f"{'Minimum' if bound == 'min' else 'Maximum'} {rule.column}", 0.0, top,
                                            float(getattr(rule, bound)), step, key=f"{key}_{bound}")
            rules.append({"threshold": body})
            if rule.column in signals:
                histograms.append((rule.column, body.get("min"), body.get("max")))
        elif rule.kind == "languages":
            allowed = st.multiselect("Allowed languages (empty: any)", languages,
                                     default=[x for x in (rule.allowed or ()) if x in languages], key=key)
            confidence = st.slider("Minimum language confidence", 0.0, 1.0, float(rule.min_confidence), 0.05,
                                   key=key + "_conf")
            rules.append({"languages": {"allowed": allowed or "any", "min_confidence": confidence}})
        elif rule.kind == "values":
            chosen = list(rule.allowed) if rule.allowed is not None else list(rule.exclude)
            options = sorted(set(signals[rule.column].dropna().astype(str)) | set(chosen)) \
                if rule.column in signals else chosen
            if rule.allowed is not None:
                allowed = st.multiselect(f"Keep only items whose {rule.column} is", options, default=chosen, key=key)
                rules.append({"values": {"column": rule.column, "allow": allowed}})
            else:
                excluded = st.multiselect(f"Drop items whose {rule.column} is", options, default=chosen, key=key)
                rules.append({"values": {"column": rule.column, "exclude": excluded}})
        elif rule.kind == "pii":
            policy = st.selectbox("Personal data", PII_POLICIES, index=PII_POLICIES.index(rule.policy), key=key)
            rules.append({"pii": policy})
        elif rule.kind == "duplicates":
            policy = st.selectbox("Duplicates", DUPLICATE_POLICIES, index=DUPLICATE_POLICIES.index(rule.policy),
                                  key=key)
            rules.append({"duplicates": policy})

recipe_dict = {**base.to_dict(), "rules": rules}
try:
    recipe = parse_recipe(recipe_dict)
except RecipeError as exc:
    st.error(f"The recipe is not valid: {exc}")
    st.stop()
outcome = preview(signals, recipe)
decisions, funnel = outcome["decisions"], outcome["funnel"]
kept = int(decisions["kept"].sum())
with effect:
    c1, c2 = st.columns(2)
    c1.metric("Items", f"{len(decisions):,}")
    c2.metric("Would keep", f"{kept:,} ({kept / max(len(decisions), 1):.0%})")
    st.caption(f"Recipe id {recipe.hash}: the same rules always give the same id.")
    st.plotly_chart(quality_charts.rule_funnel(funnel, len(decisions)), width="stretch", key="ref_funnel")
for column, low, high in histograms:
    st.plotly_chart(quality_charts.signal_histogram(signals[column], low, high, title=column), width="stretch",
                    key=f"ref_hist_{column}")

st.subheader("Samples")
kept_tab, dropped_tab = st.tabs(["Would keep", "Would drop"])
for tab, mask in ((kept_tab, decisions["kept"]), (dropped_tab, ~decisions["kept"])):
    with tab:
        sample = decisions[mask].head(8)
        if sample.empty:
            st.caption("None.")
            continue
        texts = items_by_ids(user, sample["id"].tolist()).set_index("id")
        rows = [{"id": r.id, "reason": r.drop_reason or "kept", "title": texts.at[r.id, "title"] if r.id in
                 texts.index else "", "text": str(texts.at[r.id, "text"])[:300] if r.id in texts.index else ""}
                for r in sample.itertuples()]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

left, right = st.columns(2)
left.download_button("Save recipe as YAML", recipe.to_yaml(), file_name=f"{recipe.name}-{recipe.hash}.yaml",
                     key="ref_save")
if right.button("Run refinement", type="primary", key="ref_run"):
    try:
        st.session_state["ref_run_job"] = jobs.submit(
            "refine", {"dataset": dataset_name, "recipe": recipe.to_dict()}, user)
    except RefineError as exc:
        st.error(str(exc))
if "ref_run_job" in st.session_state:
    job = show_job(st.session_state["ref_run_job"], key="ref_run")
    if job and job["status"] == "succeeded":
        st.session_state["quality_run"] = job["result"]["run_id"]
        st.page_link("pages/quality.py", label=f"Open run {job['result']['run_id']} on the Quality page",
                     icon=":material/insights:")
