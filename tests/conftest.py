"""Shared fixtures: an isolated DATA_DIR, the real embedded MongoDB server, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

_session_dir = Path(tempfile.mkdtemp(prefix="dbw-tests-"))
# Set before any core module reads settings, so no test touches the developer's data/.
os.environ["DATA_DIR"] = str(_session_dir / "data")
for _name in ("DATABASE_URL", "MONGODB_URI", "OPENAI_API_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
    os.environ.pop(_name, None)


def pytest_sessionfinish(session, exitstatus):
    from core.store.embedded_mongo import _managers
    from core.store.raw import close_raw_stores

    close_raw_stores()
    for manager in _managers.values():
        manager.stop()
    shutil.rmtree(_session_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def workbench():
    """The initialised workbench on the session DATA_DIR (SQLite + embedded MongoDB)."""
    from core.bootstrap import init_workbench
    from core.config import get_settings
    from core.store.raw import get_raw_store

    init_workbench()
    get_raw_store()
    return get_settings()


@pytest.fixture(scope="session")
def raw_store(workbench):
    from core.store.raw import get_raw_store

    return get_raw_store()


def postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
        import psycopg

        psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=2).close()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available here"
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_url(request, tmp_path, monkeypatch):
    """A fresh, migrated SQL store of each kind, selected through DATABASE_URL like a user would."""
    from core.config import reset_settings_cache
    from core.store.sql import dispose_engines, migrate

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
        drop = None
    else:
        if not postgres_reachable():
            pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: PostgreSQL store tests SKIPPED")
        import psycopg

        name = f"dbw_test_{uuid.uuid4().hex[:10]}"
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True)
        admin.execute(f'CREATE DATABASE "{name}"')
        url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

        def drop():
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
    monkeypatch.setenv("DATABASE_URL", url)
    reset_settings_cache()
    migrate()
    yield url
    dispose_engines()
    monkeypatch.delenv("DATABASE_URL")
    reset_settings_cache()
    if drop:
        drop()


_SQLITE_FILE_SUFFIXES = (".db", ".db-wal", ".db-shm", ".db-journal")


def _refuse_python_opens_of_sqlite_files(event: str, args: tuple) -> None:
    """Opening and closing a SQLite file with Python's open() drops every POSIX lock SQLite holds on it in this
    process; the next process to close that store then deletes its WAL under our open connections, and later
    queries fail with "disk I/O error" in unrelated tests. Read such files in a child process instead."""
    if event == "open" and args and isinstance(args[0], (str, Path)) and str(args[0]).endswith(_SQLITE_FILE_SUFFIXES):
        raise RuntimeError(f"a test opened the SQLite file {args[0]} in the test process: read it in a subprocess")


sys.addaudithook(_refuse_python_opens_of_sqlite_files)
