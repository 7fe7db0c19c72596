import streamlit as st

from core import auth
from pages._ui import sign_in_as

st.title("DataBroker Workbench")
st.caption("Scrape and upload raw data, refine it into documented datasets, and sell them.")

if auth.demo_login_allowed(st.get_option("server.address")):
    st.subheader("Try the demo")
    st.caption("Demo accounts need no password. They are offered because this server only listens on this machine.")
    cols = st.columns(3)
    demo_buttons = (("admin", "Try the demo"), ("supplier", "Demo supplier"), ("buyer", "Demo buyer"))
    for col, (role, label) in zip(cols, demo_buttons, strict=True):
        if col.button(label, key=f"signin_demo_{role}", type="primary" if role == "admin" else "secondary",
                      width="stretch"):
            sign_in_as(auth.demo_principal(role))
            st.rerun()
    st.divider()

sign_in_tab, sign_up_tab = st.tabs(["Sign in", "Create an account"])
with sign_in_tab, st.form("signin_form"):
    email = st.text_input("Email")
    password = st.text_input("Password", type="password")
    if st.form_submit_button("Sign in", type="primary"):
        try:
            # Streamlit gives no address for localhost connections; "" then skips the per-address throttle.
            sign_in_as(auth.authenticate(email, password, address=st.context.ip_address or ""))
            st.rerun()
        except auth.AuthError as exc:
            st.error(str(exc))
with sign_up_tab, st.form("signup_form"):
    name = st.text_input("Display name")
    new_email = st.text_input("Email", key="signup_email")
    new_password = st.text_input(f"Password (at least {auth.MIN_PASSWORD_LENGTH} characters)", type="password",
                                 help="Not only spaces, not your email address, and at least "
                                      f"{auth.MIN_DISTINCT_CHARACTERS} different characters.")
    role = st.radio("I want to", ["supplier", "buyer"], horizontal=True,
                    format_func={"supplier": "supply and sell data", "buyer": "buy datasets"}.get)
    if st.form_submit_button("Create account", type="primary"):
        try:
            sign_in_as(auth.sign_up(new_email, new_password, name, role))
            st.rerun()
        except (auth.AuthError, auth.PermissionDenied) as exc:
            st.error(str(exc))
