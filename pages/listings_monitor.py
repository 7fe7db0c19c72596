import pandas as pd
import streamlit as st

from core.applications import LISTING_APPS
from core.apps.listings.monitor import charts, stats
from core.apps.listings.monitor.changes import KIND_LABELS, KINDS
from core.apps.listings.monitor.demo import simulate_market_activity
from core.apps.listings.monitor.exports import import_export
from core.apps.listings.monitor.inbox import inbox, mark_all_read, mark_read, open_event, recent_passes, unread_counts
from core.apps.listings.monitor.live import live_listings
from core.apps.listings.monitor.searches import delete_search, list_searches, save_search
from core.apps.listings.monitor.watches import (
    MonitorError,
    delete_watch,
    list_watches,
    run_now,
    save_login_only_source,
    save_watch,
)
from core.auth import PermissionDenied
from core.sources.registry import SourceError, list_sources
from core.text_safety import markdown_without_remote_images
from pages._ui import require_page_user, show_job

PROBLEMS = (PermissionDenied, MonitorError, SourceError, ValueError)
SECTIONS = ["Inbox", "Searches", "Watched sources", "Live listings", "Statistics"]

st.title("Marketplace monitor")
st.caption("Watched listing sources are re-scraped on their schedule; each pass turns what changed into events: "
           "new listings matching your searches, price drops, relists, items back in stock, listings gone.")
user = require_page_user("supplier", "admin")

sources = [s for s in list_sources(user) if s["app"] in LISTING_APPS]
watches = list_watches(user)
searches = list_searches(user)
counts = unread_counts(user)
section = st.radio("Section", SECTIONS, horizontal=True, key="mmon_section", label_visibility="collapsed")


def _money(value, currency) -> str:
    return "" if value is None else f"{value:,.2f} {currency or ''}".strip()


def _change(row: dict) -> str:
    if row["drop_amount"] is not None:
        return (f"{_money(row['old_price'], row['currency'])} → {_money(row['new_price'], row['currency'])} "
                f"(−{row['drop_amount']:,.2f}, −{row['drop_pct']:.1f}%)")
    return _money(row["new_price"] if row["kind"] != "gone" else row["old_price"], row["currency"])


def show_event(detail: dict) -> None:
    with st.container(border=True):
        st.subheader(f"{detail['label']}: " + markdown_without_remote_images(detail["title"] or "(untitled)"))
        st.caption(f"{detail['source']} · {detail['created_at']:%Y-%m-%d %H:%M} · search: {detail['search']}")
        if detail["drop_amount"] is not None:
            st.markdown(f"**Price:** {_money(detail['old_price'], detail['currency'])} → "
                        f"{_money(detail['new_price'], detail['currency'])}, down {detail['drop_amount']:,.2f} "
                        f"({detail['drop_pct']:.1f}%)")
        if detail["relist_of"]:
            before = detail["relist_of"]
            st.markdown("**Relist of:** " + markdown_without_remote_images(before["title"] or "(untitled)")
                        + f" · first seen {before['first_seen_at']:%Y-%m-%d}")
            st.text(before["url"])
        listing = detail["listing"]
        if listing:
            st.markdown(f"**Now:** {_money(listing['price'], listing['currency']) or 'no price'} · "
                        f"{'in stock' if listing['in_stock'] else 'sold out' if listing['in_stock'] is False else ''}"
                        f" · {listing['status']} · first seen {listing['first_seen_at']:%Y-%m-%d %H:%M}")
        st.text(detail["url"] or "")
        record = detail["record"]
        if record:
            st.page_link("pages/raw_explorer.py", label="Open the record in Raw Explorer",
                         icon=":material/open_in_new:", query_params={"app": detail["app"], "record": detail["raw_id"]})
            extracted = (record["document"].get("metadata") or {}).get("extracted") or {}
            st.json({k: v for k, v in extracted.items() if k != "text"}, expanded=False)
        elif detail["raw_id"]:
            st.caption("The raw record behind this event is no longer in the raw store.")


if section == "Inbox":
    metrics = st.columns(len(KINDS) + 1)
    metrics[0].metric("Unread", counts["total"])
    for column, kind in zip(metrics[1:], KINDS, strict=True):
        column.metric(KIND_LABELS[kind], counts[kind])
    c1, c2, c3, c4 = st.columns([3, 2, 2, 1])
    kinds = c1.multiselect("Events", list(KINDS), format_func=KIND_LABELS.get, key="mmon_f_kinds")
    source_filter = c2.selectbox("Source", ["All sources", *[w["source_name"] for w in watches]], key="mmon_f_source")
    search_names = {s["id"]: s["name"] for s in searches}
    search_filter = c3.selectbox("Search", [None, *search_names], key="mmon_f_search",
                                 format_func=lambda i: "All searches" if i is None else search_names[i])
    unread_only = c4.checkbox("Unread only", key="mmon_f_unread")
    entries = inbox(user, kinds=kinds, unread_only=unread_only, search_id=search_filter,
                    source=None if source_filter == "All sources" else source_filter)
    if not entries:
        st.info("No events here yet. Save a search and watch a source; events arrive from the second pass on "
                "(the first pass records what is listed).")
    else:
        if st.button("Mark all read", key="mmon_mark_all", disabled=counts["total"] == 0):
            mark_all_read(user)
            st.rerun()
        table = pd.DataFrame([{"when": e["created_at"], "event": e["label"], "title": e["title"], "price": _change(e),
                               "source": e["source"], "search": e["search"], "read": e["read"]} for e in entries])
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config={"when": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
        by_id = {e["id"]: e for e in entries}
        chosen = st.selectbox("Open event", list(by_id), index=None, key="mmon_open",
                              placeholder="Choose an event to open it (it is marked read)",
                              format_func=lambda i: ("● " if not by_id[i]["read"] else "")
                              + f"{by_id[i]['label']}: {by_id[i]['title'] or '(untitled)'}")
        if chosen is not None:
            try:
                detail = open_event(user, chosen)
            except PermissionDenied as exc:
                st.error(str(exc))
                st.stop()
            show_event(detail)
            if st.button("Mark unread", key="mmon_unread"):
                mark_read(user, [chosen], read=False)
                st.rerun()

elif section == "Searches":
    with st.form("mmon_search_form", clear_on_submit=True):
        st.markdown("**Save a search**: every condition you fill in must hold.")
        c1, c2 = st.columns(2)
        name = c1.text_input("Search name", placeholder="Cheap bikes in Utrecht")
        source_choice = c2.selectbox("Source", ["Any of my sources", *[s["name"] for s in sources]])
        c3, c4, c5, c6 = st.columns(4)
        category = c3.text_input("Category", placeholder="Bicycles")
        words = c4.text_input("Words", placeholder="gazelle city")
        low = c5.number_input("Lowest price", min_value=0.0, value=None, step=10.0)
        high = c6.number_input("Highest price", min_value=0.0, value=None, step=10.0)
        location = st.text_input("Location", placeholder="Utrecht")
        if st.form_submit_button("Save search"):
            try:
                saved = save_search(user, name, source=None if source_choice.startswith("Any") else source_choice,
                                    category=category, words=words, min_price=low, max_price=high, location=location)
                st.success(f"Search '{saved['name']}' saved.")
                searches = list_searches(user)
            except PROBLEMS as exc:
                st.error(str(exc))
    if searches:
        st.dataframe(pd.DataFrame(searches)[["id", "name", "source_name", "category", "words", "min_price",
                                             "max_price", "location", "active"]],
                     hide_index=True, width="stretch", column_config={"source_name": "source"})
        target = st.selectbox("Search", [s["id"] for s in searches], key="mmon_search_pick",
                              format_func=lambda i: next(s["name"] for s in searches if s["id"] == i))
        if st.button("Delete search", key="mmon_search_delete"):
            delete_search(user, target)
            st.rerun()
    else:
        st.caption("No saved search yet.")

elif section == "Watched sources":
    if not sources:
        st.info("No listing source yet: scrape the demo sources on **Sources & Scraping**, or save a marketplace "
                "source there, then watch it here.")
    else:
        with st.form("mmon_watch_form"):
            st.markdown("**Watch a source**: it is re-scraped on this interval while the workbench runs "
                        "(robots.txt, politeness delay and the network allow-list apply as for any scrape).")
            c1, c2 = st.columns([2, 1])
            source_name = c1.selectbox("Source to watch", [s["name"] for s in sources])
            minutes = c2.number_input("Every (minutes)", min_value=5, max_value=31 * 24 * 60, value=60, step=5)
            enabled = st.checkbox("Re-scrape on this schedule", value=True)
            notify_all = st.checkbox("Every change to my inbox, not only listings matching my saved searches")
            if st.form_submit_button("Save watch"):
                try:
                    saved = save_watch(user, source_name, int(minutes), enabled, notify_all)
                    st.success(f"Watching {saved['source_name']}" + (
                        ": it needs a login, so import your exported files below." if saved["needs_login"] else
                        "; the first pass records what is listed now."))
                    watches = list_watches(user)
                except PROBLEMS as exc:
                    st.error(str(exc))
    if watches:
        table = pd.DataFrame([{"source": w["source_name"], "every (min)": w["every_minutes"], "scheduled": w["enabled"]
                               and not w["needs_login"], "every change": w["notify_all"], "passes": w["passes"],
                               "next pass": w["next_run_at"], "last pass": (w["last_pass"] or {}).get("note", ""),
                               "fed by": "your exports (login needed)" if w["needs_login"] else "scraping"}
                              for w in watches])
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config={"next pass": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
        by_watch = {w["id"]: w for w in watches}
        picked = st.selectbox("Watched source", list(by_watch), key="mmon_watch_pick",
                              format_func=lambda i: by_watch[i]["source_name"])
        watch = by_watch[picked]
        b1, b2, _ = st.columns([1, 1, 3])
        if b1.button("Run a pass now", key="mmon_run", type="primary", disabled=watch["needs_login"]):
            try:
                st.session_state["mmon_job"] = run_now(user, picked)
            except PROBLEMS as exc:
                st.error(str(exc))
        with b2.popover("Stop watching"):
            st.warning(f"Stop watching {watch['source_name']} and forget its listings and events?")
            if st.button("Stop watching for good", key=f"mmon_delete_{picked}"):
                delete_watch(user, picked)
                st.rerun()
        if st.session_state.get("mmon_job"):
            show_job(st.session_state["mmon_job"], "mmon")
        if watch["needs_login"]:
            with st.container(border=True):
                st.markdown(f"**{watch['source_name']} needs a login on its site, so it is never scraped.** Save the "
                            "listings you see while signed in (the page as HTML, or a JSON export) and import the file "
                            "here; it goes through the same pass as a scrape.")
                upload = st.file_uploader("Exported file", type=["html", "htm", "json"], key="mmon_export_file")
                attested = st.checkbox("This is my own export and I may use it", key="mmon_export_attest")
                complete = st.checkbox("The file lists everything the source lists now (mark missing listings gone)",
                                       key="mmon_export_complete")
                if st.button("Import", key="mmon_export_import", disabled=upload is None):
                    try:
                        outcome = import_export(user, watch["source_name"], upload.name, upload.getvalue(),
                                                attested=attested, complete=complete)
                        st.success(outcome["summary"])
                        for where, why in outcome["rejected"][:20]:
                            st.caption(f"Skipped {where}: {why}")
                    except PROBLEMS as exc:
                        st.error(str(exc))
        passes = recent_passes(user, picked)
        if passes:
            st.dataframe(pd.DataFrame(passes)[["id", "kind", "status", "baseline", "complete", "listings", "events",
                                               "started_at", "note"]], hide_index=True, width="stretch",
                         column_config={"started_at": st.column_config.DatetimeColumn("started",
                                                                                      format="YYYY-MM-DD HH:mm:ss")})
        if watch["source_name"] == "demo-marketplace":
            with st.expander("Demo shop: simulate market activity"):
                st.caption("Plants new items, price drops, a relist with a reworded title, a removal, a sale and a "
                           "restock on the local demo shop (for every user of this workbench), then run a pass.")
                if st.button("Simulate market activity", key="mmon_simulate"):
                    st.session_state["mmon_planted"] = simulate_market_activity(user)
                if st.session_state.get("mmon_planted"):
                    st.dataframe(pd.DataFrame(st.session_state["mmon_planted"]), hide_index=True, width="stretch")
    with st.expander("Add a site that needs a login (Facebook Marketplace)"):
        st.caption("Listings shown only to a signed-in user are never scraped behind the login: the source is fed "
                   "by the files you export yourself.")
        c1, c2, c3 = st.columns([2, 3, 1])
        login_name = c1.text_input("Source name", key="mmon_login_name", placeholder="my-fb-marketplace")
        login_url = c2.text_input("Site address", key="mmon_login_url", value="https://www.facebook.com/marketplace/")
        login_license = c3.text_input("Licence", key="mmon_login_license", value="LicenseRef-personal-use")
        if st.button("Add source", key="mmon_login_add"):
            try:
                save_login_only_source(user, login_name.strip(), login_url.strip(), login_license.strip() or None)
                save_watch(user, login_name.strip(), enabled=False)
                st.success(f"{login_name} added: pick it above and import your exported files.")
                st.rerun()
            except PROBLEMS as exc:
                st.error(str(exc))

elif section == "Live listings":
    c1, c2 = st.columns(2)
    search_names = {s["id"]: s["name"] for s in searches}
    live_search = c1.selectbox("Matching", [None, *search_names], key="mmon_live_search",
                               format_func=lambda i: "Every listing" if i is None else f"Search: {search_names[i]}")
    live_source = c2.selectbox("Source", ["All sources", *[w["source_name"] for w in watches]], key="mmon_live_source")
    rows = live_listings(user, search_id=live_search, source=None if live_source == "All sources" else live_source)
    if rows:
        st.caption(f"{len(rows)} listing(s) on the market now, as their raw records show them.")
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                     column_config={"url": st.column_config.LinkColumn("url"),
                                    "price": st.column_config.NumberColumn(format="%.2f"),
                                    "first_seen_at": st.column_config.DatetimeColumn("first seen",
                                                                                     format="YYYY-MM-DD HH:mm"),
                                    "fetched_at": st.column_config.DatetimeColumn("fetched",
                                                                                  format="YYYY-MM-DD HH:mm")})
    else:
        st.info("No live listing here: watch a source and run a pass first.")

else:
    stats_source = st.selectbox("Source", ["All sources", *[w["source_name"] for w in watches]], key="mmon_st_source")
    chosen_source = None if stats_source == "All sources" else stats_source
    st.plotly_chart(charts.median_price_chart(stats.median_price_by_category(user, chosen_source)), width="stretch")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.volume_chart(stats.listing_volume(user, chosen_source)), width="stretch")
    with right:
        st.plotly_chart(charts.time_to_sell_chart(stats.time_to_sell(user, chosen_source)), width="stretch")
    st.caption("Medians, volumes and times are computed in SQL from each listing's daily price point; time to sell "
               "runs from a listing's first sighting to its selling out or leaving the market.")
