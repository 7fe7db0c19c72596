import pandas as pd
import streamlit as st

from core.auth import PermissionDenied
from core.sources import allowlist_admin
from core.sources.recipe_check import check_recipe_on_url, parse_recipe_lines
from core.sources.registry import KINDS, SourceError, list_sources, save_source
from core.status import raw_counts_by_app
from core.store import jobs
from pages._ui import require_page_user, show_job

RECIPE_EXAMPLE = "title: h1.product-title\nprice: span.price\nsku: meta[itemprop=sku] @content"

st.title("Sources & Scraping")
st.caption("Polite crawlers: robots.txt obeyed, per-host delays, retries with backoff, size caps, and private "
           "addresses refused unless an admin allowed their exact host:port.")
user = require_page_user("supplier", "admin")
counts = raw_counts_by_app(user)
cols = st.columns(4)
for col, app in zip(cols, ("news", "marketplace", "property", "uploads"), strict=True):
    col.metric(f"Raw {app} documents", f"{counts.get(app, 0):,}")

st.subheader("Demo sources")
st.write("Local demo sites (a multilingual news site with feeds and a sitemap, a marketplace and a property site) "
         "served on 127.0.0.1, with planted duplicates, spam, short pages, personal data and odd encodings.")
if st.button("Scrape the demo sources", type="primary", key="src_demo"):
    st.session_state["src_job"] = jobs.submit("scrape", {"demo": True}, user)
if "src_job" in st.session_state:
    job = show_job(st.session_state["src_job"], key="src")
    if job and job["status"] == "succeeded":
        result = job["result"]
        st.dataframe(pd.DataFrame.from_dict(result["sources"], orient="index"), width="stretch")

st.subheader("Saved sources")
sources = list_sources(user)
if sources:
    table = pd.DataFrame([{"name": s["name"], "app": s["app"], "kind": s["kind"], "licence": s["license"],
                           "start URLs": len(s["config"].get("urls", [])),
                           "robots override": s["robots_override"]} for s in sources])
    st.dataframe(table, hide_index=True, width="stretch")
    chosen = st.multiselect("Scrape these sources", [s["name"] for s in sources], key="src_chosen")
    if st.button("Scrape selected", disabled=not chosen, key="src_scrape"):
        st.session_state["src_job"] = jobs.submit("scrape", {"sources": chosen}, user)
        st.rerun()
else:
    st.caption("No saved sources yet.")

with st.expander("Add or update a source"):
    c1, c2, c3 = st.columns(3)
    name = c1.text_input("Name", key="src_name")
    app = c2.selectbox("Application", ["news", "marketplace", "property"], key="src_app")
    kind = c3.selectbox("Kind", KINDS, key="src_kind")
    urls = st.text_area("Start URLs (one per line)", key="src_urls", height=80)
    licence = c1.text_input("Licence of the content (SPDX)", key="src_license", placeholder="CC-BY-4.0")
    max_pages = c2.number_input("Max pages", 1, 100_000, 200, key="src_max_pages")
    next_selector = c3.text_input("Next-page selector", key="src_next", placeholder="a.next")
    detail_selector = st.text_input("Detail-link selector (listing indexes)", key="src_detail",
                                    placeholder="article a.listing-link")
    recipe_text = st.text_area("CSS recipe: one 'field: selector' per line ('@attr' to read an attribute)",
                               key="src_recipe", height=120,
                               placeholder=RECIPE_EXAMPLE)
    api_left, api_right = st.columns([1, 2])
    items_path = api_left.text_input("JSON API: items path", key="src_items_path", placeholder="data.items")
    field_map_text = api_right.text_area("JSON API field map: one 'dotted.path: field' per line",
                                         key="src_field_map", height=80,
                                         placeholder="attributes.name: title\nattributes.price.amount: price")
    robots_override = False
    if user.role == "admin":
        robots_override = st.checkbox("Ignore robots.txt for this source (recorded)", key="src_robots")
    test_url = st.text_input("Test the recipe on one URL", key="src_test_url")
    left, right = st.columns(2)
    if left.button("Test on one URL", disabled=not test_url, key="src_test"):
        try:
            outcome = check_recipe_on_url(test_url, parse_recipe_lines(recipe_text))
        except ValueError as exc:
            st.error(str(exc))
        else:
            if not outcome["ok"]:
                st.error(f"Could not test the recipe: {outcome['error']}")
            else:
                if outcome["unmatched"]:
                    st.warning("These selectors found nothing: " + ", ".join(outcome["unmatched"]))
                for field, why in outcome["errors"].items():
                    st.error(f"{field}: {why}")
                st.json({k: v for k, v in outcome["fields"].items() if v not in (None, [], {})})
    if right.button("Save source", type="primary", disabled=not (name and urls), key="src_save"):
        config = {"urls": urls.splitlines(), "max_pages": int(max_pages),
                  "next_page_selector": next_selector or None, "detail_link_selector": detail_selector or None}
        try:
            config["recipe"] = parse_recipe_lines(recipe_text) or None
            if kind == "json_api":
                config["items_path"] = items_path or None
                config["field_map"] = parse_recipe_lines(field_map_text)  # same "key: value" line format
            save_source(user, name, app, kind, config, license=licence or None, robots_override=robots_override)
            st.success(f"Saved source '{name}'.")
        except (SourceError, PermissionDenied, ValueError) as exc:
            st.error(str(exc))

if user.role == "admin":
    with st.expander("Network allow-list (admin)"):
        st.caption("Crawls never fetch private, loopback or link-local addresses, except the exact HOST:PORT pairs "
                   "listed here or in the NETWORK_ALLOWLIST setting. The running demo sites allow their own "
                   "ports. Every change is recorded in the audit log.")
        entries = allowlist_admin.list_allowed_endpoints(user)
        if entries:
            st.dataframe(pd.DataFrame([{"host:port": e["endpoint"], "from": e["origin"], "reason": e["reason"],
                                        "added": e["created_at"]} for e in entries]),
                         hide_index=True, width="stretch")
        else:
            st.caption("The allow-list is empty.")
        add_left, add_right = st.columns([1, 2])
        new_endpoint = add_left.text_input("HOST:PORT", key="src_allow_endpoint", placeholder="10.0.0.5:8080")
        new_reason = add_right.text_input("Why it may be reached", key="src_allow_reason")
        if st.button("Allow this host:port", disabled=not new_endpoint, key="src_allow_add"):
            try:
                added = allowlist_admin.add_allowed_endpoint(user, new_endpoint, new_reason)
            except (PermissionDenied, ValueError) as exc:
                st.error(str(exc))
            else:
                st.success(f"Allowed {added['endpoint']}.")
        removable = [e["endpoint"] for e in entries if e["origin"] == "admin"]
        if removable:
            to_remove = st.selectbox("Remove an admin entry", removable, key="src_allow_remove_choice")
            if st.button("Remove from the allow-list", key="src_allow_remove"):
                try:
                    allowlist_admin.remove_allowed_endpoint(user, to_remove)
                except (PermissionDenied, ValueError) as exc:
                    st.error(str(exc))
                else:
                    st.success(f"Removed {to_remove}.")
