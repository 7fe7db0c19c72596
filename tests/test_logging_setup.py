"""Logging is configured by one function for every entry point, and calling it again adds nothing."""

from __future__ import annotations

import logging
import uuid

import pytest
from principals import as_admin

from core import logging_setup
from core.monitoring import logs


@pytest.fixture
def fresh_logging():
    """A root logger without the workbench's handlers (a page test in this worker may have installed them), put
    back as it was afterwards."""
    root = logging.getLogger()
    had_store_handler = any(isinstance(h, logs.MongoLogHandler) for h in root.handlers)
    logs.remove_log_handler()
    level, handlers = root.level, list(root.handlers)
    yield root
    logs.remove_log_handler()
    for handler in set(root.handlers) - set(handlers):
        root.removeHandler(handler)
    logging_setup._console_handler = None
    root.setLevel(level)
    if had_store_handler:
        logs.install_log_handler()


def test_repeated_calls_attach_one_handler_of_each_kind(workbench, fresh_logging):
    before = list(fresh_logging.handlers)
    for _ in range(3):
        logging_setup.configure_logging(console=True)
    added = [h for h in fresh_logging.handlers if h not in before]
    assert sorted(type(h).__name__ for h in added) == ["MongoLogHandler", "StreamHandler"]
    assert fresh_logging.getEffectiveLevel() <= logging.INFO  # the console shows INFO lines


def test_warnings_reach_the_searchable_logs_and_libraries_stay_quiet(workbench, fresh_logging):
    logging_setup.configure_logging()
    marker = uuid.uuid4().hex
    logging.getLogger("core.somewhere").warning("stored %s", marker)
    logs.install_log_handler().flush()
    assert list(logs.search_logs(as_admin(), text=marker)["message"]) == [f"stored {marker}"]
    assert logging.getLogger("mlflow").level == logging.WARNING
    assert logging.getLogger("mlflow.sklearn").level == logging.ERROR
