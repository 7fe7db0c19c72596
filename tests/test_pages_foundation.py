from apptest_helpers import ROOT, assert_no_exception, button, page_app, text_input
from streamlit.testing.v1 import AppTest


def test_signed_out_visitor_sees_sign_in_and_can_create_an_account(workbench):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert_no_exception(at)
    assert at.title[0].value == "DataBroker Workbench"
    text_input(at, "Display name").input("Lee")
    text_input(at, "Email", 1).input("lee@example.org")
    text_input(at, "Password (at least 10 characters)").input("a long enough secret")
    button(at, "Create account").click().run()
    # AppTest stays on the sign-in page's address after st.rerun(); a browser lands on the default page.
    at.switch_page("pages/overview.py").run()
    assert_no_exception(at)
    assert at.session_state["auth_user"]["email"] == "lee@example.org"
    assert at.title[0].value == "Overview"


def test_wrong_password_shows_a_clear_error(workbench):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    text_input(at, "Email").input("nobody@example.org")
    text_input(at, "Password").input("whatever password")
    button(at, "Sign in").click().run()
    assert [e.value for e in at.error] == ["Email or password is wrong."]


def test_overview_shows_funnel_counts_jobs_and_store_health(workbench):
    at = page_app("overview.py")
    assert_no_exception(at)
    labels = [m.label for m in at.metric]
    assert labels == ["Raw documents", "Standardized items", "Validated (kept)", "Published packages", "Listed",
                      "Sold"]
    assert any("SQL store" in s.value for s in at.success)
    assert any("Raw store" in c.value for c in at.sidebar.caption)


def test_try_the_demo_signs_in_without_a_password_on_localhost(workbench):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    button(at, "Try the demo").click().run()
    at.switch_page("pages/overview.py").run()
    assert_no_exception(at)
    assert at.session_state["auth_user"]["role"] == "admin"
    assert at.title[0].value == "Overview"
