"""Logging set up in one place for every entry point (Streamlit app, API server, webhook receiver).

Where log records go:
- WARNING and worse into the bounded, searchable MongoDB logs (core/monitoring/logs.py), when `store`;
- a console line per record at `console_level` and above, when `console` (servers started from a terminal);
- noisy libraries (MLflow's and Alembic's INFO chatter on every registry call) held at WARNING, always.
Calling it again only adds what an earlier call did not (one handler of each kind per process).
"""

from __future__ import annotations

import logging
import threading

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET_LIBRARIES = {"mlflow": logging.WARNING, "alembic": logging.WARNING,
                   # cloudpickle saves on a local, trusted registry: its warning on every save is noise here
                   "mlflow.sklearn": logging.ERROR}

_console_handler: logging.Handler | None = None
_lock = threading.Lock()


def quiet_libraries() -> None:
    for name, level in QUIET_LIBRARIES.items():
        logging.getLogger(name).setLevel(level)


def configure_logging(*, store: bool = True, console: bool = False, console_level: int = logging.INFO) -> None:
    global _console_handler
    quiet_libraries()
    root = logging.getLogger()
    with _lock:
        if console and _console_handler is None:
            _console_handler = logging.StreamHandler()
            _console_handler.setFormatter(logging.Formatter(LOG_FORMAT))
            _console_handler.setLevel(console_level)
            root.addHandler(_console_handler)
            root.setLevel(min(root.level or logging.WARNING, console_level))
    if store:
        from core.monitoring.logs import install_log_handler

        install_log_handler()
