"""Options numeric core: BSM identities, greeks, implied volatility and its reasons, the CSV command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pytest

from core.apps.options import bsm, iv

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _random_options(n=20_000, seed=3):
    rng = np.random.default_rng(seed)
    spot = rng.uniform(20, 400, n)
    return dict(spot=spot, strike=spot / rng.uniform(0.5, 2.0, n), t=rng.integers(1, 731, n) / 365,
                r=rng.uniform(-0.01, 0.08, n), q=rng.uniform(0, 0.05, n), vol=rng.uniform(0.08, 1.2, n))


def test_put_call_parity():
    o = _random_options()
    call = bsm.price(True, o["spot"], o["strike"], o["t"], o["r"], o["q"], o["vol"])
    put = bsm.price(False, o["spot"], o["strike"], o["t"], o["r"], o["q"], o["vol"])
    parity = o["spot"] * np.exp(-o["q"] * o["t"]) - o["strike"] * np.exp(-o["r"] * o["t"])
    np.testing.assert_allclose(call - put, parity, atol=1e-10 * o["spot"].max())


@pytest.mark.parametrize("is_call", [True, False])
def test_greeks_match_finite_differences(is_call):
    o = _random_options(2_000)
    args = (o["spot"], o["strike"], o["t"], o["r"], o["q"], o["vol"])
    g = bsm.greeks(is_call, *args)

    def bump(index, h):
        up, down = list(args), list(args)
        up[index] = up[index] + h
        down[index] = down[index] - h
        return (bsm.price(is_call, *up) - bsm.price(is_call, *down)) / (2 * h)

    h_spot = 1e-5 * o["spot"]
    delta_fd = bump(0, h_spot)
    # Gamma from the analytic delta: a second difference of prices would lose half the digits.
    gamma_fd = (bsm.greeks(is_call, o["spot"] + h_spot, *args[1:])["delta"]
                - bsm.greeks(is_call, o["spot"] - h_spot, *args[1:])["delta"]) / (2 * h_spot)
    np.testing.assert_allclose(g["delta"], delta_fd, atol=1e-6, rtol=1e-5)
    np.testing.assert_allclose(g["gamma"], gamma_fd, atol=1e-7, rtol=1e-5)
    np.testing.assert_allclose(g["vega"], bump(5, 1e-6) / 100, atol=1e-6)  # per vol point
    np.testing.assert_allclose(g["rho"], bump(3, 1e-6) / 100, atol=1e-6)  # per rate point
    theta_fd = -bump(2, np.minimum(1e-6, o["t"] / 10)) / 365  # value change as a calendar day passes
    np.testing.assert_allclose(g["theta"], theta_fd, atol=1e-6)


def test_implied_vol_round_trips_across_the_domain():
    o = _random_options(50_000)
    is_call = np.random.default_rng(9).random(50_000) < 0.5
    price = bsm.price(is_call, o["spot"], o["strike"], o["t"], o["r"], o["q"], o["vol"])
    vol, reason = iv.implied_vol(is_call, o["spot"], o["strike"], o["t"], o["r"], o["q"], price)
    solved = reason == iv.OK
    assert solved.mean() > 0.97
    assert np.abs(vol[solved] - o["vol"][solved]).max() < 1e-6
    # Every unsolved row says why, and carries no number.
    assert set(np.unique(reason[~solved])) <= {iv.AT_INTRINSIC, iv.INSENSITIVE}
    assert np.isnan(vol[~solved]).all()


def test_one_day_and_deep_wings_solve():
    spot, strike = np.array([100.0, 100.0, 100.0]), np.array([100.0, 85.0, 120.0])
    t, vol = np.full(3, 1 / 365), np.array([0.2, 1.1, 1.1])
    is_call = np.array([True, False, True])
    price = bsm.price(is_call, spot, strike, t, 0.03, 0.01, vol)
    got, reason = iv.implied_vol(is_call, spot, strike, t, 0.03, 0.01, price)
    assert (reason == iv.OK).all()
    np.testing.assert_allclose(got, vol, atol=1e-9)


def test_prices_outside_the_bounds_get_reasons_not_numbers():
    spot, strike, t, r, q = 100.0, 80.0, 0.5, 0.02, 0.0
    lower, upper = bsm.no_arbitrage_bounds(True, spot, strike, t, r, q)
    prices = np.array([lower - 0.5, lower, upper, upper + 1, np.nan, -1.0])
    vol, reason = iv.implied_vol(np.ones(6, bool), spot, strike, t, r, q, prices)
    assert np.isnan(vol).all()
    assert reason.tolist() == [iv.BELOW_INTRINSIC, iv.AT_INTRINSIC, iv.ABOVE_UPPER, iv.ABOVE_UPPER, iv.BAD_PRICE,
                               iv.BELOW_INTRINSIC]
    assert all(iv.reason_text(reason))
    put_vol, put_reason = iv.implied_vol(False, spot, strike, t, r, q, strike * np.exp(-r * t) + 0.01)
    assert put_reason[0] == iv.ABOVE_UPPER and np.isnan(put_vol[0])


def test_cli_writes_trader_units_and_reasons(tmp_path):
    rows = [("a", "call", 100, 105, 0.25, 0.03, 0.01, None), ("b", "PUT", 100, 95, 1 / 365, 0.03, 0.0, None),
            ("c", "call", 100, 80, 0.5, 0.02, 0.0, 1.0), ("d", "straddle", 100, 100, 0.5, 0.02, 0.0, 5.0),
            ("e", "put", -5, 100, 0.5, 0.02, 0.0, 5.0), ("f", "call", 100, 100, 0.5, 0.02, 0.0, "n/a")]
    vols = {"a": 0.25, "b": 0.6}
    lines = ["id,type,spot,strike,expiry_years,rate,dividend_yield,price"]
    for id_, kind, s, k, t, r, q, p in rows:
        if p is None:
            p = float(bsm.price(kind.lower() == "call", s, k, t, r, q, vols[id_]))
        lines.append(f"{id_},{kind},{s},{k},{t!r},{r},{q},{p!r}" if not isinstance(p, str)
                     else f"{id_},{kind},{s},{k},{t!r},{r},{q},{p}")
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("\n".join(lines) + "\n")
    done = subprocess.run([sys.executable, "-m", "core", "options", "greeks", str(src), "--out", str(out)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    table = pacsv.read_csv(out).to_pylist()
    assert [r["id"] for r in table] == ["a", "b", "c", "d", "e", "f"]
    assert list(table[0]) == ["id", "implied_vol", "delta", "gamma", "vega", "theta", "rho", "reason"]
    a = table[0]
    g = bsm.greeks(True, 100, 105, 0.25, 0.03, 0.01, 0.25)
    assert abs(a["implied_vol"] - 0.25) < 1e-10 and not a["reason"]
    for name in ("delta", "gamma", "vega", "theta", "rho"):
        assert abs(a[name] - float(g[name])) < 1e-10
    assert abs(table[1]["implied_vol"] - 0.6) < 1e-8
    for row in table[2:]:
        assert row["implied_vol"] is None and row["delta"] is None and row["reason"]
    assert "below" in table[2]["reason"] and "call or put" in table[3]["reason"]
    assert "positive" in table[4]["reason"] and "price" in table[5]["reason"]


def test_cli_missing_columns_is_a_clear_error(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,type,spot\n1,call,100\n")
    done = subprocess.run([sys.executable, "-m", "core", "options", "greeks", str(src), "--out", str(tmp_path / "o")],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "lacks column" in done.stderr and "Traceback" not in done.stderr
