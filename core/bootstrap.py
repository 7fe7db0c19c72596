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


def _redacted(url: str) -> str:
    """A database URL without its password, for display."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
