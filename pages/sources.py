import pandas as pd
import streamlit as st

from core.applications import APPLICATIONS, CRAWLED_APPLICATIONS, LISTING_APPS
from core.auth import PermissionDenied
from core.plain_errors import plain_error
from core.sources import allowlist_admin
from core.sources.recipe_check import check_recipe_on_url, parse_recipe_lines
from core.sources.registry import KINDS, SourceError, list_sources, save_source
from core.sources.source_form import crawl_config_from_form
from core.status import raw_counts_by_app
from core.store import jobs
from pages._social_form import social_source_fields
from pages._ui import next_steps, require_page_user, show_job

RECIPE_EXAMPLE = "title: h1.product-title\nprice: span.price\nsku: meta[itemprop=sku] @content"

SCRAPE_COLUMNS = {
    "_index": st.column_config.TextColumn("source"), "pages": "pages fetched", "errors": "errors",
    "not_modified": st.column_config.NumberColumn("not modified", help="Answered 304: unchanged since the last scrape"),
    "skipped_by_robots": "skipped (robots.txt)", "stored_new": "new records", "already_present": "already stored",
    "items": "items created"}


def scrape_summary(result: dict) -> str:
    sources = result.get("sources") or {}
    errors = sum(r.get("errors", 0) for r in sources.values())
    return (f"{len(sources)} source(s) crawled, {result.get('pages', 0):,} pages fetched, "
            f"{result.get('stored_new', 0):,} new records stored"
            + (f", {errors:,} pages failed (see the table)." if errors else "."))


st.title("Sources & Scraping")
st.caption("Polite crawlers: robots.txt obeyed, per-host delays, retries with backoff, size caps, and private "
           "addresses refused unless an admin allowed their exact host:port.")
user = require_page_user("supplier", "admin")
counts = raw_counts_by_app(user)
cols = st.columns(5)
for col, app in zip(cols, (*CRAWLED_APPLICATIONS, "uploads", "social"), strict=True):
    col.metric(f"Raw {app} documents", f"{counts.get(app, 0):,}")

st.subheader("Demo sources")
st.write("Local demo sites (a multilingual news site with feeds and a sitemap, a marketplace and a property site) "
         "served on 127.0.0.1, with planted duplicates, spam, short pages, personal data and odd encodings.")
if st.button("Scrape the demo sources", type="primary", key="src_demo"):
    st.session_state["src_job"] = jobs.submit("scrape", {"demo": True}, user)
st.caption("Demo social servers on 127.0.0.1 speak the public Mastodon and Bluesky APIs: posts in six languages, "
           "with reposts, copy-pasted duplicates, contact details and HTML to clean.")
if st.button("Collect the demo social posts", key="src_demo_social"):
    st.session_state["src_job"] = jobs.submit("scrape", {"demo_social": True}, user)
if "src_job" in st.session_state:
    job = show_job(st.session_state["src_job"], key="src", describe=scrape_summary)
    if job and job["status"] == "succeeded":
        st.dataframe(pd.DataFrame.from_dict(job["result"]["sources"], orient="index"), width="stretch",
                     column_config=SCRAPE_COLUMNS)
        next_steps(("pages/raw_explorer.py", "Open the data in Raw Explorer", ":material/manage_search:"),
                   ("pages/refine.py", "Refine it", ":material/tune:"))

st.subheader("Saved sources")
sources = list_sources(user)
if sources:
    table = pd.DataFrame([{"name": s["name"], "app": s["app"], "kind": s["kind"], "licence": s["license"],
                           "start URLs": len(s["config"].get("urls", [])),
                           "robots override": s["robots_override"]} for s in sources])
    st.dataframe(table, hide_index=True, width="stretch")
    chosen = st.multiselect("Scrape these sources", [s["name"] for s in sources if s["kind"] != "bucket"],
                            key="src_chosen")
    if st.button("Scrape selected", disabled=not chosen, key="src_scrape"):
        st.session_state["src_job"] = jobs.submit("scrape", {"sources": chosen}, user)
        st.rerun()
else:
    st.caption("No saved sources yet.")

with st.expander("Add or update a source"):
    c1, c2, c3 = st.columns(3)
    name = c1.text_input("Name", key="src_name")
    kind = c3.selectbox("Kind", [k for k in KINDS if k != "bucket"], key="src_kind")  # buckets: own form below
    social = kind == "social"  # public posts through a platform's API: no start URLs, pages or licence
    app = "social" if social else c2.selectbox("Application", CRAWLED_APPLICATIONS, key="src_app")
    social_config = social_source_fields(c1, c2, c3) if social else None
    urls = "" if social else st.text_area("Start URLs (one per line)", key="src_urls", height=80)
    licence = "" if social else c1.text_input("Licence of the content (SPDX)", key="src_license",
                                              placeholder="CC-BY-4.0")
    max_pages = 0 if social else c2.number_input("Max pages", 1, 100_000, 200, key="src_max_pages")
    # Only the fields the chosen kind reads: a listing index follows selectors, a JSON API maps paths,
    # and pages of listings (marketplace, property) are read with a CSS recipe.
    next_selector = detail_selector = recipe_text = items_path = field_map_text = test_url = ""
    if kind == "listing_index":
        next_selector = c3.text_input("Next-page selector", key="src_next", placeholder="a.next")
        detail_selector = st.text_input("Detail-link selector", key="src_detail",
                                        placeholder="article a.listing-link")
    if kind == "json_api":
        api_left, api_right = st.columns([1, 2])
        items_path = api_left.text_input("Items path", key="src_items_path", placeholder="data.items")
        field_map_text = api_right.text_area("Field map: one 'dotted.path: field' per line",
                                             key="src_field_map", height=80,
                                             placeholder="attributes.name: title\nattributes.price.amount: price")
    elif app in LISTING_APPS:
        recipe_text = st.text_area("CSS recipe: one 'field: selector' per line ('@attr' to read an attribute)",
                                   key="src_recipe", height=120,
                                   placeholder=RECIPE_EXAMPLE)
        test_url = st.text_input("Test the recipe on one URL", key="src_test_url")
    robots_override = False
    if user.role == "admin":
        robots_override = st.checkbox("Ignore robots.txt for this source (recorded)", key="src_robots")
    left, right = st.columns(2)
    if test_url and left.button("Test on one URL", key="src_test"):
        try:
            outcome = check_recipe_on_url(test_url, parse_recipe_lines(recipe_text))
        except ValueError as exc:
            st.error(str(exc))
        else:
            if not outcome["ok"]:
                st.error(f"Could not test the recipe: {plain_error(outcome['error'])}")
            else:
                if outcome["unmatched"]:
                    st.warning("These selectors found nothing: " + ", ".join(outcome["unmatched"]))
                for field, why in outcome["errors"].items():
                    st.error(f"{field}: {why}")
                st.json({k: v for k, v in outcome["fields"].items() if v not in (None, [], {})})
    if social and right.button("Save source", type="primary", disabled=not name, key="src_save"):
        try:
            save_source(user, name, app, kind, social_config, robots_override=robots_override)
            st.success(f"Saved source '{name}'.")
        except (SourceError, PermissionDenied, ValueError) as exc:
            st.error(str(exc))
    if not social and right.button("Save source", type="primary", disabled=not (name and urls), key="src_save"):
        try:
            config = crawl_config_from_form(kind, urls, max_pages, next_selector=next_selector,
                                            detail_selector=detail_selector, recipe_text=recipe_text,
                                            items_path=items_path, field_map_text=field_map_text)
            save_source(user, name, app, kind, config, license=licence or None, robots_override=robots_override)
            st.success(f"Saved source '{name}'.")
        except (SourceError, PermissionDenied, ValueError) as exc:
            st.error(str(exc))

with st.expander("Bucket sources (S3)"):
    # Where only: credentials come from BUCKET_ACCESS_KEY_ID / BUCKET_SECRET_ACCESS_KEY (or AWS_*) settings.
    st.caption("Ingest every CSV, JSONL, JSON or Parquet object (optionally .gz) under a prefix; later runs pick "
               "up only new or changed objects. Credentials come from the workbench settings, never from here; "
               "a private endpoint must be on the network allow-list.")
    b1, b2, b3 = st.columns(3)
    bucket_name = b1.text_input("Source name", key="src_bucket_name")
    bucket_url = b2.text_input("Bucket URL", key="src_bucket_url", placeholder="s3://my-bucket/exports/")
    bucket_dataset = b3.text_input("Dataset", key="src_bucket_dataset", placeholder="bucket-exports")
    bucket_app = b1.selectbox("Application", APPLICATIONS, key="src_bucket_app")
    bucket_endpoint = b2.text_input("Endpoint URL (S3-compatible services)", key="src_bucket_endpoint")
    bucket_pattern = b3.text_input("Object name pattern", "*", key="src_bucket_pattern")
    bucket_license = b1.text_input("Licence of the data (SPDX)", key="src_bucket_license", placeholder="CC-BY-4.0")
    bucket_region = b2.text_input("Region", key="src_bucket_region", placeholder="eu-west-1")
    bucket_attested = st.checkbox("I have the right to supply this bucket's data", key="src_bucket_attest")
    if st.button("Save bucket source", disabled=not (bucket_name and bucket_url), key="src_bucket_save"):
        config = {"url": bucket_url, "dataset": bucket_dataset, "pattern": bucket_pattern, "attested": bucket_attested,
                  "endpoint_url": bucket_endpoint or None, "region": bucket_region or None}
        try:
            save_source(user, bucket_name, bucket_app, "bucket", config, license=bucket_license or None)
            st.success(f"Saved bucket source '{bucket_name}'.")
        except (SourceError, PermissionDenied, ValueError) as exc:
            st.error(str(exc))
    buckets = [s["name"] for s in sources if s["kind"] == "bucket"]
    if buckets:
        bucket_chosen = st.selectbox("Ingest new and changed objects of", buckets, key="src_bucket_chosen")
        if st.button("Ingest bucket", type="primary", key="src_bucket_run"):
            st.session_state["src_bucket_job"] = jobs.submit("bucket_ingest", {"source": bucket_chosen}, user)
    if "src_bucket_job" in st.session_state:
        show_job(st.session_state["src_bucket_job"], key="src_bucket",
                 describe=lambda r: (f"{r.get('ingested', 0)} objects ingested, {r.get('unchanged', 0)} unchanged, "
                                     f"{r.get('failed', 0)} failed; {r.get('new', 0):,} new records."))

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
