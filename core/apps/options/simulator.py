"""An offline options market: underlyings on seeded random paths and full chains priced off a smile.

Why it looks like this: everything downstream (snapshots, IV, strategies, the paper ledger, the
backtest) must work and be tested without broker credentials, so the simulator answers in the same
JSON shape as Schwab's market-data API (`callExpDateMap` / `putExpDateMap` keyed "YYYY-MM-DD:dte"
then by strike). Paths are GBM with a slowly mean-reverting volatility level, so IV rank moves and
rule-based strategies have something to react to. Each call to `advance()` is one trading day.
"""

from __future__ import annotations

import math
import threading
import zlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from core.apps.options import bsm

DEFAULT_UNDERLYINGS = {  # symbol: (start price, long-run ATM vol, dividend yield)
    "ACME": (100.0, 0.30, 0.010),
    "GLOBX": (250.0, 0.22, 0.020),
    "ZETA": (40.0, 0.55, 0.0),
}
RATE = 0.04
EXPIRY_DAYS = (7, 14, 30, 60, 91, 182, 365)
STRIKES_EACH_SIDE = 12
START_DATE = date(2026, 1, 5)


@dataclass
class Underlying:
    symbol: str
    price: float
    long_run_vol: float
    dividend_yield: float
    vol_level: float


def strike_step(price: float) -> float:
    """Listed strike spacing grows with the price, as on real exchanges."""
    for limit, step in ((25, 0.5), (100, 1.0), (200, 2.5), (500, 5.0)):
        if price < limit:
            return step
    return 10.0


class MarketSimulator:
    def __init__(self, seed: int = 7, underlyings: dict | None = None):
        self._rng = np.random.default_rng(seed)
        self._lock = threading.Lock()
        self.day = 0
        table = underlyings or DEFAULT_UNDERLYINGS
        self.underlyings = {sym: Underlying(sym, price, vol, div, vol) for sym, (price, vol, div) in table.items()}

    @property
    def today(self) -> date:
        return START_DATE + timedelta(days=self.day)

    def advance(self, days: int = 1) -> date:
        """Move every underlying `days` trading days along its path."""
        with self._lock:
            for _ in range(days):
                for u in self.underlyings.values():
                    # The vol level mean-reverts with its own noise (so IV rank varies); returns use it.
                    u.vol_level = max(0.05, u.vol_level + 0.08 * (u.long_run_vol - u.vol_level)
                                      + 0.04 * u.long_run_vol * self._rng.standard_normal())
                    dt = 1 / 252
                    shock = self._rng.standard_normal()
                    u.price *= math.exp((RATE - u.dividend_yield - 0.5 * u.vol_level ** 2) * dt
                                        + u.vol_level * math.sqrt(dt) * shock)
                self.day += 1
            return self.today

    def smile_vol(self, u: Underlying, strike: np.ndarray, years: np.ndarray) -> np.ndarray:
        """Skewed smile: ATM term structure (short end hotter), put skew, convex wings."""
        atm = u.vol_level * (0.85 + 0.25 * np.exp(-years / 0.25))
        forward = u.price * np.exp((RATE - u.dividend_yield) * years)
        k = np.log(strike / forward) / np.sqrt(np.maximum(years, 1 / 365))
        return np.clip(atm * (1.0 - 0.35 * k + 0.45 * k * k), 0.05, 3.0)

    def quote(self, symbol: str) -> dict:
        u = self._get(symbol)
        spread = max(0.01, round(u.price * 0.0002, 2))
        return {symbol: {"symbol": symbol, "assetMainType": "EQUITY", "quote": {
            "lastPrice": round(u.price, 2), "bidPrice": round(u.price - spread / 2, 2),
            "askPrice": round(u.price + spread / 2, 2), "mark": round(u.price, 2),
            "tradeTime": self.today.isoformat()}}}

    def option_chain(self, symbol: str) -> dict:
        """The whole chain in Schwab's response shape."""
        with self._lock:
            u = self._get(symbol)
            rng = np.random.default_rng(zlib.crc32(f"{symbol}:{self.day}".encode()))
            step = strike_step(u.price)
            center = round(u.price / step) * step
            strikes = center + step * np.arange(-STRIKES_EACH_SIDE, STRIKES_EACH_SIDE + 1)
            strikes = strikes[strikes > 0]
            maps = {"CALL": {}, "PUT": {}}
            for dte in EXPIRY_DAYS:
                expiry = self.today + timedelta(days=dte)
                years = np.full(strikes.shape, dte / 365.0)
                vol = self.smile_vol(u, strikes, years)
                for put_call in ("CALL", "PUT"):
                    is_call = put_call == "CALL"
                    fair = bsm.price(is_call, u.price, strikes, years, RATE, u.dividend_yield, vol)
                    moneyness = np.log(strikes / u.price)
                    half_spread = np.maximum(0.01, 0.02 * fair + 0.005 * np.abs(moneyness) * u.price / 10)
                    bid = np.maximum(0.0, np.round(fair - half_spread, 2))
                    ask = np.round(fair + half_spread, 2) + 0.01
                    liquidity = np.exp(-12 * moneyness ** 2) * (30 / (dte + 10))
                    volume = rng.poisson(400 * liquidity)
                    open_interest = rng.poisson(4000 * liquidity + 50)
                    key = f"{expiry.isoformat()}:{dte}"
                    maps[put_call][key] = {
                        f"{k:.1f}": [{
                            "putCall": put_call,
                            "symbol": f"{symbol}_{expiry:%y%m%d}{put_call[0]}{k:g}",
                            "strikePrice": float(k), "expirationDate": expiry.isoformat(), "daysToExpiration": dte,
                            "bid": float(b), "ask": float(a), "mark": round(float(b + a) / 2, 4),
                            "totalVolume": int(v), "openInterest": int(oi), "multiplier": 100,
                        }] for k, b, a, v, oi in zip(strikes, bid, ask, volume, open_interest, strict=False)}
            return {"symbol": symbol, "status": "SUCCESS", "underlyingPrice": round(u.price, 4),
                    "interestRate": RATE, "dividendYield": u.dividend_yield, "asOf": self.today.isoformat(),
                    "numberOfContracts": 2 * len(EXPIRY_DAYS) * len(strikes),
                    "callExpDateMap": maps["CALL"], "putExpDateMap": maps["PUT"]}

    def _get(self, symbol: str) -> Underlying:
        try:
            return self.underlyings[symbol.upper()]
        except KeyError:
            raise KeyError(f"Unknown symbol {symbol!r}; the simulator lists {', '.join(self.underlyings)}.") from None
