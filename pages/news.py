import pandas as pd
import streamlit as st

from core.apps.news.digest import escape_markdown, list_digests, review_digest
from core.apps.news.schedules import (
    delete_schedule,
    list_schedules,
    save_schedule,
    set_schedule_enabled,
)
from core.apps.news.sentences import sentence_spans
from core.apps.news.service import (
    TONES,
    analysed_articles,
    article_detail,
    dataset_runs,
    news_datasets,
    with_predictions,
)
from core.apps.news.workflows import WORKFLOWS
from core.auth import PermissionDenied
from core.store import jobs
from core.text_safety import markdown_without_remote_images
from pages._ui import require_page_user, show_job

st.title("News")
st.caption("Analysed articles: summaries, topics, tone and bias indicators with their evidence; digests.")

user = require_page_user("supplier", "admin")
datasets = news_datasets(user)
if not datasets:
    st.info("No datasets yet. Scrape the demo news site on **Sources & Scraping** or upload articles first.")
    st.stop()

names = [d["name"] for d in datasets]
counts = {d["name"]: d["analysed"] for d in datasets}
# Plain names as labels: a label that changes (an "analysed" count) makes Streamlit see a new widget and
# jump back to the first dataset after every analysis.
dataset = st.selectbox("Dataset", names, key="news_dataset")
st.caption(f"{counts[dataset]} analysed article(s) in {dataset}")

# Open while a job of this session is shown, so its outcome stays visible after the counts change.
with st.expander("Analyse this dataset", expanded=counts[dataset] == 0 or "news_job" in st.session_state):
    model_name = st.text_input("ML Lab topic model (optional)", key="news_model",
                               help="A registered ML Lab text classifier; unsupervised topics when empty or unusable.")
    use_openai = st.checkbox("Use OpenAI when configured", value=True, key="news_use_openai",
                             help="Only with OPENAI_API_KEY set; the local summarizer serves otherwise.")
    if st.button("Analyse", key="news_analyse"):
        try:
            st.session_state["news_job"] = jobs.submit(
                "news_analyze", {"dataset": dataset, "model_name": model_name.strip(), "use_openai": use_openai}, user)
        except PermissionDenied as exc:
            st.error(str(exc))
    if st.session_state.get("news_job"):
        show_job(st.session_state["news_job"], "news")

runs = dataset_runs(user, dataset)
run_labels = {0: "All items of the dataset"} | {
    r["run_id"]: f"Kept by run {r['run_id']}: {r['kept']} of {r['input']} ({r['created_at']:%Y-%m-%d %H:%M})"
    for r in runs}
run_id = st.selectbox("Items", list(run_labels), key=f"news_run_{dataset}", format_func=run_labels.get,
                      help="Only the items a refinement run kept, or every item of the dataset.") or None
articles = pd.DataFrame(analysed_articles(user, dataset, run_id=run_id))
if articles.empty:
    st.info("No analysed articles here yet: press **Analyse** above"
            + (" (the run's kept items are analysed with the rest of the dataset)." if run_id else "."))
    st.stop()

tab_articles, tab_digest, tab_schedules = st.tabs(["Articles", "Digests & reports", "Schedules"])
with tab_articles:
    c1, c2, c3, c4 = st.columns(4)
    sources = c1.multiselect("Source", sorted(articles["source_id"].unique()), key="news_f_source")
    languages = c2.multiselect("Language", sorted(articles["language"].unique()), key="news_f_language")
    topics = c3.multiselect("Topic", sorted(articles["topic"].unique()), key="news_f_topic")
    tones = c4.multiselect("Tone", list(TONES), key="news_f_tone")
    dated = articles["published_at"].dropna()
    date_range = None
    if not dated.empty:
        first, last = pd.to_datetime(dated).min().date(), pd.to_datetime(dated).max().date()
        date_range = st.date_input("Published between", (first, last), key="news_f_dates")
    date_from, date_to = (date_range if isinstance(date_range, tuple) and len(date_range) == 2 else (None, None))
    shown = pd.DataFrame(with_predictions(user, analysed_articles(
        user, dataset, sources=sources, languages=languages, topics=topics, tones=tones, date_from=date_from,
        date_to=date_to, run_id=run_id)))
    st.caption(f"{len(shown)} of {len(articles)} articles")
    if shown.empty:
        st.info("No article matches these filters.")
    else:
        columns = ["id", "title", "source_id", "language", "published_at", "topic", "tone", "sentiment",
                   "subjectivity_rate", "loaded_per_100_words", "hedging_rate", "quote_share", "source_count",
                   "one_sided", "summary_method"]
        if "model_prediction" in shown.columns:  # only once an ML Lab model has scored this dataset
            columns.insert(2, "model_prediction")
        st.dataframe(shown[columns], hide_index=True, width="stretch",
                     column_config={"published_at": st.column_config.DatetimeColumn("published", format="YYYY-MM-DD"),
                                    "source_id": "source", "summary_method": "summary by",
                                    "model_prediction": st.column_config.TextColumn(
                                        "Model prediction", help="ML Lab model and version: prediction "
                                        "(probability of the predicted class)")})
        chosen = st.selectbox("Open article", shown["id"].tolist(), key="news_open",
                              format_func=lambda i: str(shown.set_index("id").loc[i, "title"] or f"article {i}"))
        try:
            detail = article_detail(user, int(chosen))
        except PermissionDenied as exc:
            st.error(str(exc))
            st.stop()
        nlp = detail["nlp"]
        st.subheader(escape_markdown(detail["title"] or "(untitled)"))
        st.caption(f"{detail['source_id']} · {detail['language']} · topic {detail['topic']} · tone {detail['tone']} "
                   f"· summary by {detail['summary_method']}")
        for prediction in detail["predictions"]:
            st.markdown("**Model prediction:** " + escape_markdown(prediction["label"]))
        abstract = (nlp.get("summary") or {}).get("meta", {}).get("abstract")
        if abstract:
            st.markdown("**Model summary:** " + escape_markdown(abstract))
        # The scraped text is escaped for Markdown, then the summary sentences are put in bold: never HTML.
        summary_sentences = set((nlp.get("summary") or {}).get("sentences") or detail["summary"].split("\n"))
        paragraphs: dict[int, list[str]] = {}
        for span in sentence_spans(detail["text"]):
            piece = escape_markdown(span.text)
            paragraphs.setdefault(span.paragraph, []).append(f"**{piece}**" if span.text in summary_sentences
                                                             else piece)
        with st.container(border=True, height=420):
            st.markdown("\n\n".join(" ".join(p) for p in paragraphs.values()) or "_(no text)_")
        feeling, indicators = nlp.get("sentiment") or {}, nlp.get("bias") or {}
        left, right = st.columns(2)
        with left:
            st.markdown(f"**Tone:** {feeling.get('tone', 'unknown')} ({feeling.get('method', '-')}, "
                        f"score {feeling.get('compound')})")
            if feeling.get("note"):
                st.caption(feeling["note"])
            for side in ("positive", "negative"):
                for ev in feeling.get(side, []):
                    st.text(f"{side} {ev['score']:+.2f} [{', '.join(ev['words'])}]: {ev['sentence']}")
        with right:
            st.markdown(f"**Subjectivity** {indicators.get('subjectivity_rate', 0):.0%} · **loaded words** "
                        f"{indicators.get('loaded_per_100_words', 0):.2f}/100 · **hedging** "
                        f"{indicators.get('hedging_rate', 0):.0%} · **quotes** {indicators.get('quote_share', 0):.0%}")
            if indicators.get("one_sided"):
                st.warning("One-sided sourcing: one speaker gives most of the quotes.")
            if indicators.get("loaded_words"):
                st.text("Loaded words: " + ", ".join(f"{w} ×{c}" for w, c in indicators["loaded_words"].items()))
            for ev in indicators.get("hedged_sentences", []):
                st.text(f"hedge [{', '.join(ev['words'])}]: {ev['sentence']}")
            for ev in indicators.get("subjective_sentences", []):
                st.text(f"subjective [{', '.join(ev['words'])}]: {ev['sentence']}")
            if indicators.get("sources"):
                st.dataframe(pd.DataFrame(indicators["sources"]), hide_index=True)

with tab_digest:
    c1, c2 = st.columns([2, 3])
    workflow = c1.radio("Write", list(WORKFLOWS), format_func=WORKFLOWS.get, horizontal=True, key="news_workflow")
    params: dict = {"workflow": workflow, "dataset": dataset, "run_id": run_id}
    if workflow in ("daily", "weekly"):
        latest = pd.to_datetime(articles["published_at"].dropna()).max() if articles["published_at"].notna().any() \
            else pd.Timestamp.now(tz="UTC")
        params["end"] = c2.date_input("Period ends on", latest.date(), key="news_digest_end").isoformat()
    elif workflow == "topic":
        params["topic"] = c2.selectbox("Topic", sorted(articles["topic"].unique()), key="news_brief_topic")
    elif not run_id:
        c2.info("Choose a refinement run under **Items** above to report on it.")
    params["use_openai"] = st.session_state.get("news_use_openai", True)
    if st.button(f"Generate {WORKFLOWS[workflow].lower()}", key="news_generate", type="primary",
                 disabled=workflow == "run" and not run_id):
        try:
            st.session_state["news_generate_job"] = jobs.submit("news_generate", params, user)
        except (PermissionDenied, ValueError) as exc:
            st.error(str(exc))
    if st.session_state.get("news_generate_job"):
        show_job(st.session_state["news_generate_job"], "news_generate")
    digests = list_digests(user, dataset)
    if digests:
        picked = st.selectbox("Output", [d["id"] for d in digests], key="news_digest_pick",
                              format_func=lambda i: next(f"#{d['id']} {d['title']}" for d in digests
                                                         if d["id"] == i))
        digest = next(d for d in digests if d["id"] == picked)
        st.caption(f"{WORKFLOWS.get(digest['period'], digest['period'])} · written by {digest['generator']} · "
                   f"{len(digest['inputs'].get('analysis_ids', []))} articles in · "
                   f"{digest['pii_findings']} PII finding(s) redacted · status **{digest['status']}**")
        b1, b2, b3, _ = st.columns([1, 1, 2, 3])
        if b1.button("Approve", key="news_digest_approve", disabled=digest["status"] == "approved"):
            review_digest(user, picked, "approved")
            st.rerun()
        if b2.button("Reject", key="news_digest_reject", disabled=digest["status"] == "rejected"):
            review_digest(user, picked, "rejected")
            st.rerun()
        b3.download_button("Download Markdown", digest["markdown"], file_name=f"news-{digest['period']}-{picked}.md",
                           mime="text/markdown", key="news_digest_download")
        with st.container(border=True):
            st.markdown(markdown_without_remote_images(digest["markdown"]))
    else:
        st.caption("Nothing written yet for this dataset.")

with tab_schedules:
    st.caption("A schedule runs its workflow as a job every few hours while the workbench runs, as you; "
               "each output waits here for review.")
    c1, c2, c3 = st.columns(3)
    kinds = [w for w in WORKFLOWS if w != "run" or run_id]
    scheduled = c1.selectbox("Workflow", kinds, format_func=WORKFLOWS.get, key="news_sched_workflow")
    every = c2.number_input("Every (hours)", 1, 24 * 31, 24 if scheduled != "weekly" else 168, key="news_sched_every")
    extra: dict = {"use_openai": st.session_state.get("news_use_openai", True)}
    if scheduled == "topic":
        extra["topic"] = c3.selectbox("Topic", sorted(articles["topic"].unique()), key="news_sched_topic")
    if scheduled == "run":
        extra["run_id"] = run_id
    extra["analyse_first"] = st.checkbox("Analyse new articles first", value=True, key="news_sched_analyse")
    if st.button("Save schedule", key="news_sched_save"):
        try:
            saved = save_schedule(user, dataset, scheduled, int(every), extra)
            st.success(f"Schedule {saved['id']} saved; its first run starts within a minute.")
        except (PermissionDenied, ValueError) as exc:
            st.error(str(exc))
    schedules = list_schedules(user, dataset)
    if schedules:
        table = pd.DataFrame(schedules)[["id", "label", "every_hours", "enabled", "next_run_at", "last_run_at",
                                         "last_job_id"]]
        st.dataframe(table, hide_index=True, width="stretch")
        s1, s2, s3 = st.columns([2, 1, 1])
        target = s1.selectbox("Schedule", [s["id"] for s in schedules], key="news_sched_pick")
        enabled = next(s["enabled"] for s in schedules if s["id"] == target)
        if s2.button("Pause" if enabled else "Resume", key="news_sched_toggle"):
            set_schedule_enabled(user, target, not enabled)
            st.rerun()
        if s3.button("Delete", key="news_sched_delete"):
            delete_schedule(user, target)
            st.rerun()
