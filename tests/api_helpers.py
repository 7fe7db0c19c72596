"""The REST API served by a real uvicorn server on 127.0.0.1 (a free port, in a thread), plus key helpers."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import requests
import uvicorn

from core.api.app import create_app
from core.api.keys import create_api_key
from core.auth import Principal


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_api(**app_options):
    """The base URL of a live API server; stopped on exit."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(**app_options), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name=f"api-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("The API server did not start.")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class ApiClient:
    """requests with the base URL and one principal's API key."""

    def __init__(self, base_url: str, key: str | None) -> None:
        self.base_url, self.key = base_url, key
        self.session = requests.Session()
        if key:
            self.session.headers["X-API-Key"] = key

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        return self.session.request(method, self.base_url + path, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)


def client_for(base_url: str, principal: Principal | None) -> ApiClient:
    return ApiClient(base_url, create_api_key(principal, "tests")["key"] if principal else None)


def wait_for_job(client: ApiClient, job_id: int, timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout_s} s")
