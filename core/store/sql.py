"""SQL engine, short sessions, and migrations applied at start-up.

SQLite is the embedded default; PostgreSQL is used when DATABASE_URL says so.
Every operation opens its own short session (`session_scope`) and returns plain
data, so Streamlit reruns and job threads never share ORM state.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from core.config import Settings, get_settings

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
_migrated: set[str] = set()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers (the UI) proceed while a job writes; busy_timeout makes
    # concurrent writers wait instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def get_engine(settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    url = settings.sql_url
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
                engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
                event.listen(engine, "connect", _sqlite_pragmas)
            else:
                engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
            _engines[url] = engine
        return engine


def migrate(settings: Settings | None = None) -> None:
    """Apply Alembic migrations up to head (idempotent, cheap when current)."""
    settings = settings or get_settings()
    url = settings.sql_url
    if url in _migrated:
        return
    engine = get_engine(settings)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    _migrated.add(url)


def table_names(settings: Settings | None = None) -> list[str]:
    return sorted(inspect(get_engine(settings)).get_table_names())


@contextmanager
def session_scope(settings: Settings | None = None) -> Iterator[Session]:
    """One short unit of work: commit on success, roll back on error."""
    session = Session(get_engine(settings), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dispose_engines() -> None:
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _migrated.clear()
