"""Scheduled snapshots as jobs, portfolio greeks over open paper trades, strategies at chosen strikes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from principals import new_user

from core.apps.options import ledger, risk, schedule, snapshots, strategies
from core.apps.options.broker import SimulatorBroker
from core.apps.options.simulator import MarketSimulator
from core.apps.options.simulator_server import SimulatorServer
from core.auth import PermissionDenied
from core.store import jobs


@pytest.fixture(scope="module")
def market():
    server = SimulatorServer(MarketSimulator(seed=5))
    yield server
    server.close()


@pytest.fixture(autouse=True, scope="module")
def _no_scheduler_left_running():
    """The page starts the process's scheduler thread; stop it so it does not tick on other tests' stores."""
    yield
    from core.scheduler import stop_scheduler

    stop_scheduler()


def _mine(submitted: list[int], principal) -> list[int]:
    return [j for j in submitted if (jobs.get_job(principal, j) or {}).get("created_by") == principal.id]


def test_a_saved_schedule_submits_one_snapshot_job_per_due_run(workbench):
    owner = new_user("supplier")
    saved = schedule.save_schedule(owner, [" acme", "ZETA", "ACME"], 30)
    assert saved["symbols"] == ["ACME", "ZETA"] and saved["next_run_at"] is not None

    now = datetime.now(UTC) + timedelta(seconds=1)
    first = _mine(schedule.run_due(now), owner)
    assert len(first) == 1
    # Claimed: a second loop at the same moment (another process, a page rerun) submits nothing more.
    assert _mine(schedule.run_due(now), owner) == []
    job = jobs.wait_for(first[0], timeout_s=120)
    assert job["status"] == "succeeded", job["error"]
    assert job["progress"] == 1.0 and {s["symbol"] for s in job["result"]["snapshots"]} == {"ACME", "ZETA"}
    assert "contracts as of" in job["log"]

    current = schedule.get_schedule(owner)
    assert current["last_job"]["id"] == first[0]
    assert current["next_run_at"] == pytest.approx(now + timedelta(minutes=30), abs=timedelta(seconds=1))
    assert _mine(schedule.run_due(now + timedelta(minutes=29)), owner) == []
    later = _mine(schedule.run_due(now + timedelta(minutes=31)), owner)
    assert len(later) == 1
    jobs.wait_for(later[0], timeout_s=120)


def test_a_running_job_is_not_stacked_and_switching_off_stops_runs(workbench):
    owner = new_user("supplier")
    schedule.save_schedule(owner, ["GLOBX"], 1)
    job_id = schedule.run_now(owner)
    assert schedule.run_now(owner) == job_id or jobs.get_job(owner, job_id)["status"] == "succeeded"
    jobs.wait_for(job_id, timeout_s=120)
    schedule.save_schedule(owner, ["GLOBX"], 1, enabled=False)
    assert schedule.get_schedule(owner)["next_run_at"] is None
    assert _mine(schedule.run_due(datetime.now(UTC) + timedelta(days=1)), owner) == []


def test_schedules_are_per_user_and_checked(workbench):
    with pytest.raises(PermissionDenied):
        schedule.save_schedule(new_user("buyer"), ["ACME"], 10)
    with pytest.raises(ValueError, match="at least one underlying"):
        schedule.save_schedule(new_user("supplier"), [], 10)
    with pytest.raises(ValueError, match="interval"):
        schedule.save_schedule(new_user("supplier"), ["ACME"], 0)
    a, b = new_user("supplier"), new_user("supplier")
    schedule.save_schedule(a, ["ACME"], 10, enabled=False)
    assert schedule.get_schedule(b) is None


def test_a_schedule_whose_owner_lost_the_role_is_switched_off(workbench):
    from core.store.models import User
    from core.store.sql import session_scope

    owner = new_user("supplier")
    schedule.save_schedule(owner, ["ACME"], 5)
    with session_scope() as session:
        session.get(User, owner.id).role = "buyer"
    schedule.run_due(datetime.now(UTC) + timedelta(seconds=1))
    with session_scope() as session:
        from sqlmodel import select

        from core.store.models import OptionSchedule

        row = session.exec(select(OptionSchedule).where(OptionSchedule.owner_id == owner.id)).one()
        assert row.enabled is False and row.last_job_id is None


def test_the_scheduler_thread_is_started_once_per_process(workbench):
    from core.scheduler import start_scheduler

    first = start_scheduler(poll_seconds=3600)
    assert start_scheduler() is first and first.running


def test_portfolio_greeks_sum_open_trades_marked_at_the_latest_snapshot(workbench, market):
    broker = SimulatorBroker(market.base_url)
    owner, other = new_user("supplier"), new_user("supplier")
    snap = snapshots.take_snapshot(owner, broker, "ACME")
    chain = snapshots.snapshot_chain(snap["id"])
    expiry = sorted(chain["expiry"].unique())[3]
    straddle = strategies.build("long_straddle", chain, expiry, snap["underlying_price"])
    vertical = strategies.build("bull_call_vertical", chain, expiry, snap["underlying_price"], quantity=2)
    for name, legs in (("long_straddle", straddle), ("bull_call_vertical", vertical)):
        ledger.save_trade(owner, "ACME", name, legs, ["test"], snap, status=ledger.OPEN)
    rejected = ledger.save_trade(owner, "ACME", "long_straddle", straddle, ["test"], snap)
    ledger.decide(owner, rejected["id"], accept=False)

    broker.advance(2)
    latest = snapshots.take_snapshot(owner, broker, "ACME")
    book = ledger.portfolio_greeks(owner)
    assert book["open_trades"] == 2 and set(book["positions"]["marked_as_of"]) == {latest["as_of"]}
    latest_chain = snapshots.snapshot_chain(latest["id"])
    expected = {k: 0.0 for k in ledger.GREEKS}
    for legs in (straddle, vertical):
        marked = risk.legs_at_mark(legs, latest_chain, latest["as_of"])
        assert all(leg["days"] < orig["days"] for leg, orig in zip(marked, legs, strict=True))
        g = risk.position_greeks(marked, latest["underlying_price"], rate=latest["rate"],
                                 dividend_yield=latest["dividend_yield"])
        for k in expected:
            expected[k] += g[k]
    row = book["by_symbol"].iloc[0]
    for k, v in expected.items():
        assert row[k] == pytest.approx(v)
    assert book["totals"]["vega"] == pytest.approx(expected["vega"]) and expected["vega"] > 0
    assert book["totals"]["delta_value"] == pytest.approx(expected["delta"] * latest["underlying_price"])
    assert ledger.portfolio_greeks(other)["open_trades"] == 0
    with pytest.raises(PermissionDenied):
        ledger.portfolio_greeks(new_user("buyer"))


def test_strategies_at_strikes_the_user_chose(market):
    chain_json = market.simulator.option_chain("GLOBX")
    from core.apps.options.chains import standardized_chain

    chain = standardized_chain(chain_json)
    spot = chain_json["underlyingPrice"]
    expiry = sorted(chain["expiry"].unique())[2]
    listed = strategies.strikes_around(chain, expiry, "call")
    default = strategies.build("bear_call_credit", chain, expiry, spot)
    wide = strategies.build("bear_call_credit", chain, expiry, spot, strikes=[listed[-4], listed[-1]])
    assert [leg["strike"] for leg in wide] == [listed[-4], listed[-1]]
    assert [leg["quantity"] for leg in wide] == [leg["quantity"] for leg in default]
    assert risk.max_loss_and_gain(wide)["max_loss"] < risk.max_loss_and_gain(default)["max_loss"] < 0
    with pytest.raises(strategies.StrategyError, match="No call at strike"):
        strategies.build("bear_call_credit", chain, expiry, spot, strikes=[listed[0] + 0.01, listed[-1]])
    with pytest.raises(strategies.StrategyError, match="one strike per option leg"):
        strategies.build("iron_condor", chain, expiry, spot, strikes=[listed[0]])
    covered = strategies.build("covered_call", chain, expiry, spot, strikes=[listed[-2]])
    assert covered[0]["kind"] == "stock" and covered[1]["strike"] == listed[-2]

    # A calendar: different expiries per leg, picked one by one.
    near, far = sorted(chain["expiry"].unique())[1], sorted(chain["expiry"].unique())[4]
    atm = min(strategies.strikes_around(chain, near, "call"), key=lambda k: abs(k - spot))
    calendar = strategies.custom(chain, [{"kind": "call", "expiry": near, "strike": atm, "quantity": -1},
                                         {"kind": "call", "expiry": far, "strike": atm, "quantity": 1}], spot)
    assert [leg["expiry"] for leg in calendar] == [str(near), str(far)]
    assert strategies.entry_value(calendar) > 0  # the far month costs more than the near one pays
    assert np.isfinite(risk.value_at(calendar, np.array([spot]))).all()
    with pytest.raises(strategies.StrategyError, match="Leg 2"):
        strategies.custom(chain, [{"kind": "put", "expiry": near, "strike": atm, "quantity": 1},
                                  {"kind": "put", "expiry": near, "strike": atm, "quantity": 0}], spot)
