"""Start-up: directories, schema migrations, orphaned jobs, interrupted builds and runs. Safe to call
repeatedly, also while other processes work (recovery only touches what a dead process left)."""

from __future__ import annotations

from core.config import Settings, get_settings
from core.job_kinds import load_job_kinds
from core.recovery import recover_interrupted_work
from core.store import jobs
from core.store.sql import migrate


def init_workbench(settings: Settings | None = None) -> dict:
    settings = settings or get_settings()
    jobs.add_kind_loader(load_job_kinds)  # the job kinds of every feature, imported on first use
    settings.ensure_dirs()
    migrate(settings)
    settings.resolved_secret_key  # noqa: B018 - creates the key file on first start
    orphaned = jobs.fail_orphaned_jobs()
    recovered = recover_interrupted_work(settings)  # after the jobs: a build or run is judged by its job
    return {"data_dir": str(settings.data_dir), "database": _redacted(settings.sql_url), "orphaned_jobs": orphaned,
            **recovered}


def start_app_services(settings: Settings | None = None) -> dict:
    """Everything a long-running app process (the Streamlit app) starts once: the stores, logging into the
    monitoring logs, and the scheduler thread for saved schedules."""
    from core.logging_setup import configure_logging
    from core.scheduler import start_scheduler
    from core.store.raw import get_raw_store

    info = init_workbench(settings)
    get_raw_store(settings)  # starts the embedded MongoDB server once for every session
    configure_logging()  # warnings and errors into the bounded MongoDB logs (core/monitoring/logs.py)
    start_scheduler()  # saved schedules (options snapshots, news workflows) run while the workbench runs
    return info


def _redacted(url: str) -> str:
    """A database URL without its password, for display."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
