"""Which modules register job functions: the application layer's list, handed to the job runner.

The runner (core/store/jobs.py) only keeps the registry; it does not know the features above it. Start-up
(core/bootstrap.init_workbench) gives it `load_job_kinds`, which the runner calls before it looks a kind up,
so the feature modules (some import scikit-learn or MLflow) are imported on first use, not at start.
"""

from __future__ import annotations

import importlib

JOB_MODULES = ("core.sources.jobs", "core.refine.jobs", "core.packaging.jobs", "ml.jobs", "ml.quality_model",
               "core.apps.news.jobs", "core.apps.options.jobs", "core.apps.listings.monitor.jobs",
               "core.apps.listings.property.jobs", "core.apps.listings.bot.jobs", "core.monitoring.jobs",
               "core.sources.bucket_jobs", "core.privacy.jobs")


def load_job_kinds() -> None:
    """Import every module that registers jobs (cheap after the first call: Python caches imports)."""
    for name in JOB_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not f"{name}.".startswith(f"{exc.name}."):  # only the feature module (or its package) may be missing
                raise
