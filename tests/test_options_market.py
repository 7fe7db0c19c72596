"""Options market path: simulator over HTTP on 127.0.0.1, the Schwab adapter against a local fake,
snapshots into the raw store and SQL, the paper ledger marked to market, ownership."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
from principals import new_user

from core.apps.options import ledger, snapshots, strategies
from core.apps.options.broker import SchwabBroker, SimulatorBroker
from core.apps.options.chains import standardized_chain
from core.apps.options.simulator import MarketSimulator
from core.apps.options.simulator_server import SimulatorServer
from core.tenancy import NotFoundOrDenied


@pytest.fixture(scope="module")
def market():
    server = SimulatorServer(MarketSimulator(seed=11))
    yield server
    server.close()


def test_simulator_chain_round_trips_through_the_adapter(market):
    broker = SimulatorBroker(market.base_url)
    assert market.base_url.startswith("http://127.0.0.1:")
    chain = broker.option_chain("ACME")
    assert chain == market.simulator.option_chain("ACME")  # nothing lost or changed on the wire
    frame = standardized_chain(chain)
    assert set(frame["type"]) == {"call", "put"} and frame["expiry"].nunique() >= 5
    assert (frame["ask"] >= frame["bid"]).all() and (frame["open_interest"] > 0).all()
    solved = frame.dropna(subset=["implied_vol"])
    assert len(solved) > 0.8 * len(frame)
    # A smile: 30-day OTM puts far below spot are dearer in vol than the at-the-money strike.
    month = solved[solved["days"] == 30]
    atm = month.iloc[(month["strike"] - chain["underlyingPrice"]).abs().argsort().iloc[0]]["implied_vol"]
    wing = month[(month["type"] == "put")].sort_values("strike").iloc[0]["implied_vol"]
    assert wing > atm


class _LoopbackTransport(httpx.BaseTransport):
    """schwab-py always calls api.schwabapi.com; this sends its requests to the local fake instead."""

    def __init__(self, base_url: str):
        self.base = httpx.URL(base_url)
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme=self.base.scheme, host=self.base.host, port=self.base.port)
        return self.inner.handle_request(request)


def test_schwab_adapter_speaks_to_a_local_fake_server(market):
    from schwab.client import Client

    client = Client("test-key", httpx.Client(transport=_LoopbackTransport(market.base_url)))
    broker = SchwabBroker(client, symbols=["GLOBX"])
    chain = broker.option_chain("GLOBX")
    assert chain["symbol"] == "GLOBX" and chain["callExpDateMap"]


def test_snapshot_stores_raw_and_sql_and_ledger_marks_to_market(workbench, raw_store, market):
    broker = SimulatorBroker(market.base_url)
    owner, other = new_user("supplier"), new_user("supplier")
    first = snapshots.take_snapshot(owner, broker, "ZETA")
    assert raw_store.get("options", first["raw_id"])["metadata"]["symbol"] == "ZETA"
    chain = snapshots.snapshot_chain(first["id"])
    assert len(chain) == first["contracts"] and chain["implied_vol"].notna().any()

    expiry = sorted(chain["expiry"].unique())[2]
    legs = strategies.build("iron_condor", chain, expiry, first["underlying_price"])
    trade = ledger.save_trade(owner, "ZETA", "iron_condor", legs, ["test"], first, status=ledger.PROPOSED)
    assert trade["risk"]["max_loss"] < 0 and trade["risk"]["max_gain"] > 0
    with pytest.raises(NotFoundOrDenied):
        ledger.decide(other, trade["id"], accept=True)
    assert ledger.decide(owner, trade["id"], accept=True)["status"] == ledger.OPEN
    assert trade["id"] not in [t["id"] for t in ledger.trades(other)]
    with pytest.raises(NotFoundOrDenied):
        ledger.marks(other, trade["id"])

    broker.advance(3)
    second = snapshots.take_snapshot(owner, broker, "ZETA")
    assert second["marked_trades"] >= 1
    marked = [t for t in ledger.trades(owner) if t["id"] == trade["id"]][0]
    expected = ledger.leg_marks(legs, snapshots.snapshot_chain(second["id"]), second["underlying_price"],
                                __import__("datetime").date.fromisoformat(second["as_of"]))
    assert marked["last_value"] == pytest.approx(expected)
    assert marked["unrealized_pnl"] == pytest.approx(expected - trade["entry_value"])
    assert [m["snapshot_id"] for m in ledger.marks(owner, trade["id"])] == [second["id"]]

    third = snapshots.take_snapshot(owner, broker, "ZETA")
    result = ledger.backtest(owner, "ZETA", hold_days=2)
    # Snapshots are shared market data: other tests in this session may have taken ZETA chains too.
    assert len(result["equity"]) >= 3 and np.isfinite(result["equity"]["pnl"]).all()
    assert third["id"] > second["id"]


def test_a_buyer_cannot_snapshot_or_trade(workbench, market):
    from core.auth import PermissionDenied

    buyer = new_user("buyer")
    with pytest.raises(PermissionDenied):
        snapshots.take_snapshot(buyer, SimulatorBroker(market.base_url), "ACME")
    with pytest.raises(PermissionDenied):
        ledger.trades(buyer)


def test_a_snapshot_identical_to_a_stored_one_links_to_that_raw_document(workbench, raw_store, market):
    broker = SimulatorBroker(market.base_url)
    first = snapshots.take_snapshot(new_user("supplier"), broker, "GLOBX")
    second = snapshots.take_snapshot(new_user("supplier"), broker, "GLOBX")  # often the very same chain
    for snapshot in (first, second):
        assert raw_store.get("options", snapshot["raw_id"])["metadata"]["symbol"] == "GLOBX"
