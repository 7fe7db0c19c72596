"""The Options page under AppTest: snapshot, chain with IV, strategy risk, a paper trade in the ledger."""

from __future__ import annotations

from pathlib import Path

from apptest_helpers import assert_no_exception, button
from principals import new_user
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "options.py")


def _page(principal) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["auth_user"] = principal.as_dict()
    at.run()
    return at


def test_options_page_snapshot_chain_strategy_and_paper_trade(workbench):
    supplier = new_user("supplier")
    at = _page(supplier)
    assert_no_exception(at)
    button(at, "Take snapshot").click()
    at.run()
    assert_no_exception(at)
    chain_tables = [df.value for df in at.dataframe]
    assert "implied_vol" in chain_tables[0].columns and chain_tables[0]["implied_vol"].notna().any()
    assert any(m.label == "Max loss" for m in at.metric)
    button(at, "Paper trade this").click()
    at.run()
    assert_no_exception(at)
    assert any("opened" in s.value for s in at.success)
    ledger_table = at.dataframe[-1].value
    assert (ledger_table["status"] == "open").any()


def test_options_page_refuses_a_buyer(workbench):
    at = _page(new_user("buyer"))
    assert_no_exception(at)
    assert any("for a supplier or admin" in w.value for w in at.warning)
