import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args, env_extra=None, timeout=120):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_init_and_status_on_a_fresh_data_dir(tmp_path):
    env = {"DATA_DIR": str(tmp_path / "data")}
    init = _run("init", env_extra=env)
    assert init.returncode == 0, init.stderr
    assert "migrations applied" in init.stdout
    status = _run("status", "--json", env_extra=env)
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["sql"]["ok"] and data["raw"]["ok"]
    assert set(data["counts"]) == {"raw", "processed", "validated", "packaged", "listed", "sold"}
    # The CLI stops the embedded server it started.
    assert not (tmp_path / "data" / "mongo" / "server.json").exists()


def test_every_command_has_help():
    assert "init" in _run("--help").stdout
    for command in ("init", "status"):
        result = _run(command, "--help")
        assert result.returncode == 0 and "usage:" in result.stdout


def test_bad_setting_is_reported_by_name():
    result = _run("status", env_extra={"DATABASE_URL": "oracle://nope"})
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr and "Traceback" not in result.stderr
