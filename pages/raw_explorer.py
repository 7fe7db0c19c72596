import hashlib
import json

import streamlit as st

from core import explore
from core.auth import PermissionDenied
from core.text_safety import markdown_without_remote_images
from pages._ui import require_page_user

PAGE_SIZE = 50
MAX_SOURCE_CHARS = 200_000
MAX_NAMED_IN_CONFIRMATION = 10

st.title("Raw Explorer")
st.caption("Raw records exactly as collected, newest first. Stored HTML is shown as source text, never rendered.")
user = require_page_user("supplier", "admin")


def deletion_summary(rows) -> str:
    """Plain text naming the records a delete will remove (title and URL), so nobody confirms blind."""
    lines = [f"• {row.title if isinstance(row.title, str) and row.title else '(untitled)'} · "
             f"{row.url if isinstance(row.url, str) and row.url else row.id}"
             for row in rows.head(MAX_NAMED_IN_CONFIRMATION).itertuples()]
    if len(rows) > MAX_NAMED_IN_CONFIRMATION:
        lines.append(f"… and {len(rows) - MAX_NAMED_IN_CONFIRMATION} more")
    return "\n".join(lines)


def _escaped(text: str) -> str:
    """A predicted value is data (a scraped label, say): shown literally, never as Markdown."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|~" else ch for ch in text.replace("\n", " "))


@st.cache_data(ttl=5, show_spinner=False)
def _apps(principal) -> list[str]:
    return explore.raw_apps(principal)


@st.cache_data(ttl=5, show_spinner=False)
def _sources(principal, app: str) -> list[str]:
    return explore.source_ids(principal, app)


@st.cache_data(ttl=5, show_spinner=False)
def _match_count(principal, app: str, flt: explore.RawFilter) -> tuple[int, bool]:
    return explore.count_matches(principal, app, flt)


apps = _apps(user)
if not apps:
    st.info("The raw store is empty. Scrape the demo sources on **Sources & Scraping** or **Upload** a file.")
    st.stop()

# "Open the record in Raw Explorer" links from the application pages: ?app=APP&record=RAW_ID.
linked_app, linked_record = st.query_params.get("app"), st.query_params.get("record")
if linked_app in apps and st.session_state.get("rawx_linked") != (linked_app, linked_record):
    st.session_state["rawx_linked"] = (linked_app, linked_record)
    st.session_state["rawx_app"] = linked_app

with st.container(border=True):
    c1, c2, c3, c4 = st.columns([1, 2, 2, 1])
    app = c1.selectbox("Application", apps, key="rawx_app")
    source = c2.selectbox("Source", ["(all sources)", *_sources(user, app)], key="rawx_source")
    text = c3.text_input("Search words", key="rawx_text", placeholder="words in the content or URL")
    sort = c4.selectbox("Sort", list(explore.SORTS), key="rawx_sort", disabled=bool(text),
                        help="Word searches list matches in index order, which keeps them fast at any size.")
    c5, c6, c7 = st.columns([2, 1, 1])
    dates = c5.date_input("Fetched between", value=(), key="rawx_dates")
    status = c6.selectbox("HTTP status", ["any", 200, 304, 404, 500], key="rawx_status")
    has_field = c7.selectbox("Has field", ["any", "title", "text", "author", "date", "price", "sku", "location"],
                             key="rawx_has_field")

flt = explore.RawFilter(
    source_id=None if source.startswith("(") else source,
    date_from=dates[0] if len(dates) > 0 else None, date_to=dates[1] if len(dates) > 1 else None,
    status=None if status == "any" else int(status), has_field=None if has_field == "any" else has_field,
    text=text or None,
)
filter_key = (app, flt, sort)
if st.session_state.get("rawx_filter_key") != filter_key:
    st.session_state["rawx_filter_key"] = filter_key
    st.session_state["rawx_page"] = 0
page = st.session_state.get("rawx_page", 0)

table, has_more = explore.raw_page(user, app, flt, sort=sort, page=page, page_size=PAGE_SIZE)
nav_prev, nav_info, nav_next = st.columns([1, 3, 1])
if nav_prev.button("Previous", disabled=page == 0, key="rawx_prev", width="stretch"):
    st.session_state["rawx_page"] = page - 1
    st.rerun()
matches, more_than = _match_count(user, app, flt)
matching = f"more than {matches:,}" if more_than else f"{matches:,}"
nav_info.caption(f"Page {page + 1} · records {page * PAGE_SIZE + 1 if len(table) else 0}-"
                 f"{page * PAGE_SIZE + len(table)} of {matching} matching")
if nav_next.button("Next", disabled=not has_more, key="rawx_next", width="stretch"):
    st.session_state["rawx_page"] = page + 1
    st.rerun()

if table.empty:
    st.info("No records match these filters.")
    st.stop()

labels = explore.labels_for(user, app, table["id"].tolist())
table["label"] = [labels.get(raw_id, "") for raw_id in table["id"]]
# Streamlit reports ticked rows by position. The widget key carries a digest of the query and of the
# exact records shown, so a new search, page, deletion or newly arrived record starts with nothing ticked:
# a position ticked in one result set must never act on a record of another.
shown_digest = hashlib.sha256(repr((app, flt, sort, page, table["id"].tolist())).encode()).hexdigest()[:16]
table_key = f"rawx_table_{shown_digest}"
st.session_state["rawx_table_key"] = table_key
selection = st.dataframe(
    table, hide_index=True, width="stretch", key=table_key, on_select="rerun", selection_mode="multi-row",
    column_config={"url": st.column_config.LinkColumn("url", display_text=None),
                   "source_id": st.column_config.TextColumn("source"),
                   "fetched_at": st.column_config.DatetimeColumn("fetched at", format="YYYY-MM-DD HH:mm:ss")},
)
selected_rows = table.iloc[[row for row in selection.selection.rows if 0 <= row < len(table)]]
selected_ids = selected_rows["id"].tolist()

actions = st.columns([1, 1, 1, 3])
if selected_ids:
    try:
        if actions[0].button(f"Label good ({len(selected_ids)})", key="rawx_good"):
            explore.label_records(user, app, selected_ids, "good")
            st.toast(f"Labelled {len(selected_ids)} record(s) good")
            st.rerun()
        if actions[1].button(f"Label bad ({len(selected_ids)})", key="rawx_bad"):
            explore.label_records(user, app, selected_ids, "bad")
            st.toast(f"Labelled {len(selected_ids)} record(s) bad")
            st.rerun()
        with actions[2].popover(f"Delete ({len(selected_ids)})"):
            st.warning(f"Delete {len(selected_ids)} raw record(s)? This cannot be undone and is audited.")
            st.text(deletion_summary(selected_rows))
            # Keyed by the ids it names, so the click can only delete the records listed above it.
            ids_digest = hashlib.sha256("\n".join(selected_ids).encode()).hexdigest()[:16]
            if st.button("Delete for good", type="primary", key=f"rawx_delete_{ids_digest}"):
                outcome = explore.delete_records(user, app, selected_ids)
                st.toast(f"Deleted {outcome['deleted']} record(s)")
                st.rerun()
    except PermissionDenied as exc:
        st.error(str(exc))
else:
    actions[3].caption("Select rows to label them good or bad, delete them, or open one below.")

with st.expander("Export the current filter"):
    fmt = st.radio("Format", ["jsonl", "csv"], horizontal=True, key="rawx_export_fmt")
    if st.button("Prepare export", key="rawx_export"):
        st.session_state["rawx_export_data"] = (fmt, explore.export_bytes(user, app, flt, fmt))
    prepared = st.session_state.get("rawx_export_data")
    if prepared:
        st.download_button(f"Download {prepared[0].upper()} ({len(prepared[1]) / 1e6:.1f} MB)", prepared[1],
                           file_name=f"{app}-raw.{prepared[0]}", key="rawx_download")
        st.caption(f"At most {explore.EXPORT_LIMIT:,} records; CSV cells starting with = + - @ are escaped.")

detail_id = selected_ids[0] if selected_ids else linked_record if linked_app == app else None
if detail_id:
    detail = explore.record_detail(user, app, detail_id)
    if detail is None:
        st.warning("That record no longer exists.")
        st.stop()
    doc = detail["document"]
    # A scraped or uploaded URL is anyone's text.
    st.subheader(markdown_without_remote_images(str(doc.get("url") or doc["_id"])))
    predictions = detail["predictions"]
    if predictions:  # above the tabs too: where a user looking at the record sees it
        st.markdown("**Model prediction:** " + " · ".join(
            _escaped(f"{p['model_name']} v{p['model_version']}: {p['prediction']}"
                     + (f" ({p['probability']:.0%})" if p["probability"] is not None else ""))
            for p in predictions))
    fields_tab, json_tab, source_tab, prov_tab, versions_tab, refine_tab, predictions_tab = st.tabs(
        ["Extracted fields", "Document (JSON)", "Source text", "Provenance", "Versions", "Refinement",
         f"Model predictions ({len(predictions)})"])
    if (doc.get("metadata") or {}).get("kind") == "binary":
        media = explore.record_media(user, app, detail_id)
        if media and media.get("problem"):
            st.warning(f"This file does not decode: {media['problem']}")
        elif media and media["kind"] == "image":
            st.image(media["data"], caption="Thumbnail (EXIF removed)")
        elif media and media["kind"] == "video":
            st.video(media["data"], format=media["mime_type"])
            st.caption(" · ".join(f"{key.removeprefix('video_')}: {value}"
                                  for key, value in media["container"].items() if value not in (None, "")))
        elif media:
            st.audio(media["data"], format=media["mime_type"])
    with fields_tab:
        extracted = (doc.get("metadata") or {}).get("extracted")
        item = detail["item"]
        if extracted:
            st.json({k: v for k, v in extracted.items() if k != "text"}, expanded=True)
            if extracted.get("text"):
                st.text_area("Main text", extracted["text"], height=240, disabled=True,
                             key=f"rawx_main_text_{detail_id}")  # per record, or it keeps the last text
        elif item:
            st.json({"title": item["title"], "data_type": item["data_type"], "fields": item["fields"]})
            if item["text"]:
                st.text_area("Text", item["text"], height=240, disabled=True, key=f"rawx_item_text_{detail_id}")
        else:
            st.caption("No extracted fields for this record.")
    with json_tab:
        shown = {k: v for k, v in doc.items() if k != "raw_content"}
        st.json(json.loads(json.dumps(shown, default=str)), expanded=2)
    with source_tab:
        content = doc.get("raw_content") or ""
        if len(content) > MAX_SOURCE_CHARS:
            st.caption(f"Showing the first {MAX_SOURCE_CHARS:,} of {len(content):,} characters.")
        # As text with long lines wrapped (a page is often one line of HTML); never rendered.
        st.code(content[:MAX_SOURCE_CHARS], language="html" if content.lstrip().startswith("<") else None,
                wrap_lines=True, height=480)
    with prov_tab:
        st.json({"source_id": doc["source_id"], "url": doc.get("url"), "fetched_at": str(doc.get("fetched_at")),
                 "content_hash": doc.get("content_hash"), **detail["provenance"]})
    with versions_tab:
        st.dataframe(detail["versions"], hide_index=True, width="stretch")
    with refine_tab:
        refinement = detail["refinement"]
        if refinement:
            verdict = "kept" if refinement["kept"] else f"dropped by {refinement['drop_reason']}"
            st.markdown(f"Latest run {refinement['run_id']} (recipe {refinement['recipe_hash']}): **{verdict}**")
            st.json(refinement["signals"])
        else:
            st.caption("Not refined yet.")
    with predictions_tab:
        if predictions:
            st.dataframe(
                [{"model": p["model_name"], "version": p["model_version"], "prediction": str(p["prediction"]),
                  "probability": p["probability"], "scored at": p["created_at"]} for p in predictions],
                hide_index=True, width="stretch",
                column_config={"probability": st.column_config.NumberColumn(format="percent"),
                               "scored at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
        else:
            st.caption("No ML Lab model has scored this record; run predictions on the ML Lab page.")
