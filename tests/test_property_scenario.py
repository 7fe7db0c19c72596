"""Investment scenarios: the maths against independent worked examples, bad input, the CLI and the charts."""

import json
import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT

from core.apps.listings.property.charts import cash_flow_chart, irr_heatmap
from core.apps.listings.property.scenario import (
    ScenarioError,
    ScenarioInputs,
    amortisation_table,
    irr_grid,
    monthly_payment,
    scenario_figures,
    sensitivity_axes,
    yearly_cash_flows,
)


def test_mortgage_matches_a_bank_amortisation_schedule():
    # The usual published schedule for a 300,000 loan at 6 % over 30 years: 1,798.65 a month; year 1 pays
    # 17,899.78 interest and 3,684.04 principal, leaving 296,315.96; 347,514.57 interest over the whole loan.
    assert monthly_payment(300_000, 6, 30) == pytest.approx(1798.65, abs=0.005)
    table = amortisation_table(300_000, 6, 30)
    assert table[0] == {"year": 1, "payments": 21583.82, "interest": 17899.78, "principal": 3684.04,
                        "balance": 296315.96}
    assert table[-1]["balance"] == 0.0
    assert sum(row["interest"] for row in table) == pytest.approx(347_514.57, abs=0.5)
    assert monthly_payment(120_000, 0, 10) == pytest.approx(1000.0)  # no interest: equal parts


def test_irr_and_npv_match_textbook_examples():
    # Wikipedia, "Internal rate of return": -123,400 then 36,200, 54,800, 48,100 has an IRR of 5.96 %.
    flows = [-123_400, 36_200, 54_800, 48_100]
    import numpy_financial as npf

    assert npf.irr(flows) == pytest.approx(0.0596, abs=5e-5)
    # An all-cash purchase held one year: pay 100,000, collect 12 x 1,000 rent, sell for 100,000 -> IRR 12 %,
    # and the NPV at 10 % is -100,000 + 112,000 / 1.1 = 1,818.18.
    inputs = ScenarioInputs(price=100_000, down_pct=100, rate=5, years=30, rent=1000, vacancy=0, costs=0,
                            appreciation=0, hold=1, discount=10)
    result = scenario_figures(inputs)
    assert result["cash_flows"] == [-100_000, 112_000]
    assert result["irr_pct"] == pytest.approx(12.0, abs=1e-6)
    assert result["npv"] == pytest.approx(1818.18, abs=0.01)
    assert result["monthly_payment"] == 0 and result["cap_rate_pct"] == pytest.approx(12.0)


def test_scenario_figures_hang_together():
    inputs = ScenarioInputs(price=300_000, down_pct=20, rate=6, years=30, rent=2200, vacancy=5, costs=400,
                            appreciation=2, hold=10, discount=8, buy_costs_pct=3, sell_costs_pct=5)
    result = scenario_figures(inputs)
    assert result["loan"] == 240_000 and result["cash_invested"] == 60_000 + 9_000
    assert result["monthly_payment"] == pytest.approx(monthly_payment(240_000, 6, 30), abs=0.01)
    noi = 12 * (2200 * 0.95 - 400)
    assert result["cap_rate_pct"] == pytest.approx(100 * noi / 300_000, abs=1e-3)
    assert result["annual_cash_flow"] == pytest.approx(noi - 12 * result["monthly_payment"], abs=0.05)
    assert result["cash_on_cash_pct"] == pytest.approx(100 * result["annual_cash_flow"] / 69_000, abs=1e-3)
    flows = yearly_cash_flows(inputs)
    sale = 300_000 * 1.02 ** 10 * 0.95 - result["loan_balance_at_sale"]
    assert flows[-1] == pytest.approx(result["annual_cash_flow"] + sale, abs=0.1)
    import numpy_financial as npf

    assert 100 * npf.irr(flows) == pytest.approx(result["irr_pct"], abs=1e-3)
    assert npf.npv(npf.irr(flows), flows) == pytest.approx(0, abs=1e-4)  # the IRR zeroes the NPV


def test_a_term_shorter_than_the_hold_stops_payments_and_bad_input_is_named():
    short = scenario_figures(ScenarioInputs(price=100_000, down_pct=50, rate=4, years=2, rent=800, hold=4))
    assert short["loan_balance_at_sale"] == 0
    assert short["cash_flows"][3] > short["cash_flows"][1]  # years 3-4 carry no mortgage payments
    for bad, field in (({"price": -5}, "price"), ({"down_pct": 120}, "down_pct"), ({"years": 2.5}, "years"),
                       ({"rate": float("nan")}, "rate"), ({"rent": "lots"}, "rent")):
        with pytest.raises(ScenarioError, match=field):
            scenario_figures(ScenarioInputs(**{"price": 100_000, **bad}))
    losing = scenario_figures(ScenarioInputs(price=100_000, rent=0, costs=500, appreciation=-10, hold=5))
    assert losing["irr_pct"] is None  # the flows never turn positive: no IRR rather than a made-up number


def test_irr_grid_and_heatmap():
    inputs = ScenarioInputs(price=300_000, rent=2200, costs=400)
    rates, rents = sensitivity_axes(inputs, steps=5)
    assert rates[0] == 4.0 and rates[-1] == 8.0 and rents[0] == pytest.approx(1760) and rents[-1] == 2640
    grid = irr_grid(inputs, rates, rents)
    assert len(grid["irr_pct"]) == 5 and len(grid["irr_pct"][0]) == 5
    middle = grid["irr_pct"][2][2]
    assert middle == pytest.approx(scenario_figures(inputs)["irr_pct"], abs=1e-3)
    assert grid["irr_pct"][4][0] > middle > grid["irr_pct"][0][4]  # more rent, cheaper money: higher IRR
    figure = irr_heatmap(grid, current_rate=6, current_rent=2200)
    assert figure.data[0].type == "heatmap" and list(figure.data[0].z[2]) == grid["irr_pct"][2]
    assert cash_flow_chart(scenario_figures(inputs)).data[0].type == "bar"


def test_cli_prints_the_scenario_as_json_and_refuses_bad_input():
    command = [sys.executable, "-m", "core", "property", "scenario", "--price", "300000", "--down-pct", "20",
               "--rate", "6", "--years", "30", "--rent", "2200", "--costs", "400", "--json"]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["monthly_payment"] == pytest.approx(1438.92, abs=0.01)  # 240,000 at 6 % over 30 years
    assert figures["irr_pct"] == scenario_figures(ScenarioInputs(price=300000, rent=2200, costs=400))["irr_pct"]
    bad = subprocess.run(command[:-1] + ["--vacancy", "150"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and "vacancy must be between 0.0 and 100.0" in bad.stderr
