import pandas as pd
import streamlit as st

from core import quality_charts as qc
from core.refine.recipe import RecipeError, parse_recipe
from core.refine.runs import list_runs, run_choice_label, run_detail, run_tables, with_item_texts
from core.refine.versions import VersionError, changes_table, compare_runs, dataset_versions
from core.text_safety import markdown_without_remote_images
from pages._ui import next_steps, remember, remembered_selectbox, require_page_user

st.title("Quality")
st.caption("What a refinement run did: the funnel, each signal's distribution with its threshold, breakdowns, "
           "duplicate clusters and the items each rule dropped.")

user = require_page_user("supplier", "admin")
runs = list_runs(user)
runs = runs[runs["status"] == "succeeded"]
if runs.empty:
    st.info("No finished refinement runs yet. Run one on the **Refine** page.")
    st.stop()


def _label(run_id: int) -> str:
    row = runs.set_index("run_id").loc[run_id]
    return f"{row['dataset']} · {run_choice_label({**row.to_dict(), 'run_id': run_id})}"


run_ids = runs["run_id"].tolist()
# Opens on the run the user is working with (the one Refine just recorded, or last opened here or on Packages).
run_id = remembered_selectbox("Refinement run", run_ids, "run", key="quality_run_select", format_func=_label)
remember("dataset", runs.set_index("run_id").loc[run_id, "dataset"])  # a run opened here is of the dataset in hand


@st.cache_data(show_spinner="Loading the run...", max_entries=3)
def _tables(principal, run: int) -> pd.DataFrame:
    return run_tables(principal, run)


detail = run_detail(user, run_id)
table = _tables(user, run_id)
counts, metrics = detail["counts"], detail["metrics"]
c1, c2, c3, c4 = st.columns(4)
c1.metric("Input items", f"{counts['input']:,}")
c2.metric("Kept", f"{counts['kept']:,}")
c3.metric("Mean quality (kept)", f"{metrics.get('mean_quality_kept') or 0:.2f}")
c4.metric("Recipe", detail["recipe_hash"])
st.plotly_chart(qc.rule_funnel(counts["funnel"], counts["input"]), width="stretch", key="q_funnel")
next_steps(("pages/packages.py", f"Package the {counts['kept']:,} kept items of run {run_id}",
            ":material/inventory_2:"))

try:
    run_recipe = parse_recipe(detail["recipe"])
except RecipeError:  # a run recorded with a recipe this version no longer reads: its charts, without bounds
    run_recipe = None
# Each signal's histogram shows the bounds the run's rules put on it, whatever kind of rule set them.
thresholds = {column: (low, high) for rule in (run_recipe.rules if run_recipe else ())
              if (drawn := rule.histogram(table)) is not None for column, low, high in [drawn]}

signals_tab, breakdown_tab, dup_tab, pii_tab, dropped_tab, compare_tab = st.tabs(
    ["Signals", "Breakdowns", "Duplicates", "PII", "Dropped items", "Compare runs"])
with signals_tab:
    columns = [c for c in ("quality", "completeness", "clarity", "relevance", "validity") if c in table]
    grid = st.columns(2)
    for index, column in enumerate(columns):
        low, high = thresholds.get(column, (None, None))
        grid[index % 2].plotly_chart(qc.signal_histogram(table[column], low, high, title=column),
                                     width="stretch", key=f"q_hist_{column}")
    if {"source_id", "created_at", "quality"} <= set(table.columns):
        trend = table[["source_id", "created_at", "quality"]].rename(columns={"created_at": "day"})
        st.plotly_chart(qc.quality_by_source_over_time(trend), width="stretch", key="q_trend")
with breakdown_tab:
    kept = table["kept"]
    for column, title in (("language", "Languages"), ("topic_label", "Domains (topic clusters)"),
                          ("content_type", "Content types")):
        if column in table:
            st.plotly_chart(qc.category_breakdown(table[column], kept, title=title), width="stretch",
                            key=f"q_break_{column}")
with dup_tab:
    if "duplicate_cluster" in table:
        st.plotly_chart(qc.duplicate_cluster_sizes(table["duplicate_cluster"]), width="stretch", key="q_dups")
        sizes = table["duplicate_cluster"].value_counts()
        clusters = sizes[sizes > 1]
        if clusters.empty:
            st.caption("No duplicate clusters in this run.")
        else:
            cluster = st.selectbox("Open a cluster", clusters.index.tolist(), key="q_cluster",
                                   format_func=lambda c: f"{c} ({clusters[c]} members)")
            members = table[table["duplicate_cluster"] == cluster]
            members = with_item_texts(user, members, text_chars=600, fields=("text", "url"))
            cols = st.columns(min(len(members), 3))
            for index, member in enumerate(members.itertuples()):
                with cols[index % len(cols)].container(border=True):
                    verdict = "kept" if member.kept else f"dropped: {member.drop_reason}"
                    st.markdown(f"**item {member.id}** · {verdict} · quality {member.quality:.2f}")
                    st.caption(markdown_without_remote_images(member.url))
                    st.text(member.text)
with pii_tab:
    st.plotly_chart(qc.pii_by_type(table), width="stretch", key="q_pii")
    st.caption(f"{metrics.get('items_with_pii', 0):,} items contained personal data; policy: "
               + (run_recipe.pii_policy if run_recipe else "unknown"))
with dropped_tab:
    reasons = table.loc[~table["kept"], "drop_reason"].value_counts()
    if reasons.empty:
        st.caption("Nothing was dropped.")
    else:
        reason = st.selectbox("Reason", reasons.index.tolist(), key="q_reason",
                              format_func=lambda r: f"{r} ({reasons[r]:,})")
        dropped = table[table["drop_reason"] == reason].head(25)
        dropped = with_item_texts(user, dropped, text_chars=300, fields=("text",))
        shown = [c for c in ("id", "title", "quality", "language", "text", "url") if c in dropped]
        st.dataframe(dropped[shown], hide_index=True, width="stretch")
        st.download_button("Download these rows (CSV)", dropped[shown].to_csv(index=False), "dropped.csv",
                           key="q_dropped_csv")
with compare_tab:
    # Each finished run's kept set is a version of its dataset; compare two versions of this run's dataset.
    versions = {v["run_id"]: v["label"] for v in dataset_versions(user, detail["dataset_id"])}
    if len(versions) < 2:
        st.caption("This dataset has one finished run. Run another recipe, or refine again after new data "
                   "arrives, to compare two versions.")
    else:
        older = [r for r in versions if r < run_id] or [r for r in versions if r != run_id]
        left, right = st.columns(2)
        run_a = left.selectbox("Version A (from)", list(versions), index=list(versions).index(older[-1]),
                               format_func=lambda r: f"{versions[r]} (run {r})", key="q_cmp_a")
        run_b = right.selectbox("Version B (to)", list(versions), index=list(versions).index(run_id),
                                format_func=lambda r: f"{versions[r]} (run {r})", key="q_cmp_b")
        page_number = st.number_input("Page of changes", min_value=1, value=1, step=1, key="q_cmp_page")
        try:
            diff = compare_runs(user, int(run_a), int(run_b), page=int(page_number), page_size=50)
        except VersionError as exc:
            st.warning(str(exc))
        else:
            changes = diff["counts"]
            m1, m2, m3, m4 = st.columns(4)
            m1.metric("Added", f"{changes['added']:,}")
            m2.metric("Removed", f"{changes['removed']:,}")
            m3.metric("Changed", f"{changes['changed']:,}")
            m4.metric("Unchanged kept", f"{changes['unchanged_kept']:,}")
            st.plotly_chart(qc.run_comparison(run_detail(user, int(run_a))["counts"]["dropped_by_rule"],
                                              run_detail(user, int(run_b))["counts"]["dropped_by_rule"],
                                              f"run {run_a}", f"run {run_b}"), width="stretch", key="q_cmp")
            rows = changes_table(diff)
            if rows.empty:
                st.caption("The two versions keep the same items with the same content.")
            else:
                st.dataframe(rows, hide_index=True, width="stretch", key="q_cmp_table")
                st.caption(f"Page {diff['page']}: up to {diff['page_size']} of each kind of change, by item id.")
