"""Investment scenarios for one property: mortgage, cash flow, cap rate, cash-on-cash, IRR and NPV.

Pure functions (no stores, no principal): the page, the CLI and the listing bot call them with numbers.
The time-value maths is numpy-financial's (`pmt`, `fv`, `irr`, `npv`), not hand-rolled formulas.

Conventions, stated once because every figure depends on them:
- Percentages are given as percents (6 means 6 %), money per month where a person thinks per month
  (rent, operating costs, mortgage payment) and per year in the yearly cash flows.
- The mortgage is a fixed-rate annuity paid monthly over `years`; after the term ends, no payments.
- Yearly cash flows for the IRR and NPV: year 0 is the down payment plus buying costs (an outflow);
  years 1..hold are twelve months of effective rent less operating costs less mortgage payments; the
  last year also gets the sale at the appreciated price less selling costs and the loan balance left.
- Rent and costs grow by `rent_growth` a year; the property value by `appreciation` a year.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np
import numpy_financial as npf


class ScenarioError(ValueError):
    """A scenario input is out of range; the message names the input and what is allowed."""


@dataclass(frozen=True)
class ScenarioInputs:
    price: float
    down_pct: float = 20.0
    rate: float = 6.0  # mortgage rate, percent a year
    years: int = 30  # mortgage term
    rent: float = 0.0  # monthly rent at full occupancy
    vacancy: float = 5.0  # percent of the rent lost to empty months
    costs: float = 0.0  # monthly operating costs (taxes, insurance, upkeep, management)
    appreciation: float = 2.0  # percent a year
    hold: int = 10  # years until sale
    discount: float = 8.0  # percent a year, for the NPV
    buy_costs_pct: float = 0.0  # percent of the price paid at purchase (fees, transfer tax)
    sell_costs_pct: float = 0.0  # percent of the sale price paid at sale (agent, fees)
    rent_growth: float = 0.0  # percent a year, applied to rent and costs

    def checked(self) -> ScenarioInputs:
        """The inputs when every one is a finite number in its range; otherwise ScenarioError naming it."""
        limits = {"price": (0.0, None, False), "down_pct": (0.0, 100.0, True), "rate": (0.0, 100.0, True),
                  "years": (1, 50, True), "rent": (0.0, None, True), "vacancy": (0.0, 100.0, True),
                  "costs": (0.0, None, True), "appreciation": (-50.0, 100.0, True), "hold": (1, 50, True),
                  "discount": (-50.0, 100.0, True), "buy_costs_pct": (0.0, 50.0, True),
                  "sell_costs_pct": (0.0, 50.0, True), "rent_growth": (-50.0, 100.0, True)}
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ScenarioError(f"{field.name} must be a number, not {value!r}.")
            low, high, low_allowed = limits[field.name]
            if value < low or (value == low and not low_allowed) or (high is not None and value > high):
                bound = f"between {low} and {high}" if high is not None else f"above {low}" if not low_allowed \
                    else f"at least {low}"
                raise ScenarioError(f"{field.name} must be {bound}; got {value}.")
            if field.name in ("years", "hold") and int(value) != value:
                raise ScenarioError(f"{field.name} must be a whole number of years; got {value}.")
        return self


def monthly_payment(loan: float, annual_rate_pct: float, years: int) -> float:
    """The fixed monthly payment of an annuity mortgage (numpy-financial pmt; 0 % rate = equal parts)."""
    if loan <= 0:
        return 0.0
    return float(-npf.pmt(annual_rate_pct / 1200.0, int(years) * 12, loan))


def loan_balance(loan: float, annual_rate_pct: float, years: int, months_paid: int) -> float:
    """What is still owed after `months_paid` payments (zero once the term is over)."""
    if loan <= 0 or months_paid >= years * 12:
        return 0.0
    payment = monthly_payment(loan, annual_rate_pct, years)
    return float(-npf.fv(annual_rate_pct / 1200.0, months_paid, -payment, loan))


def amortisation_table(loan: float, annual_rate_pct: float, years: int) -> list[dict]:
    """Per year: payments, interest, principal repaid and the balance at year end (a bank's schedule)."""
    payment = monthly_payment(loan, annual_rate_pct, years)
    rows, balance = [], float(loan)
    for year in range(1, int(years) + 1):
        end = loan_balance(loan, annual_rate_pct, years, year * 12)
        principal = balance - end
        rows.append({"year": year, "payments": round(payment * 12, 2), "interest": round(payment * 12 - principal, 2),
                     "principal": round(principal, 2), "balance": round(end, 2)})
        balance = end
    return rows


def yearly_cash_flows(inputs: ScenarioInputs) -> list[float]:
    """Cash flows for years 0..hold (see the module docstring); year 0 is negative."""
    s = inputs
    loan = s.price * (1 - s.down_pct / 100)
    payment = monthly_payment(loan, s.rate, s.years)
    flows = [-(s.price * s.down_pct / 100 + s.price * s.buy_costs_pct / 100)]
    for year in range(1, int(s.hold) + 1):
        growth = (1 + s.rent_growth / 100) ** (year - 1)
        operating = 12 * growth * (s.rent * (1 - s.vacancy / 100) - s.costs)
        months_paying = max(0, min(12, int(s.years) * 12 - (year - 1) * 12))
        flows.append(operating - months_paying * payment)
    sale_price = s.price * (1 + s.appreciation / 100) ** s.hold
    flows[-1] += sale_price * (1 - s.sell_costs_pct / 100) - loan_balance(loan, s.rate, s.years, int(s.hold) * 12)
    return flows


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def scenario_figures(inputs: ScenarioInputs) -> dict:
    """Every figure of a scenario, rounded for display, with the inputs and the yearly cash flows."""
    s = inputs.checked()
    down = s.price * s.down_pct / 100
    cash_in = down + s.price * s.buy_costs_pct / 100
    loan = s.price - down
    payment = monthly_payment(loan, s.rate, s.years)
    effective_rent = s.rent * (1 - s.vacancy / 100)
    noi = 12 * (effective_rent - s.costs)  # net operating income, first year
    cash_flow = noi - 12 * payment
    flows = yearly_cash_flows(s)
    irr = _finite(npf.irr(flows)) if any(f > 0 for f in flows[1:]) else None
    sale_price = s.price * (1 + s.appreciation / 100) ** s.hold
    return {
        "inputs": asdict(s),
        "loan": round(loan, 2),
        "down_payment": round(down, 2),
        "cash_invested": round(cash_in, 2),
        "monthly_payment": round(payment, 2),
        "effective_monthly_rent": round(effective_rent, 2),
        "monthly_cash_flow": round(cash_flow / 12, 2),
        "annual_cash_flow": round(cash_flow, 2),
        "net_operating_income": round(noi, 2),
        "cap_rate_pct": round(100 * noi / s.price, 3),
        "cash_on_cash_pct": round(100 * cash_flow / cash_in, 3) if cash_in > 0 else None,
        "debt_service_coverage": round(noi / (12 * payment), 3) if payment > 0 else None,
        "irr_pct": round(100 * irr, 3) if irr is not None else None,
        "npv": round(float(npf.npv(s.discount / 100, flows)), 2),
        "sale_price": round(sale_price, 2),
        "loan_balance_at_sale": round(loan_balance(loan, s.rate, s.years, int(s.hold) * 12), 2),
        "total_profit": round(sum(flows), 2),
        "cash_flows": [round(f, 2) for f in flows],
    }


def irr_grid(inputs: ScenarioInputs, rates: list[float], rents: list[float]) -> dict:
    """IRR (percent) for every (mortgage rate, monthly rent) pair: {"rates", "rents", "irr_pct": rows by rent}.

    A cell with no IRR (the flows never turn positive) is None."""
    base = inputs.checked()
    table = []
    for rent in rents:
        row = []
        for rate in rates:
            flows = yearly_cash_flows(ScenarioInputs(**{**asdict(base), "rate": float(rate), "rent": float(rent)})
                                      .checked())
            value = _finite(npf.irr(flows)) if any(f > 0 for f in flows[1:]) else None
            row.append(round(100 * value, 3) if value is not None else None)
        table.append(row)
    return {"rates": [float(r) for r in rates], "rents": [float(r) for r in rents], "irr_pct": table}


def sensitivity_axes(inputs: ScenarioInputs, steps: int = 9, rate_span: float = 2.0,
                     rent_span_pct: float = 20.0) -> tuple[list[float], list[float]]:
    """Rates around the scenario's (± `rate_span` points, never below 0) and rents ± `rent_span_pct` %."""
    s = inputs.checked()
    rates = np.linspace(max(0.0, s.rate - rate_span), s.rate + rate_span, steps)
    rents = np.linspace(s.rent * (1 - rent_span_pct / 100), s.rent * (1 + rent_span_pct / 100), steps)
    return [round(float(r), 3) for r in rates], [round(float(r), 2) for r in rents]
