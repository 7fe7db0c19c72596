"""Start-up recovery: work cut short by a crash (kill -9, power cut, OOM killer) is failed with a
reason and its partial files removed, so nothing shows "building" or "running" forever and the next
build or run of the same thing succeeds.

It runs on every start (`init_workbench`), also while the app or another CLI process is working, so
it only touches what a dead process left: a package build or refinement run whose job is no longer
queued or running (orphaned jobs are failed just before), or, for work started without a job, whose
recorded process is gone; temporary files whose writer process (named in the file name) is gone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

from sqlmodel import select

from core.config import Settings, get_settings
from core.store import lake, processes
from core.store.models import DataPackage, Dataset, Job, RefinementRun
from core.store.sql import session_scope

# Temporary files from before names carried their writer's process id: no live writer holds one
# this long (lake writes take seconds), so older ones are leftovers.
UNTAGGED_TEMP_MAX_AGE_S = 3600
BUILD_INTERRUPTED = ("Interrupted: the process building this version stopped before it finished (killed or "
                     "crashed). Nothing was published; build it again.")
RUN_INTERRUPTED = ("Interrupted: the process running this refinement stopped before it finished (killed or "
                   "crashed). Its partial results were removed; run it again.")


def in_progress_mark(**details: str) -> dict:
    """What a build or run records about itself while it works, so recovery can tell it is alive
    when it has no job (its job, when it has one, says so better)."""
    return {"pid": os.getpid(), **details}


def recover_interrupted_work(settings: Settings | None = None) -> dict:
    settings = settings or get_settings()
    return {"failed_builds": fail_dead_builds(), "failed_runs": fail_dead_runs(),
            "removed_temp_files": remove_stale_temp_files(settings)}


def _live_work(session) -> tuple[set[int], set[str]]:
    """Ids and kinds of the jobs still queued or running in a live process."""
    rows = session.exec(select(Job.id, Job.kind).where(Job.status.in_(("queued", "running")))).all()
    return {job_id for job_id, _ in rows}, {kind for _, kind in rows}


def _is_live(key: str, job_id: int | None, mark: dict, job_kind: str, live_jobs: set[int],
             live_kinds: set[str]) -> bool:
    if job_id is not None:
        return job_id in live_jobs
    if mark.get("pid") is not None:
        return processes.held_by_live_process(int(mark["pid"]), key)
    # Rows written before work recorded its job or process: alive only while such a job still runs.
    return job_kind in live_kinds


def fail_dead_builds() -> int:
    """Mark package builds left 'building' by a dead process failed; remove their staging and unpublished
    version directories so the same version can be built again. Returns how many were failed."""
    leftovers: list[Path] = []
    failed = 0
    with session_scope() as session:
        live_jobs, live_kinds = _live_work(session)
        published_paths = set(session.exec(select(DataPackage.path).where(DataPackage.status == "published")))
        for package in session.exec(select(DataPackage).where(DataPackage.status == "building")):
            mark = (package.manifest or {}).get("building") or {}
            if _is_live(f"package:{package.id}", package.job_id, mark, "package", live_jobs, live_kinds):
                continue
            package.status, package.error = "failed", BUILD_INTERRUPTED
            session.add(package)
            failed += 1
            out_dir = Path(mark["out_dir"]) if mark.get("out_dir") else _default_out_dir(package)
            if out_dir is not None and str(out_dir) not in published_paths:
                leftovers.append(out_dir)
    for out_dir in leftovers:
        remove_build_leftovers(out_dir)
    return failed


def _default_out_dir(package: DataPackage) -> Path | None:
    try:
        return lake.zone_path("packages", package.name, package.version)
    except ValueError:  # a name the lake refuses cannot have been written there
        return None


def remove_build_leftovers(out_dir: Path, settings: Settings | None = None) -> None:
    """A dead build's staging directories, and its version directory if it got that far (renamed into
    place but never recorded as published: nobody was ever given it). A version directory outside the
    packages zone (a CLI --out) is left alone: it may have been the user's before the build started."""
    if out_dir.parent.is_dir():
        for staging in out_dir.parent.glob(f".{out_dir.name}.*.partial"):
            if not processes.held_by_live_process(processes.temp_owner_pid(staging.name), staging):
                _remove_tree(staging)
    packages_zone = (settings or get_settings()).data_dir / "packages"
    if out_dir.is_dir() and not out_dir.is_symlink() and out_dir.resolve().is_relative_to(packages_zone.resolve()):
        _remove_tree(out_dir)


def _remove_tree(path: Path) -> None:
    def make_writable_and_retry(function, failed_path, _exc_info):
        os.chmod(os.path.dirname(failed_path), 0o755)  # published files and dirs are made read-only
        function(failed_path)

    shutil.rmtree(path, onerror=make_writable_and_retry)


def fail_dead_runs() -> int:
    """Mark refinement runs left 'running' by a dead process failed, and remove what they wrote (run
    files, validated items, per-item records): a failed run must not look usable. Returns how many."""
    from core.refine.runs import discard_run_outputs  # pandas-heavy; only needed when a run died

    dead: list[tuple[int, str]] = []
    with session_scope() as session:
        live_jobs, live_kinds = _live_work(session)
        query = (select(RefinementRun, Dataset.name).join(Dataset, Dataset.id == RefinementRun.dataset_id)
                 .where(RefinementRun.status == "running"))
        for run, dataset_name in session.exec(query).all():
            mark = (run.timings or {}).get("running") or {}
            if _is_live(f"run:{run.id}", run.job_id, mark, "refine", live_jobs, live_kinds):
                continue
            run.status, run.error = "failed", RUN_INTERRUPTED
            run.metrics = {**(run.metrics or {}), "error": RUN_INTERRUPTED}
            session.add(run)
            dead.append((run.id, dataset_name))
    for run_id, dataset_name in dead:
        with contextlib.suppress(ValueError):  # a name from before safe names: the lake refused it, no files
            discard_run_outputs(dataset_name, run_id)
    return len(dead)


def remove_stale_temp_files(settings: Settings) -> int:
    """Remove the lake's temporary files (`.NAME.pidN.XXXX.part`) and package staging directories
    (`.VERSION.pidN.XXXX.partial`) whose writer is gone. Returns how many were removed."""
    removed = 0
    for zone in lake.ZONES:
        root = settings.data_dir / zone
        if not root.is_dir():
            continue
        for directory, subdirectories, files in os.walk(root):
            for name in files:
                if name.startswith(".") and name.endswith(".part") and _stale(Path(directory, name)):
                    Path(directory, name).unlink(missing_ok=True)
                    removed += 1
            for name in list(subdirectories):
                if name.startswith(".") and name.endswith(".partial"):
                    subdirectories.remove(name)  # never walk into a staging directory
                    if _stale(Path(directory, name)):
                        _remove_tree(Path(directory, name))
                        removed += 1
    return removed


def _stale(path: Path) -> bool:
    pid = processes.temp_owner_pid(path.name)
    if pid is None:
        try:
            return time.time() - path.stat().st_mtime > UNTAGGED_TEMP_MAX_AGE_S
        except FileNotFoundError:
            return False  # its writer just renamed or removed it
    return not processes.held_by_live_process(pid, path)
