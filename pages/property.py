import pandas as pd
import streamlit as st

from core.apps.listings.property.charts import cash_flow_chart, irr_heatmap, valuation_chart
from core.apps.listings.property.scenario import (
    ScenarioError,
    ScenarioInputs,
    irr_grid,
    scenario_figures,
    sensitivity_axes,
)
from core.apps.listings.property.service import (
    FLAGS,
    SORTS,
    rent_suggestion,
    valuation_detail,
    valuation_runs,
    valued_listings,
)
from core.apps.listings.property.valuation import valuation_models
from core.auth import PermissionDenied
from core.store import jobs
from core.tenancy import visible_datasets
from pages._ui import require_page_user, show_job

st.title("Property")
st.caption("Valuations of property listings from an ML Lab model (estimate, calibrated interval, comparables) "
           "and investment scenarios.")

user = require_page_user("supplier", "admin")
datasets = visible_datasets(user)
models = valuation_models(user)
# Job panels above the tabs: a training or valuation stays in view whichever tab is open.
for job_key in ("property_train_job", "property_value_job"):
    if st.session_state.get(job_key):
        show_job(st.session_state[job_key], job_key)
tab_listings, tab_models, tab_scenario = st.tabs(["Valued listings", "Valuation models", "Investment scenario"])

with tab_models:
    if models:
        st.dataframe(pd.DataFrame(models)[["model_name", "model_version", "kind", "source", "training_rows",
                                           "interval_level", "coverage", "mape", "mae", "created_at"]],
                     hide_index=True, width="stretch",
                     column_config={"model_name": "model", "model_version": "version", "training_rows": "rows",
                                    "interval_level": "interval", "mae": "held-out MAE", "created_at": "trained",
                                    "coverage": st.column_config.NumberColumn(
                         "held-out coverage", help="Share of held-out sales inside their interval", format="%.2f"),
                         "mape": st.column_config.NumberColumn("held-out MAPE %", format="%.1f")})
    else:
        st.info("No valuation model yet: train one below on scraped listings or uploaded sales.")
    st.subheader("Train a valuation model")
    if not datasets:
        st.info("No datasets yet. Scrape the demo property site on **Sources & Scraping** or upload sales first.")
    else:
        with st.form("property_train_form"):
            names = [d["name"] for d in datasets]
            default = names.index("demo-property") if "demo-property" in names else 0
            source = st.selectbox("Train on dataset", names, index=default, key="property_train_dataset")
            target = st.text_input("Price column", key="property_train_target",
                                   help="Empty: price for scraped listings, SalePrice for the Ames sales.")
            model_name = st.text_input("Model name", value="property-value", key="property_train_name")
            level = st.slider("Interval level", 0.5, 0.95, 0.8, 0.05, key="property_train_level")
            budget = st.number_input("Time budget (seconds)", 5, 3600, 60, key="property_train_budget")
            if st.form_submit_button("Train valuation model"):
                try:
                    st.session_state["property_train_job"] = jobs.submit(
                        "property_train", {"source": f"dataset:{source}", "name": model_name.strip(),
                                           "target": target.strip() or None, "level": level,
                                           "time_budget_s": float(budget)}, user)
                    st.rerun()  # to draw the job panel above the tabs
                except PermissionDenied as exc:
                    st.error(str(exc))

with tab_listings:
    if not datasets:
        st.info("No datasets yet. Scrape the demo property site on **Sources & Scraping** first.")
    else:
        names = [d["name"] for d in datasets]
        default = names.index("demo-property") if "demo-property" in names else 0
        dataset = st.selectbox("Listings dataset", names, index=default, key="property_dataset")
        with st.expander("Value these listings", expanded=not valuation_runs(user, dataset)):
            if not models:
                st.info("Train a valuation model first (tab **Valuation models**).")
            else:
                labels = {i: f"{m['model_name']} v{m['model_version']} ({m['kind']}, {m['training_rows']} sales)"
                          for i, m in enumerate(models)}
                chosen = st.selectbox("Model", list(labels), format_func=labels.get, key="property_value_model")
                if st.button("Value listings", key="property_value"):
                    model = models[chosen]
                    try:
                        st.session_state["property_value_job"] = jobs.submit(
                            "property_value", {"dataset": dataset, "model": model["model_name"],
                                               "version": model["model_version"]}, user)
                        st.rerun()  # to draw the job panel above the tabs
                    except PermissionDenied as exc:
                        st.error(str(exc))
        runs = valuation_runs(user, dataset)
        if not runs:
            st.info("No valuations of this dataset yet: press **Value listings** above.")
        else:
            run_labels = {i: f"{r['model']} v{r['version']}: {r['listings']} listings ({r['valued_at']:%Y-%m-%d %H:%M})"
                          for i, r in enumerate(runs)}
            run = runs[st.selectbox("Valuation", list(run_labels), format_func=run_labels.get, key="property_run")]
            every = valued_listings(user, dataset, run["model"], run["version"])
            c1, c2, c3, c4, c5 = st.columns([2, 2, 1, 1, 2])
            flags = c1.multiselect("Flag", list(FLAGS), key="property_f_flag",
                                   help="under / over: the listed price is below / above the estimate's interval")
            cities = c2.multiselect("City", sorted(every["city"].dropna().unique()), key="property_f_city")
            min_estimate = c3.number_input("Min estimate", min_value=0.0, value=None, key="property_f_min")
            max_estimate = c4.number_input("Max estimate", min_value=0.0, value=None, key="property_f_max")
            sort = c5.selectbox("Sort by", list(SORTS), key="property_sort")
            shown = valued_listings(user, dataset, run["model"], run["version"], flags=flags, cities=cities,
                                    min_estimate=min_estimate, max_estimate=max_estimate, sort=sort)
            st.caption(f"{len(shown)} of {len(every)} listings")
            if shown.empty:
                st.info("No listing matches these filters.")
            else:
                st.dataframe(
                    shown[["id", "title", "city", "offer", "area_m2", "listed_price", "estimate", "low", "high",
                           "diff_pct", "flag", "reason"]],
                    hide_index=True, width="stretch",
                    column_config={"area_m2": st.column_config.NumberColumn("area (m²)", format="%.0f"),
                                   "listed_price": st.column_config.NumberColumn("listed", format="%.0f"),
                                   "estimate": st.column_config.NumberColumn(format="%.0f"),
                                   "low": st.column_config.NumberColumn(format="%.0f"),
                                   "high": st.column_config.NumberColumn(format="%.0f"),
                                   "diff_pct": st.column_config.NumberColumn("listed vs estimate %", format="%+.1f")})
                st.plotly_chart(valuation_chart(shown.to_dict("records")), key="property_valuation_chart")
                titles = dict(zip(shown["id"], shown["title"].fillna("(untitled)"), strict=True))
                opened = st.selectbox("Open listing", list(titles), format_func=lambda i: f"{titles[i]} (#{i})",
                                      key="property_open")
                try:
                    detail = valuation_detail(user, int(opened))
                except PermissionDenied as exc:
                    st.error(str(exc))
                    st.stop()
                st.session_state["property_listing"] = {k: detail[k] for k in ("listed_price", "city", "area_m2",
                                                                              "title", "offer")}
                if st.session_state.get("property_scenario_for") != detail["id"]:
                    # Another listing opened: its price and rent replace the scenario's, the other inputs stay.
                    st.session_state["property_scenario_for"] = detail["id"]
                    for key in ("property_s_price", "property_s_rent", "property_s_costs"):
                        st.session_state.pop(key, None)
                if detail["estimate"] is None:
                    st.info(f"Not valued: {detail['reason'] or 'no estimate'}.")
                else:
                    level = detail.get("interval_level") or 0.8
                    m1, m2, m3, m4 = st.columns(4)
                    m1.metric("Listed price", f"{detail['listed_price'] or 0:,.0f} {detail['currency'] or ''}")
                    m2.metric("Estimate", f"{detail['estimate']:,.0f}")
                    m3.metric(f"{level:.0%} interval", f"{detail['low']:,.0f} – {detail['high']:,.0f}")
                    m4.metric("Flag", detail["flag"], f"{detail['diff_pct']:+.1f}%" if detail["diff_pct"] is not None
                              else None, delta_color="inverse")
                    st.markdown("**Comparables** (nearest sales the model was trained on; distance = typical "
                                "difference per feature)")
                    comps = [{"price": c["price"], "distance": c["distance"], **c["features"],
                              "title": c.get("title")} for c in detail["comparables"]]
                    st.dataframe(pd.DataFrame(comps), hide_index=True, width="stretch")

with tab_scenario:
    listing = st.session_state.get("property_listing") or {}
    default_price = float(listing.get("listed_price") or 300000.0) if listing.get("offer") != "rent" else 300000.0
    suggestion = None
    if listing and st.session_state.get("property_dataset"):
        suggestion = rent_suggestion(user, st.session_state["property_dataset"], listing.get("city"),
                                     listing.get("area_m2"))
    if listing:
        st.caption(f"For: {listing.get('title') or 'the opened listing'}"
                   + (f" · suggested rent {suggestion['rent']:,.0f}/month from {suggestion['listings']} rent "
                      f"listings ({suggestion['scope']}, {suggestion['per_m2']:.2f}/m²)" if suggestion else ""))
    default_rent = float(suggestion["rent"]) if suggestion else round(default_price * 0.005, -1)
    with st.form("property_scenario_form"):
        c1, c2, c3, c4 = st.columns(4)
        price = c1.number_input("Price", min_value=1.0, value=default_price, step=1000.0, key="property_s_price")
        down_pct = c2.number_input("Down payment %", 0.0, 100.0, 20.0, key="property_s_down")
        rate = c3.number_input("Mortgage rate %", 0.0, 30.0, 6.0, step=0.25, key="property_s_rate")
        years = c4.number_input("Term (years)", 1, 50, 30, key="property_s_years")
        rent = c1.number_input("Monthly rent", 0.0, value=default_rent, step=50.0, key="property_s_rent")
        vacancy = c2.number_input("Vacancy %", 0.0, 100.0, 5.0, key="property_s_vacancy")
        costs = c3.number_input("Monthly costs", 0.0, value=round(default_rent * 0.2, -1), step=10.0,
                                key="property_s_costs")
        appreciation = c4.number_input("Appreciation %/yr", -20.0, 30.0, 2.0, key="property_s_appreciation")
        hold = c1.number_input("Hold (years)", 1, 50, 10, key="property_s_hold")
        discount = c2.number_input("Discount rate %", -20.0, 50.0, 8.0, key="property_s_discount")
        buy_costs = c3.number_input("Buying costs %", 0.0, 50.0, 0.0, key="property_s_buy")
        sell_costs = c4.number_input("Selling costs %", 0.0, 50.0, 0.0, key="property_s_sell")
        st.form_submit_button("Compute scenario")
    try:
        inputs = ScenarioInputs(price=price, down_pct=down_pct, rate=rate, years=int(years), rent=rent,
                                vacancy=vacancy, costs=costs, appreciation=appreciation, hold=int(hold),
                                discount=discount, buy_costs_pct=buy_costs, sell_costs_pct=sell_costs)
        figures = scenario_figures(inputs)
    except ScenarioError as exc:
        st.error(f"{exc} Correct it and compute again.")
        st.stop()
    m = st.columns(4)
    m[0].metric("Monthly payment", f"{figures['monthly_payment']:,.2f}")
    m[1].metric("Monthly cash flow", f"{figures['monthly_cash_flow']:,.2f}")
    m[2].metric("Cap rate", f"{figures['cap_rate_pct']:.2f}%")
    m[3].metric("Cash-on-cash", "-" if figures["cash_on_cash_pct"] is None else f"{figures['cash_on_cash_pct']:.2f}%")
    n = st.columns(4)
    n[0].metric("IRR", "-" if figures["irr_pct"] is None else f"{figures['irr_pct']:.2f}%")
    n[1].metric(f"NPV at {discount:g}%", f"{figures['npv']:,.0f}")
    n[2].metric("Cash invested", f"{figures['cash_invested']:,.0f}")
    n[3].metric("Loan left at sale", f"{figures['loan_balance_at_sale']:,.0f}")
    rates, rents = sensitivity_axes(inputs)
    left, right = st.columns([3, 2])
    left.plotly_chart(irr_heatmap(irr_grid(inputs, rates, rents), current_rate=rate, current_rent=rent),
                      key="property_irr_heatmap")
    right.plotly_chart(cash_flow_chart(figures), key="property_cash_flows")
