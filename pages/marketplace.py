
import pandas as pd
import streamlit as st

from core.auth import PermissionDenied
from core.market.analytics import AnalyticsError, sales_analytics, sales_figure
from core.market.buyer_downloads import purchase_download
from core.market.checkout import CheckoutError, fulfil_checkout_session, paid_sale, start_purchase
from core.market.downloads import DownloadError
from core.market.listings import ListingError, create_listing, listing_detail, search_listings, unlist
from core.market.reviews import ReviewError, add_review
from core.market.stripe_gateway import PaymentProviderError, stripe_enabled
from core.market.tiers import MAX_TIERS, TierError, sale_tier, set_tiers
from core.packaging.build import list_packages
from core.text_safety import markdown_without_remote_images
from pages._sales_admin import sales_section
from pages._ui import remembered_selectbox, require_page_user

MARKET_ERRORS = (ListingError, CheckoutError, DownloadError, ReviewError, PaymentProviderError, PermissionDenied,
                 TierError, AnalyticsError)
SORTS = {"newest": "Newest", "rating": "Best rated", "price": "Lowest price", "quality": "Highest quality"}

st.title("Marketplace")
user = require_page_user()

session_id = st.query_params.get("checkout_session_id")
if session_id:  # back from Stripe Checkout: fulfil once (the webhook may already have done it)
    try:
        outcome = fulfil_checkout_session(session_id)
        if outcome["status"] in ("paid", "fulfilled", "already fulfilled"):
            st.success("Payment received: the dataset is yours. Download it from its listing below.")
        else:
            st.warning(f"Stripe reports the payment as {outcome['status']}; it will be completed when it clears.")
    except MARKET_ERRORS as exc:
        st.error(f"The payment could not be confirmed: {exc}")
    st.query_params.clear()

if user.role in ("supplier", "admin"):
    with st.expander("List a package for sale"):
        packages = list_packages(user)
        packages = packages[packages["status"] == "published"]
        if packages.empty:
            st.caption("Build a package on the **Packages** page first.")
        else:
            # Opens on the version just built or opened on the Packages page.
            package_id = remembered_selectbox(
                "Package version", packages["package_id"].tolist(), "package", key="mkt_pkg",
                format_func=lambda p: "{name} {version} ({rows} rows, {license})".format(
                    **packages.set_index("package_id").loc[p]))
            chosen = packages.set_index("package_id").loc[package_id]
            c1, c2 = st.columns(2)
            title = c1.text_input("Title", value=chosen["name"].replace("-", " ").capitalize(), key="mkt_title")
            category = c2.selectbox("Category", ["news", "marketplace", "property", "text", "tabular", "other"],
                                    key="mkt_category")
            description = st.text_area("Description", key="mkt_description", height=80)
            tags = c1.text_input("Tags (comma separated)", key="mkt_tags")
            price = c2.number_input("Price (0 = free)", min_value=0.0, value=0.0, step=1.0, key="mkt_price")
            currency = c2.selectbox("Currency", ["usd", "eur", "gbp"], key="mkt_currency")
            if st.button("List it", type="primary", key="mkt_list"):
                try:
                    listing = create_listing(user, int(package_id), title, description, tags, category,
                                             int(round(price * 100)), currency)
                    st.success(f"Listed '{markdown_without_remote_images(listing['title'])}'. "
                               "Its listing is open below, as buyers will see it.")
                    st.session_state["mkt_open"] = listing["id"]
                except MARKET_ERRORS as exc:
                    st.error(str(exc))


    with st.expander("Sales analytics for your listings"):
        a1, a2 = st.columns(2)
        period = a1.selectbox("Per", ["day", "week", "month"], key="mkt_stats_period")
        days = a2.number_input("Last N days", min_value=1, max_value=3660, value=90, key="mkt_stats_days")
        stats = sales_analytics(user, period=period, days=int(days))
        if stats["totals"].empty:
            st.caption("You have no listings yet.")
        else:
            st.plotly_chart(sales_figure(stats["series"], title=None), key="mkt_stats_chart")
            st.dataframe(stats["totals"].assign(revenue=stats["totals"]["revenue_cents"] / 100)
                         .drop(columns=["revenue_cents"]), hide_index=True, width="stretch",
                         column_config={"listing_id": st.column_config.NumberColumn("listing"),
                                        "revenue": st.column_config.NumberColumn("revenue", format="%.2f"),
                                        "conversion": st.column_config.NumberColumn("purchases per view",
                                                                                    format="%.2f")})
            st.caption("A view is a signed-in visitor other than you opening the listing (once per half hour); "
                       "purchases and revenue count paid sales only.")

if user.role == "admin":
    sales_section(user, MARKET_ERRORS)

with st.container(border=True):
    c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
    text = c1.text_input("Search datasets", key="mkt_text", placeholder="words in title, description or tags")
    sort = c2.selectbox("Sort", list(SORTS), format_func=SORTS.get, key="mkt_sort")
    max_price = c3.number_input("Max price", min_value=0.0, value=0.0, step=5.0, key="mkt_max_price",
                                help="0 = any price")
    min_rating = c4.slider("Min rating", 0.0, 5.0, 0.0, 0.5, key="mkt_min_rating")
    c5, c6, c7 = st.columns(3)
    category = c5.text_input("Category", key="mkt_filter_category")
    language = c6.text_input("Language (ISO code)", key="mkt_filter_language")
    licence = c7.text_input("Licence (SPDX)", key="mkt_filter_license")

results = search_listings(user, text=text or None, category=category or None, language=language or None,
                          license=licence or None, max_price_cents=int(max_price * 100) or None,
                          min_rating=min_rating or None, sort=sort)
if results.empty:
    st.info("No listed datasets match." if (text or category or language or licence) else
            "Nothing is listed yet. Suppliers list package versions here.")
    st.stop()

table = results.assign(price=results["price_cents"] / 100, currency=results["currency"].str.upper())[
    ["listing_id", "title", "category", "price", "currency", "license", "quality", "average_rating",
     "review_count", "package_version", "seller_name"]]
picked = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                      key="mkt_results",
                      column_config={"listing_id": st.column_config.NumberColumn("listing"),
                                     "price": st.column_config.NumberColumn("price", format="%.2f"),
                                     "quality": st.column_config.NumberColumn("mean quality", format="%.2f"),
                                     "average_rating": st.column_config.NumberColumn("rating", format="%.1f / 5"),
                                     "review_count": st.column_config.NumberColumn("reviews"),
                                     "package_version": "version", "seller_name": "seller"})
rows = picked.selection.rows
listing_id = int(table.iloc[rows[0]]["listing_id"]) if rows else st.session_state.get("mkt_open")
if listing_id is None:
    st.caption("Select a dataset to see its details, buy it or download it.")
    st.stop()
st.session_state["mkt_open"] = listing_id
detail = listing_detail(user, listing_id)
listing, package = detail["listing"], detail["package"]

st.subheader(markdown_without_remote_images(listing["title"]))
m1, m2, m3, m4 = st.columns(4)
tiers = detail["tiers"]


def _price(cents: int) -> str:
    return "free" if not cents else f"{cents / 100:.2f} {listing['currency'].upper()}"


m1.metric("Price" if len(tiers) == 1 else "Price from", _price(listing["price_cents"]))
m2.metric("Rows", f"{package['metrics'].get('rows') or 0:,}")
m3.metric("Mean quality", f"{package['metrics'].get('mean_quality') or 0:.2f}")
rating = detail["rating"]
m4.metric("Rating", f"{rating['average_rating']:.1f} ({rating['review_count']})" if rating["review_count"]
          else "no reviews")
# Written by the seller and read by everyone: rendered without anything that loads from elsewhere.
st.markdown(markdown_without_remote_images(listing["description"]))
st.caption(markdown_without_remote_images(f"Version {package['version']} · licence {listing['license']} · "
                                          f"tags: {', '.join(listing['tags'])}"))

if len(tiers) > 1 or tiers[0]["terms"]:
    st.markdown("**Licence tiers**: each is its own licence and price; its terms are shown before you buy.")
    for tier in tiers:
        with st.expander(f"{tier['name']}: {tier['license']}, {_price(tier['price_cents'])}"):
            st.markdown(markdown_without_remote_images(tier["terms"]) if tier["terms"] else
                        "The licence's own terms apply (see the dataset card).")

sample_tab, card_tab, reviews_tab = st.tabs(["Sample rows", "Dataset card", f"Reviews ({rating['review_count']})"])
with sample_tab:
    if detail["sample"]:
        st.dataframe(pd.DataFrame(detail["sample"]), hide_index=True, width="stretch")
    else:
        st.caption("No sample rows: the package's data file is missing.")
with card_tab:
    st.markdown(markdown_without_remote_images(detail["card"]))
with reviews_tab:
    for review in detail["reviews"]:
        st.markdown(f"{'⭐' * review['rating']} **{markdown_without_remote_images(review['reviewer'])}**")
        st.text(review["text"])
    if not detail["reviews"]:
        st.caption("No reviews yet.")

owned = paid_sale(user.id, listing_id)
if listing["seller_id"] == user.id:
    if listing["status"] == "listed" and st.button("Unlist", key="mkt_unlist"):
        try:
            unlist(user, listing_id)
            st.rerun()
        except MARKET_ERRORS as exc:
            st.error(str(exc))
    with st.expander("Licence tiers (e.g. research-only and commercial)"):
        st.caption(f"Up to {MAX_TIERS} tiers. A tier's licence is the package's ({package['license']}) or a "
                   "custom LicenseRef-<name> with its terms written out. Prices in cents; buyers who already paid "
                   "keep the tier they bought.")
        edited = st.data_editor(pd.DataFrame(tiers)[["name", "license", "terms", "price_cents"]],
                                num_rows="dynamic", hide_index=True, width="stretch", key=f"mkt_tiers_{listing_id}")
        if st.button("Save tiers", key="mkt_tiers_save"):
            try:
                # Blank cells of a newly added row arrive as NaN; they become empty text (refused with a reason).
                rows = edited.dropna(how="all").fillna({"name": "", "license": "", "terms": "", "price_cents": 0})
                set_tiers(user, listing_id, [{**row, "price_cents": int(row["price_cents"])}
                                             for row in rows.to_dict("records")])
                st.rerun()
            except (*MARKET_ERRORS, ValueError) as exc:
                st.error(str(exc))
elif owned is None:
    if len(tiers) > 1:
        chosen_tier = st.radio("Licence tier", [t["name"] for t in tiers], horizontal=True, key="mkt_tier",
                               format_func=lambda n: next(f"{n} ({_price(t['price_cents'])})" for t in tiers
                                                          if t["name"] == n))
        tier = next(t for t in tiers if t["name"] == chosen_tier)
    else:
        tier = tiers[0]
    price = _price(tier["price_cents"])
    label = "Get it for free" if not tier["price_cents"] else f"Buy for {price}"
    if st.button(label, type="primary", key="mkt_buy", disabled=user.role not in ("buyer", "admin")):
        st.session_state["mkt_confirm"] = listing_id
    if st.session_state.get("mkt_confirm") == listing_id:
        with st.container(border=True):
            st.markdown(f"**Confirm: {markdown_without_remote_images(listing['title'])}**, version "
                        f"{package['version']}, licence {tier['license']} (tier {tier['name']}), price {price}.")
            if tier["terms"]:
                st.markdown("Terms of this tier:\n\n" + markdown_without_remote_images(tier["terms"]))
            if tier["price_cents"] and stripe_enabled():
                st.caption("Payment is taken by Stripe Checkout on the next page; you come back here afterwards.")
            else:
                st.caption("No payment is taken: this workbench records the purchase in its internal ledger "
                           "(for internal use and demos). You can download the dataset right after confirming.")
            yes, no = st.columns(2)
            if yes.button("Confirm purchase", type="primary", key="mkt_confirm_buy"):
                try:
                    outcome = start_purchase(user, listing_id, tier=tier["name"])
                    st.session_state.pop("mkt_confirm", None)
                    if outcome["status"] == "redirect":
                        st.link_button("Continue to secure payment (Stripe)", outcome["url"], type="primary")
                    else:
                        st.rerun()
                except MARKET_ERRORS as exc:
                    st.error(str(exc))
            if no.button("Cancel", key="mkt_confirm_cancel"):
                st.session_state.pop("mkt_confirm", None)
                st.rerun()
    if user.role not in ("buyer", "admin"):
        st.caption("Buying needs a buyer account.")
else:
    st.success("You own this dataset.")
    paid_at = pd.Timestamp(owned["fulfilled_at"] or owned["created_at"]).strftime("%Y-%m-%d %H:%M UTC")
    amount = "free" if not owned["amount_cents"] else f"{owned['amount_cents'] / 100:.2f} {owned['currency'].upper()}"
    method = "Stripe (card payment)" if owned["provider"] == "stripe" else \
        "internal ledger: recorded here, no real payment was taken"
    bought = sale_tier(owned["id"])
    licence = f"{bought['license']} (tier {bought['tier_name']})" if bought else listing["license"]
    with st.expander(f"Receipt: sale #{owned['id']}"):
        st.markdown(f"- Dataset: {markdown_without_remote_images(listing['title'])}, version {package['version']}\n"
                    f"- Licence: {licence}\n- Amount: {amount}\n- Date: {paid_at}\n"
                    f"- Payment: {method}\n- Reference: `{owned['provider_ref']}`")
    if st.button("Prepare download", type="primary", key="mkt_prepare"):
        try:
            download = purchase_download(user, owned["id"])  # checked, recorded and audited in core
            st.session_state["mkt_archive"] = (listing_id, download["name"], download["version"],
                                               download["archive"], download["problems"])
        except MARKET_ERRORS as exc:
            st.error(str(exc))
    prepared = st.session_state.get("mkt_archive")
    if prepared and prepared[0] == listing_id:
        _, name, version, archive, problems = prepared
        if problems:
            st.error("The package failed its checksum check: " + "; ".join(problems))
        else:
            st.caption("Every file matches the sha256 in manifest.json. The zip carries the licence you bought "
                       "(LICENSE-PURCHASED.md and the dataset card).")
            st.download_button(f"Download {name}-{version}.zip ({len(archive) / 1e6:.1f} MB)", archive,
                               file_name=f"{name}-{version}.zip", mime="application/zip", key="mkt_download")
    with st.form("mkt_review_form"):
        st.markdown("**Review this dataset**")
        stars = st.slider("Rating", 1, 5, 5, key="mkt_stars")
        words = st.text_area("What was it like to use?", key="mkt_review_text")
        if st.form_submit_button("Post review"):
            try:
                add_review(user, listing_id, stars, words)
                st.session_state["mkt_review_posted"] = listing_id
                st.rerun()  # the rating and the Reviews tab above include it at once
            except MARKET_ERRORS as exc:
                st.error(str(exc))
    if st.session_state.pop("mkt_review_posted", None) == listing_id:
        st.success("Thanks, your review is posted.")
