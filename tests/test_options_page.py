"""The Options page under AppTest: snapshot, chain with IV, strategy risk, a paper trade in the ledger."""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest_helpers import assert_no_exception, button
from principals import new_user
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "options.py")


@pytest.fixture(autouse=True, scope="module")
def _no_scheduler_left_running():
    """The page starts the process's scheduler thread; stop it so it does not tick on other tests' stores."""
    yield
    from core.scheduler import stop_scheduler

    stop_scheduler()


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
    # Free strike choice: move the short call of the default bull call vertical to the top listed strike.
    short_strike = next(s for s in at.selectbox if s.label == "short call strike")
    short_strike.set_value(float(short_strike.options[-1])).run()
    assert_no_exception(at)
    legs = next(df.value for df in at.dataframe if "fill price" in df.value.columns)
    assert legs["strike"].iloc[1] == float(short_strike.options[-1])
    button(at, "Paper trade this").click()
    at.run()
    assert_no_exception(at)
    assert any("opened" in s.value for s in at.success)
    ledger_table = next(df.value for df in at.dataframe if "status" in df.value.columns)
    assert (ledger_table["status"] == "open").any()
    assert any(m.label == "Vega (per vol point)" for m in at.metric)  # portfolio greeks of the open trade


def test_options_page_saves_a_schedule_and_shows_its_job(workbench):
    at = _page(new_user("supplier"))
    next(m for m in at.multiselect if m.label == "Underlyings to snapshot").set_value(["ACME", "ZETA"])
    next(n for n in at.number_input if n.label == "Every (minutes)").set_value(15)
    button(at, "Save schedule").click()
    at.run()
    assert_no_exception(at)
    assert any("Schedule saved" in s.value for s in at.success)
    assert any(m.label == "Next snapshot" for m in at.metric)
    button(at, "Run now").click()
    at.run()
    assert_no_exception(at)
    assert any(m.label == "Schedule" and "ACME, ZETA" in m.value for m in at.metric)


def test_options_page_refuses_a_buyer(workbench):
    at = _page(new_user("buyer"))
    assert_no_exception(at)
    assert any("for a supplier or admin" in w.value for w in at.warning)
