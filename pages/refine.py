import os

import pandas as pd
import streamlit as st

from core import quality_charts
from core.refine.recipe import RecipeError, parse_recipe, recipe_from_yaml
from core.refine.rule_kinds import addable_rules
from core.refine.runs import RefineError, list_datasets, with_item_texts
from core.refine.service import cached_signals, preview, recipe_for, signals_path
from core.store import jobs
from pages._ui import next_steps, remember, remembered_selectbox, require_page_user, show_job, working

HISTOGRAM_TITLES = {"text_length": "text length (characters)"}

st.title("Refine")
st.caption("Signals are computed once per item; moving a threshold re-applies the recipe to them at once. "
           "Every dropped item records the first rule that dropped it.")
user = require_page_user("supplier", "admin")
datasets = list_datasets(user)
if not datasets:
    st.info("No datasets yet. Scrape the demo sources or upload a file first.")
    st.stop()

names = [d["name"] for d in datasets]
dataset_name = remembered_selectbox("Dataset", names, "dataset", key="ref_dataset")
dataset = next(d for d in datasets if d["name"] == dataset_name)


# A resource, not data: cache_data would unpickle a fresh copy of the whole table on every slider move.
# Nothing below modifies the table; the file's mtime in the key picks up newly computed signals.
@st.cache_resource(show_spinner="Loading signals...", max_entries=4)
def _signals(principal, name: str, modified: float) -> pd.DataFrame | None:
    return cached_signals(principal, name)


# Moving one slider leaves the other histograms as they were: built once per threshold, not on every redraw.
@st.cache_resource(max_entries=64, show_spinner=False)
def _histogram(principal, name: str, modified: float, column: str, low: float | None, high: float | None):
    signals = _signals(principal, name, modified)
    return quality_charts.signal_histogram(signals[column], low, high, title=HISTOGRAM_TITLES.get(column, column))


path = signals_path(dataset_name)
signals_mtime = os.path.getmtime(path) if path.exists() else 0.0
signals = _signals(user, dataset_name, signals_mtime) if path.exists() else None
job_key = f"ref_signals_job_{dataset_name}"
if signals is None:
    st.info("Signals for this dataset have not been computed yet.")
    if st.button("Compute signals", type="primary", key="ref_compute"):
        st.session_state[job_key] = jobs.submit("signals", {"dataset": dataset_name}, user)
    if job_key in st.session_state:
        show_job(st.session_state[job_key], key="ref_sig",
                 describe=lambda result: f"signals of {result.get('items', 0):,} items are ready.")
    st.stop()

uploaded = st.file_uploader("Load a recipe (YAML)", type=["yaml", "yml"], key="ref_recipe_file")
# The draft (loaded recipe and moved thresholds) follows the user when they leave the page and come back.
draft = working("recipe_draft")
draft = draft if draft and draft["dataset"] == dataset_name else None
try:
    if uploaded:
        base = recipe_from_yaml(uploaded.getvalue().decode("utf-8"))
    else:
        base = parse_recipe(draft["base"]) if draft else recipe_for(dataset["app"])
except (RecipeError, UnicodeDecodeError) as exc:
    st.error(f"That recipe cannot be used: {exc}")
    base = recipe_for(dataset["app"])
shown = parse_recipe(draft["recipe"]) if draft and draft["base_hash"] == base.hash else base
if shown.hash != base.hash and st.button("Reset to the default recipe", key="ref_reset"):
    remember("recipe_draft", None)
    for widget_key in [k for k in st.session_state if str(k).startswith("ref_rule_")]:
        del st.session_state[widget_key]
    st.rerun()
with st.expander("Add a rule"):
    addable = addable_rules([rule.kind for rule in shown.rules])
    kind = st.selectbox("Rule kind", list(addable), key="ref_add_kind",
                        format_func=lambda name: name.replace("_", " "))
    st.caption("It starts from an example threshold; tune it below like the other rules.")
    if st.button("Add this rule", key="ref_add_rule", disabled=not addable):
        extended = parse_recipe({**shown.to_dict(), "rules": [*shown.to_dict()["rules"], {kind: addable[kind]}]})
        remember("recipe_draft", {"dataset": dataset_name, "base": extended.to_dict(), "base_hash": extended.hash,
                                  "recipe": extended.to_dict()})
        st.rerun()


def _draw(control, key: str):
    """One rule control, drawn from its description (core/refine/rule_kinds): no page code per rule kind."""
    if control.widget == "slider":
        number = type(control.value)  # int for counts (characters), float for scores
        return st.slider(control.label, number(control.low), number(control.high), control.value,
                         number(control.step), key=key)
    if control.widget == "multiselect":
        return st.multiselect(control.label, list(control.options),
                              default=[v for v in control.value if v in control.options], key=key)
    options = list(control.options)
    return st.selectbox(control.label, options, index=options.index(control.value), key=key)


# A fragment: moving a threshold reruns only the recipe, its preview and the run controls, not the page
# around them (dataset list, signal loading, recipe file), which keeps a redraw well under half a second.
@st.fragment
def recipe_workbench(signals: pd.DataFrame, base, shown, dataset_name: str) -> None:
    st.subheader(f"Recipe: {base.name}")
    # Controls on the left, their effect on the right: the point is to see a threshold's effect as it moves.
    controls, effect = st.columns([2, 3], gap="large")
    rules = []
    for position, rule in enumerate(shown.rules):
        key = f"ref_rule_{position}_{base.hash}"
        with controls.container(border=True):
            values = {control.name: _draw(control, f"{key}_{control.name}") for control in rule.controls(signals)}
        rules.append({rule.kind: rule.body_from_controls(values)})

    recipe_dict = {**base.to_dict(), "rules": rules}
    try:
        recipe = parse_recipe(recipe_dict)
    except RecipeError as exc:
        st.error(f"The recipe is not valid: {exc}")
        return
    remember("recipe_draft", {"dataset": dataset_name, "base": base.to_dict(), "base_hash": base.hash,
                              "recipe": recipe_dict})
    histograms = [drawn for rule in recipe.rules if (drawn := rule.histogram(signals)) is not None]
    try:
        outcome = preview(signals, recipe)
    except RecipeError as exc:  # e.g. a rule whose on-demand signals (semantic neighbours) these signals lack
        st.error(f"This recipe cannot be previewed on these signals: {exc}")
        if st.button("Compute the signals this recipe needs", key="ref_compute_for_recipe"):
            st.session_state[job_key] = jobs.submit("signals", {"dataset": dataset_name, "recipe": recipe.to_dict()},
                                                    user)
        if job_key in st.session_state:
            show_job(st.session_state[job_key], key="ref_sig",
                     describe=lambda result: f"signals of {result.get('items', 0):,} items are ready.")
        return
    decisions, funnel = outcome["decisions"], outcome["funnel"]
    kept = int(decisions["kept"].sum())
    with effect:
        c1, c2 = st.columns(2)
        c1.metric("Items", f"{len(decisions):,}")
        c2.metric("Would keep", f"{kept:,} ({kept / max(len(decisions), 1):.0%})")
        st.caption(f"Recipe id {recipe.hash}: the same rules always give the same id.")
        st.plotly_chart(quality_charts.rule_funnel(funnel, len(decisions)), width="stretch", key="ref_funnel")
    for position, (column, low, high) in enumerate(histograms):  # two rules may bound the same column
        st.plotly_chart(_histogram(user, dataset_name, signals_mtime, column, low, high), width="stretch",
                        key=f"ref_hist_{position}_{column}")

    st.subheader("Samples")
    kept_tab, dropped_tab = st.tabs(["Would keep", "Would drop"])
    for tab, mask in ((kept_tab, decisions["kept"]), (dropped_tab, ~decisions["kept"])):
        with tab:
            sample = decisions[mask].head(8)
            if sample.empty:
                st.caption("None.")
                continue
            reasons = sample["drop_reason"].fillna("").replace("", "kept")  # a kept item has no drop reason
            rows = with_item_texts(user, pd.DataFrame({"id": sample["id"], "reason": reasons}))
            st.dataframe(rows, hide_index=True, width="stretch",
                         column_config={"reason": st.column_config.TextColumn("decision")})

    left, right = st.columns(2)
    left.download_button("Save recipe as YAML", recipe.to_yaml(), file_name=f"{recipe.name}-{recipe.hash}.yaml",
                         key="ref_save")
    # One job panel per dataset: switching datasets never shows another dataset's run.
    run_job_key = f"ref_run_job_{dataset_name}"
    if right.button("Run refinement", type="primary", key="ref_run"):
        try:
            st.session_state[run_job_key] = jobs.submit(
                "refine", {"dataset": dataset_name, "recipe": recipe.to_dict()}, user)
        except RefineError as exc:
            st.error(str(exc))
    if run_job_key in st.session_state:
        job = show_job(st.session_state[run_job_key], key="ref_run", describe=lambda result: (
            f"run {result['run_id']} kept {result['kept']:,} of {result['input']:,} items; "
            "the rest carry the rule that dropped them."))
        if job and job["status"] == "succeeded":
            remember("run", job["result"]["run_id"])
            next_steps(("pages/quality.py", f"Open run {job['result']['run_id']} on the Quality page",
                        ":material/insights:"),
                       ("pages/packages.py", "Package the kept items", ":material/inventory_2:"))


recipe_workbench(signals, base, shown, dataset_name)
