import pandas as pd
import streamlit as st

from core.apps.news.digest import escape_markdown, generate_digest, list_digests, review_digest
from core.apps.news.sentences import split_sentences
from core.apps.news.service import TONES, analysed_articles, article_detail, news_datasets
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
dataset = st.selectbox("Dataset", names, key="news_dataset",
                       format_func=lambda n: f"{n} · {counts[n]} analysed")

with st.expander("Analyse this dataset", expanded=counts[dataset] == 0):
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

articles = pd.DataFrame(analysed_articles(user, dataset))
if articles.empty:
    st.info("No analysed articles in this dataset yet: press **Analyse** above.")
    st.stop()

tab_articles, tab_digest = st.tabs(["Articles", "Digest"])
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
    shown = pd.DataFrame(analysed_articles(user, dataset, sources=sources, languages=languages, topics=topics,
                                           tones=tones, date_from=date_from, date_to=date_to))
    st.caption(f"{len(shown)} of {len(articles)} articles")
    if shown.empty:
        st.info("No article matches these filters.")
    else:
        columns = ["id", "title", "source_id", "language", "published_at", "topic", "tone", "sentiment",
                   "subjectivity_rate", "loaded_per_100_words", "hedging_rate", "quote_share", "source_count",
                   "one_sided", "summary_method"]
        st.dataframe(shown[columns], hide_index=True, width="stretch")
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
        abstract = (nlp.get("summary") or {}).get("meta", {}).get("abstract")
        if abstract:
            st.markdown("**Model summary:** " + escape_markdown(abstract))
        # The scraped text is escaped for Markdown, then the summary sentences are put in bold: never HTML.
        summary_sentences = set((nlp.get("summary") or {}).get("sentences") or detail["summary"].split("\n"))
        rendered = [f"**{escape_markdown(s)}**" if s in summary_sentences else escape_markdown(s)
                    for s in split_sentences(detail["text"])]
        st.markdown(" ".join(rendered) or "_(no text)_")
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
    c1, c2 = st.columns(2)
    period = c1.radio("Period", ["daily", "weekly"], horizontal=True, key="news_digest_period")
    latest = pd.to_datetime(articles["published_at"].dropna()).max() if articles["published_at"].notna().any() \
        else pd.Timestamp.now(tz="UTC")
    end = c2.date_input("Period ends on", latest.date(), key="news_digest_end")
    if st.button("Generate digest", key="news_digest_generate"):
        try:
            made = generate_digest(user, dataset, period, end)
            st.success(f"Digest {made['id']} written by {made['generator']}"
                       + (f"; {made['pii_findings']} PII finding(s) redacted" if made["pii_findings"] else ""))
        except (PermissionDenied, ValueError) as exc:
            st.error(str(exc))
    digests = list_digests(user, dataset)
    if digests:
        picked = st.selectbox("Digest", [d["id"] for d in digests], key="news_digest_pick",
                              format_func=lambda i: next(f"{d['title']} · {d['status']}" for d in digests
                                                         if d["id"] == i))
        digest = next(d for d in digests if d["id"] == picked)
        st.markdown(markdown_without_remote_images(digest["markdown"]))
        b1, b2, b3 = st.columns(3)
        if b1.button("Approve", key="news_digest_approve"):
            review_digest(user, picked, "approved")
            st.rerun()
        if b2.button("Reject", key="news_digest_reject"):
            review_digest(user, picked, "rejected")
            st.rerun()
        b3.download_button("Download Markdown", digest["markdown"], file_name=f"digest-{picked}.md",
                           mime="text/markdown", key="news_digest_download")
