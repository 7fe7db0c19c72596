"""DataBroker Workbench: the Streamlit entry point (navigation frame only)."""

import streamlit as st

from pages._ui import bootstrap, current_user, sidebar

st.set_page_config(page_title="DataBroker Workbench", page_icon=":material/database:", layout="wide")
# .streamlit/config.toml starts with the sidebar navigation off (no flash of the raw pages/ list); the
# navigation built below is the one to show.
st.set_option("client.showSidebarNavigation", True)
bootstrap()
user = current_user()

if user is None:
    navigation = st.navigation([st.Page("pages/sign_in.py", title="Sign in", icon=":material/login:")])
elif user.role == "buyer":
    # Buyers see the marketplace and what they bought, nothing raw.
    navigation = st.navigation({
        "Sell": [st.Page("pages/marketplace.py", title="Marketplace", icon=":material/storefront:", default=True)],
        "Account": [st.Page("pages/account.py", title="Account", icon=":material/key:")],
    })
else:
    navigation = st.navigation({
        "Workbench": [
            st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        ],
        "Collect": [
            st.Page("pages/sources.py", title="Sources & Scraping", icon=":material/travel_explore:"),
            st.Page("pages/upload.py", title="Upload", icon=":material/upload:"),
            st.Page("pages/raw_explorer.py", title="Raw Explorer", icon=":material/manage_search:"),
        ],
        "Refine": [
            st.Page("pages/refine.py", title="Refine", icon=":material/tune:"),
            st.Page("pages/quality.py", title="Quality", icon=":material/insights:"),
        ],
        "Sell": [
            st.Page("pages/packages.py", title="Packages", icon=":material/inventory_2:"),
            st.Page("pages/marketplace.py", title="Marketplace", icon=":material/storefront:"),
        ],
        "Apps": [
            st.Page("pages/news.py", title="News", icon=":material/newspaper:"),
            st.Page("pages/listings_monitor.py", title="Marketplace monitor", icon=":material/notifications:"),
            st.Page("pages/property.py", title="Property", icon=":material/home_work:"),
            st.Page("pages/options.py", title="Options", icon=":material/candlestick_chart:"),
            st.Page("pages/listing_bot.py", title="Listing bot", icon=":material/edit_note:"),
        ],
        "ML": [
            st.Page("pages/ml_lab.py", title="ML Lab", icon=":material/model_training:"),
            st.Page("pages/monitoring.py", title="Monitoring", icon=":material/monitor_heart:"),
        ],
        "Admin": [
            st.Page("pages/privacy.py", title="Privacy (GDPR)", icon=":material/privacy_tip:"),
        ],
        "Account": [st.Page("pages/account.py", title="Account", icon=":material/key:")],
    }, expanded=True)  # every page in view: folding them behind "View N more" hid half the tools
# Drawn before the page: a page may st.stop() early, and the sidebar must still show who is signed in.
sidebar(user)
navigation.run()
