import pandas as pd
import streamlit as st

from core.api.keys import ApiKeyError, create_api_key, list_api_keys, revoke_api_key
from core.tenancy import NotFoundOrDenied
from pages._ui import require_page_user

st.title("Account")
user = require_page_user()  # every signed-in role: buyers automate downloads too
st.caption(f"Signed in as {user.display_name} ({user.email}), {user.role}.")

st.subheader("API keys")
st.caption("Keys let scripts use the REST API (`python -m core api`, OpenAPI at /openapi.json) as you, under the "
           "same permissions as this app. Send one in the X-API-Key header. Only a hash of each key is kept, so "
           "a key is shown once, when you create it.")

NEW_KEY = "account_new_key"  # the key just created: shown once, then dropped from the session
with st.form("account_create_key", clear_on_submit=True):
    name = st.text_input("Key name", placeholder="e.g. nightly sync", max_chars=100, key="account_key_name")
    if st.form_submit_button("Create API key", type="primary"):
        try:
            st.session_state[NEW_KEY] = create_api_key(user, name)
        except ApiKeyError as exc:
            st.error(str(exc))

created = st.session_state.pop(NEW_KEY, None)
if created:
    st.success(f"Key '{created['name']}' created. Copy it now: it will not be shown again.")
    st.code(created["key"], language=None)

keys = list_api_keys(user)
if not keys:
    st.info("You have no API keys yet.")
else:
    table = pd.DataFrame([{"id": k["id"], "name": k["name"], "key starts with": k["prefix"] + "…",
                           "created": k["created_at"], "last used": k["last_used_at"],
                           "status": "revoked" if k["revoked_at"] else "active"} for k in keys])
    st.dataframe(table, hide_index=True, width="stretch")
    active = {f"{k['name']} ({k['prefix']}…)": k["id"] for k in keys if not k["revoked_at"]}
    if active:
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        chosen = left.selectbox("Revoke a key", list(active), key="account_revoke_choice")
        if right.button("Revoke", key="account_revoke"):
            try:
                revoke_api_key(user, active[chosen])
            except NotFoundOrDenied as exc:
                st.error(str(exc))
            else:
                st.toast(f"Revoked {chosen}; calls with it now get 401.")
                st.rerun()
