"""`python -m core api-key ...` and `python -m core api` as a user runs them (subprocesses on a fresh DATA_DIR)."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests
from api_helpers import free_port

from core.api.keys import account_for_cli
from core.api.server import UnsafeBindError, check_bind_host
from core.auth import AuthError

ROOT = Path(__file__).resolve().parent.parent


# The commands' own DATA_DIR: a server process left on the session's stores must not share them with the
# tests still running in this process.
CLI_DATA_DIR = Path(tempfile.mkdtemp(prefix="dbw-api-cli-")) / "data"
CLI_ENV = {**os.environ, "DATA_DIR": str(CLI_DATA_DIR)}
atexit.register(shutil.rmtree, CLI_DATA_DIR.parent, ignore_errors=True)


def _run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=CLI_ENV, capture_output=True, text=True,
                          timeout=timeout)


def test_key_create_makes_the_user_prints_the_key_once_and_the_api_accepts_it(workbench):
    user = f"robot-{uuid.uuid4().hex[:8]}"
    created = _run("api-key", "create", "--user", user, "--role", "buyer", "--name", "sync")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("dbw_") and "shown only now" in created.stderr and f"{user}@workbench.local" in created.stderr

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "core", "api", "--port", str(port)], cwd=ROOT,
                              env=CLI_ENV, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline, me = time.monotonic() + 60, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                me = requests.get(f"http://127.0.0.1:{port}/me", headers={"X-API-Key": key}, timeout=30)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert me is not None and me.status_code == 200, server.stderr.read() if server.poll() is not None else me
        assert me.json()["email"] == f"{user}@workbench.local" and me.json()["role"] == "buyer"
        schema = requests.get(f"http://127.0.0.1:{port}/openapi.json", timeout=30).json()
        assert schema["openapi"].startswith("3.") and "/datasets/{name}/uploads" in schema["paths"]

        listed = _run("api-key", "list", "--user", user)
        assert listed.returncode == 0 and key[:12] in listed.stdout and key not in listed.stdout
        key_id = listed.stdout.split()[0]
        assert _run("api-key", "revoke", key_id).returncode == 0
        assert requests.get(f"http://127.0.0.1:{port}/me", headers={"X-API-Key": key}, timeout=30).status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_api_refuses_a_public_address_without_the_flag():
    refused = _run("api", "--host", "0.0.0.0")
    assert refused.returncode == 2 and "--allow-remote" in refused.stderr and "Traceback" not in refused.stderr


def test_bind_check_allows_loopback_only_unless_told():
    assert check_bind_host("127.0.0.1", False) == "127.0.0.1" and check_bind_host("::1", False) == "::1"
    assert check_bind_host("localhost", False) == "localhost"
    for host in ("0.0.0.0", "192.168.1.5", "example.org"):
        with pytest.raises(UnsafeBindError):
            check_bind_host(host, False)
    assert check_bind_host("0.0.0.0", True) == "0.0.0.0"


def test_an_existing_account_keeps_its_role(workbench):
    name = f"robot-{uuid.uuid4().hex[:8]}"
    assert account_for_cli(name, "buyer").role == "buyer"
    assert account_for_cli(f"{name}@workbench.local", "buyer").email == f"{name}@workbench.local"
    with pytest.raises(AuthError, match="exists with the role buyer"):
        account_for_cli(name, "supplier")
    with pytest.raises(AuthError, match="without spaces"):
        account_for_cli("two words", "buyer")
