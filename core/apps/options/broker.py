"""Broker adapters: where option chains come from. Nothing here can place an order.

Two implementations of one small interface, both speaking Schwab's market-data JSON:
- SchwabBroker wraps a `schwab-py` client. It is used only when credentials are configured
  (SCHWAB_APP_KEY, SCHWAB_APP_SECRET and SCHWAB_TOKEN_PATH, a token file made once with
  schwab-py's login flow); tests hand it a client whose HTTP goes to a local fake server.
- SimulatorBroker reads the offline market simulator over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import os
from typing import Protocol

import requests

SCHWAB_ENV = ("SCHWAB_APP_KEY", "SCHWAB_APP_SECRET", "SCHWAB_TOKEN_PATH")
TIMEOUT_S = 15


class BrokerError(RuntimeError):
    """The broker could not answer; the message says what to do."""


class BrokerAdapter(Protocol):
    name: str

    def symbols(self) -> list[str]: ...

    def option_chain(self, symbol: str) -> dict: ...


class SimulatorBroker:
    name = "simulator"

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self._http = requests.Session()

    def _get(self, path: str, params: dict | None = None) -> dict:
        try:
            response = self._http.get(self.base_url + path, params=params, timeout=TIMEOUT_S)
        except requests.RequestException as exc:
            raise BrokerError(f"The market simulator at {self.base_url} did not answer: {exc}") from exc
        if response.status_code != 200:
            raise BrokerError(_error_text(response))
        return response.json()

    def symbols(self) -> list[str]:
        return self._get("/sim/v1/underlyings")["symbols"]

    def option_chain(self, symbol: str) -> dict:
        return self._get("/marketdata/v1/chains", {"symbol": symbol})

    def advance(self, days: int = 1) -> str:
        """Simulator only: move the market on by `days` trading days."""
        response = self._http.post(f"{self.base_url}/sim/v1/advance", params={"days": days}, timeout=TIMEOUT_S)
        response.raise_for_status()
        return response.json()["asOf"]


class SchwabBroker:
    name = "schwab"

    def __init__(self, client, symbols: list[str] | None = None):
        self.client = client  # a schwab.client.Client
        self._symbols = symbols or [s.strip().upper() for s in os.environ.get("SCHWAB_SYMBOLS", "SPY,QQQ").split(",")
                                    if s.strip()]

    def symbols(self) -> list[str]:
        return list(self._symbols)

    def option_chain(self, symbol: str) -> dict:
        try:
            response = self.client.get_option_chain(symbol)
        except Exception as exc:  # noqa: BLE001 - network and auth failures of any kind become one message
            raise BrokerError(f"Schwab did not answer for {symbol}: {exc}") from exc
        if response.status_code != 200:
            raise BrokerError(_error_text(response))
        return response.json()


def _error_text(response) -> str:
    try:
        errors = response.json().get("errors") or []
        detail = "; ".join(e.get("title", "") for e in errors) or response.text[:200]
    except ValueError:
        detail = response.text[:200]
    return f"Broker answered {response.status_code}: {detail}"


def schwab_configured() -> bool:
    return all(os.environ.get(name) for name in SCHWAB_ENV)


def configured_broker() -> BrokerAdapter:
    """Schwab when its credentials are set; otherwise the local simulator (started on first use)."""
    if schwab_configured():
        from schwab.auth import client_from_token_file

        client = client_from_token_file(os.environ["SCHWAB_TOKEN_PATH"], os.environ["SCHWAB_APP_KEY"],
                                        os.environ["SCHWAB_APP_SECRET"])
        return SchwabBroker(client)
    from core.apps.options.simulator_server import shared_simulator_server

    return SimulatorBroker(shared_simulator_server().base_url)
