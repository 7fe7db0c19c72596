"""The Account page's API keys: created keys are shown once and work against the API, revoking stops them,
signed-out visitors are refused, and nobody sees another user's keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest_helpers import assert_no_exception, button
from principals import new_user
from streamlit.testing.v1 import AppTest

from core.api.keys import create_api_key, principal_for_key

ROOT = Path(__file__).resolve().parent.parent


def _account_page(principal) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["auth_user"] = principal.as_dict()
    at.run()
    at.switch_page("pages/account.py")
    return at.run()


@pytest.mark.parametrize("role", ("buyer", "supplier"))
def test_create_shows_the_key_once_and_revoke_stops_it(workbench, role):
    user = new_user(role)
    at = _account_page(user)
    assert_no_exception(at)
    assert "You have no API keys yet." in [i.value for i in at.info]
    at.text_input(key="account_key_name").input("nightly sync")
    at = button(at, "Create API key").click().run()
    assert_no_exception(at)
    assert len(at.code) == 1
    key = at.code[0].value
    assert principal_for_key(key)[0].id == user.id
    assert "Copy it now" in at.success[0].value
    assert at.dataframe[0].value["status"].tolist() == ["active"]
    assert key not in at.dataframe[0].value.to_csv()

    at = at.run()  # any later run: the key is gone from the screen for good
    assert not at.code and "account_new_key" not in at.session_state

    at.selectbox(key="account_revoke_choice").select(at.selectbox(key="account_revoke_choice").options[0])
    at = button(at, "Revoke").click().run()
    assert_no_exception(at)
    assert principal_for_key(key) is None
    assert at.dataframe[0].value["status"].tolist() == ["revoked"]


def test_a_blank_key_name_is_refused_with_a_message(workbench):
    at = _account_page(new_user("supplier"))
    at.text_input(key="account_key_name").input("   ")
    at = button(at, "Create API key").click().run()
    assert_no_exception(at)
    assert "Name the key" in at.error[0].value and not at.code


def test_signed_out_visitors_are_refused(workbench):
    at = AppTest.from_file(str(ROOT / "pages" / "account.py"), default_timeout=60).run()
    assert "Sign in to use this page" in " ".join(w.value for w in at.warning)
    assert not at.dataframe and not at.button and not at.text_input


def test_another_users_keys_are_not_shown(workbench):
    owner, onlooker = new_user("supplier"), new_user("supplier")
    create_api_key(owner, "owner's secret sync")
    at = _account_page(onlooker)
    assert_no_exception(at)
    assert not at.dataframe and not at.selectbox
    assert "owner's secret sync" not in " ".join(str(e.value) for e in (*at.markdown, *at.caption, *at.info))
