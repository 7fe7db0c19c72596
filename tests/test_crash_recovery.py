"""Nothing lost on a crash: work killed with SIGKILL is failed with a reason at the next start, its partial
files are removed, its worker processes die with it, and the same build or run then succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from refine_fixtures import article_text, dataset_with_run, ingest_texts
from sqlmodel import select

from core import auth
from core.bootstrap import init_workbench
from core.packaging.build import PackageRequest, build_package, package_detail
from core.packaging.writer import PackageBuildError
from core.refine import runs
from core.store import lake, processes
from core.store.models import DataPackage, Dataset, Job, RefinementRecord, RefinementRun
from core.store.sql import session_scope

ROOT = Path(__file__).resolve().parent.parent
# Enough items for the process pool (core.refine.pipeline.POOL_MIN_ITEMS) and a few seconds of signals.
KILL_TEST_ITEMS = 5000


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "core", *args]


def _dead_pid() -> int:
    """The id of a process that has exited and been reaped."""
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


def _state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def _running(pid: int) -> bool:
    return _state(pid) not in (None, "Z")  # a zombie has exited; only its table entry waits to be reaped


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, frontier = [], [pid]
    while frontier:
        for child in children.get(frontier.pop(), []):
            found.append(child)
            frontier.append(child)
    return found


def _pool_started(owner_pid: int) -> list[int]:
    """The owner's descendants once its fork server and two workers run (empty before)."""
    descendants = _descendants(owner_pid)
    forked = [pid for pid in descendants if b"forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    return descendants if len(forked) >= 3 else []


def _wait_until(condition, timeout_s: float, what: str, poll_s: float = 0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _wait_gone(pids: list[int], timeout_s: float) -> float:
    """Seconds until every pid has exited; fails the test (after killing them) when some outlive timeout_s."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if not any(_running(pid) for pid in pids):
            return time.monotonic() - started
        time.sleep(0.05)
    survivors = [pid for pid in pids if _running(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    raise AssertionError(f"processes {survivors} outlived their killed parent by {timeout_s:.0f} s")


def _runs_of(dataset_name: str) -> list[dict]:
    with session_scope() as session:
        query = (select(RefinementRun).join(Dataset, Dataset.id == RefinementRun.dataset_id)
                 .where(Dataset.name == dataset_name).order_by(RefinementRun.id))
        return [run.model_dump() for run in session.exec(query)]


def _temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob(".*") if p.name.endswith((".part", ".partial"))]


def test_refine_killed_mid_run_is_failed_cleaned_and_runs_again(workbench):
    data_dir = Path(os.environ["DATA_DIR"])
    name = f"crash-{uuid.uuid4().hex[:8]}"
    ingest_texts(name, [f"{article_text(i)} Item {i} of the crash test." for i in range(KILL_TEST_ITEMS)])
    started = time.monotonic()
    refine = subprocess.Popen(_cli("refine", "--dataset", name), cwd=ROOT, env=dict(os.environ),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Mid-run: the run row says running and the pool's workers (fork server + 2 workers) are up.
        _wait_until(lambda: any(r["status"] == "running" for r in _runs_of(name)), 60, "the run to start")
        workers = _wait_until(lambda: _pool_started(refine.pid), 60, "the worker pool to start")
    finally:
        refine.send_signal(signal.SIGKILL)
        refine.wait()
    killed_after_s = time.monotonic() - started
    workers_gone_s = _wait_gone(workers, timeout_s=5)
    (run,) = _runs_of(name)
    assert run["status"] == "running", "the CLI finished before it could be killed; make the dataset bigger"

    info = init_workbench()

    assert info["failed_runs"] >= 1
    failed = runs.run_detail(auth.demo_principal("admin"), run["id"])
    assert failed["status"] == "failed" and "Interrupted" in failed["error"]
    leftovers = [*lake.zone_path("processed", name).glob(f"run-{run['id']}*"),
                 *lake.zone_path("validated", name).glob(f"run-{run['id']}*")]
    assert leftovers == []
    assert [p for p in _temp_files(data_dir) if name in str(p)] == []
    with session_scope() as session:
        assert session.exec(select(RefinementRecord).where(RefinementRecord.run_id == run["id"])).first() is None

    again = subprocess.run(_cli("refine", "--dataset", name), cwd=ROOT, env=dict(os.environ), capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    latest = _runs_of(name)[-1]
    assert latest["id"] != run["id"] and latest["status"] == "succeeded"
    assert latest["counts"]["input"] == KILL_TEST_ITEMS
    print(f"killed after {killed_after_s:.1f} s; workers gone {workers_gone_s:.2f} s after the kill; "
          f"whole test {time.monotonic() - started:.1f} s after the CLI started")


# A real `python -m core package build`, paused inside the writer once its staging directory is full, so
# the kill lands mid-build every time (a 12-row build is over in milliseconds otherwise).
PAUSED_BUILD = """
import sys, time
import core.packaging.writer as writer
def pause(root):
    print("STAGED", root, flush=True)
    time.sleep(600)
writer._make_read_only = pause
from core.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_package_build_killed_mid_build_is_failed_cleaned_and_builds_again(workbench):
    dataset, run_id = dataset_with_run()
    title = f"Crash pack {uuid.uuid4().hex[:6]}"
    args = ["package", "build", "--dataset", dataset["name"], "--run", str(run_id), "--name", title,
            "--license", "CC-BY-4.0"]
    build = subprocess.Popen([sys.executable, "-c", PAUSED_BUILD, *args], cwd=ROOT, env=dict(os.environ),
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        staged_line = next((line for line in build.stdout if line.startswith("STAGED")), None)
        assert staged_line, "the build ended before staging its files"
    finally:
        build.send_signal(signal.SIGKILL)
        build.wait()
        build.stdout.close()
    staging = Path(staged_line.split(" ", 1)[1].strip())
    with session_scope() as session:
        (row,) = session.exec(select(DataPackage).where(DataPackage.dataset_id == dataset["id"])).all()
        crashed = row.model_dump()
    assert crashed["status"] == "building" and crashed["job_id"] is not None and staging.is_dir()

    init = subprocess.run(_cli("init"), cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    assert "interrupted package build" in init.stdout
    failed = package_detail(auth.demo_principal("admin"), crashed["id"])
    assert failed["status"] == "failed" and "Interrupted" in failed["error"]
    assert not staging.exists()
    assert not lake.zone_path("packages", crashed["name"], crashed["version"]).exists()

    again = subprocess.run(_cli(*args), cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "IntegrityError" not in again.stderr
    rebuilt = package_detail(auth.demo_principal("admin"), crashed["id"])  # the failed attempt's row, reused
    assert (rebuilt["status"], rebuilt["version"], rebuilt["error"]) == ("published", crashed["version"], None)
    assert Path(rebuilt["path"], "manifest.json").exists()


def _job(kind: str, status: str, owner_pid: int | None) -> int:
    with session_scope() as session:
        job = Job(kind=kind, status=status, owner_pid=owner_pid, message="test")
        session.add(job)
        session.flush()
        return job.id


def _package_row(dataset: dict, run_id: int, name: str, version: str, job_id: int | None, **extra) -> int:
    with session_scope() as session:
        package = DataPackage(dataset_id=dataset["id"], run_id=run_id, name=name, title=name, version=version,
                              license="CC-BY-4.0", status="building", job_id=job_id, **extra)
        session.add(package)
        session.flush()
        return package.id


def _sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


def test_a_build_by_a_live_job_elsewhere_is_left_alone_and_a_second_build_gets_a_clear_error(workbench):
    dataset, run_id = dataset_with_run()
    title = f"Busy pack {uuid.uuid4().hex[:6]}"
    other_process = _sleeper()
    try:
        live_job = _job("package", "running", other_process.pid)
        package_id = _package_row(dataset, run_id, title.lower().replace(" ", "-"), "1.0.0", live_job)
        init_workbench()
        assert package_detail(auth.demo_principal("admin"), package_id)["status"] == "building"
        with pytest.raises(PackageBuildError, match=f"being built right now \\(job {live_job}\\)"):
            build_package(auth.demo_principal("supplier"), PackageRequest(dataset=dataset["name"], title=title,
                                                                          license="CC-BY-4.0"))
    finally:
        other_process.kill()
        other_process.wait()
    # Its process gone, the next build takes the version over without waiting for a restart.
    built = build_package(auth.demo_principal("supplier"), PackageRequest(dataset=dataset["name"], title=title,
                                                                          license="CC-BY-4.0"))
    assert (built["package_id"], built["version"]) == (package_id, "1.0.0")


def test_two_builds_that_chose_the_same_version_get_a_clear_error(workbench, monkeypatch):
    import core.packaging.build as build

    dataset, _ = dataset_with_run()
    request = PackageRequest(dataset=dataset["name"], title=f"Race {uuid.uuid4().hex[:6]}", license="CC-BY-4.0")
    assert build_package(auth.demo_principal("supplier"), request)["version"] == "1.0.0"
    # The second build read "no version yet" before the first one published (the race window).
    monkeypatch.setattr(build, "_previous", lambda name, owner_id: None)
    with pytest.raises(PackageBuildError, match="1.0.0 is already published"):
        build_package(auth.demo_principal("supplier"), request)


def test_jobless_build_of_a_dead_process_is_failed_and_its_leftovers_removed(workbench):
    dataset, run_id = dataset_with_run()
    name = f"jobless-{uuid.uuid4().hex[:6]}"
    out_dir = lake.zone_path("packages", name, "1.0.0")
    out_dir.mkdir(parents=True)  # renamed into place, then killed before the row said published
    (out_dir / "manifest.json").write_text("{}")
    staging = out_dir.parent / f".1.0.0.pid{_dead_pid()}.abcd.partial"
    staging.mkdir()
    dead = _package_row(dataset, run_id, name, "1.0.0", None,
                        manifest={"building": {"pid": _dead_pid(), "out_dir": str(out_dir)}})
    ours = _package_row(dataset, run_id, name, "1.1.0", None,
                        manifest={"building": {"pid": os.getpid(), "out_dir": str(out_dir.parent / "1.1.0")}})
    processes.mark_in_progress(f"package:{ours}")  # a build running in this very process
    try:
        init_workbench()
    finally:
        processes.mark_done(f"package:{ours}")
    admin = auth.demo_principal("admin")
    assert package_detail(admin, dead)["status"] == "failed"
    assert package_detail(admin, ours)["status"] == "building"
    assert not out_dir.exists() and not staging.exists()


def test_run_of_a_dead_job_loses_its_complete_but_unrecorded_files(workbench):
    dataset, finished_run = dataset_with_run()
    items = runs.load_items(dataset["id"])
    dead_job = _job("refine", "running", _dead_pid())
    run_id = runs.start_run(dataset["id"], {}, "f" * 12, None, dead_job)
    processes.mark_done(f"run:{run_id}")  # as if this were the process that died
    paths = runs.run_output_paths(dataset["name"], run_id)
    for path in paths:  # killed after writing every file, before recording the run as succeeded
        lake.write_parquet(items[["id"]], path)
    jobless_live = runs.start_run(dataset["id"], {}, "e" * 12, None, None)  # running in this process

    info = init_workbench()

    assert info["failed_runs"] >= 1
    admin = auth.demo_principal("admin")
    detail = runs.run_detail(admin, run_id)
    assert detail["status"] == "failed" and "Interrupted" in detail["error"]
    assert not any(path.exists() for path in paths)
    assert runs.run_detail(admin, jobless_live)["status"] == "running"
    assert runs.run_detail(admin, finished_run)["status"] == "succeeded"
    assert Path(runs.run_detail(admin, finished_run)["validated_path"]).exists()
    runs.fail_run(jobless_live, "test over")


def test_only_temporary_files_of_dead_processes_are_removed(workbench):
    directory = lake.zone_path("processed", f"temp-{uuid.uuid4().hex[:6]}")
    directory.mkdir(parents=True)
    other_process = _sleeper()
    try:
        dead = directory / f".items.parquet.pid{_dead_pid()}.k2x9.part"
        alive_elsewhere = directory / f".items.parquet.pid{other_process.pid}.a1b2.part"
        ours_in_progress = directory / f".signals.parquet.pid{os.getpid()}.c3d4.part"
        ours_abandoned = directory / f".decisions.parquet.pid{os.getpid()}.e5f6.part"
        untagged_old = directory / ".old.parquet.x7y8z9w0.part"
        untagged_fresh = directory / ".new.parquet.q1w2e3r4.part"
        for path in (dead, alive_elsewhere, ours_in_progress, ours_abandoned, untagged_old, untagged_fresh):
            path.write_bytes(b"partial")
        os.utime(untagged_old, (time.time() - 2 * 3600,) * 2)
        processes.mark_in_progress(ours_in_progress)
        try:
            info = init_workbench()
        finally:
            processes.mark_done(ours_in_progress)
        assert info["removed_temp_files"] >= 3
        assert sorted(p.name for p in directory.iterdir()) == sorted(
            p.name for p in (alive_elsewhere, ours_in_progress, untagged_fresh))
    finally:
        other_process.kill()
        other_process.wait()


POOL_OWNER = """
import time
from core.refine.executor import ProcessPoolExecutor
def spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
if __name__ == "__main__":
    with ProcessPoolExecutor(2) as pool:
        print("POOL", flush=True)
        list(pool.map_ordered(spin, [60, 60]))
"""


def test_pool_workers_exit_when_the_pool_owner_is_killed(tmp_path):
    script = tmp_path / "pool_owner.py"
    script.write_text(POOL_OWNER)
    owner = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert owner.stdout.readline().strip() == "POOL"
        workers = _wait_until(lambda: _pool_started(owner.pid), 30, "the pool's worker processes")
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        owner.stdout.close()
    assert _wait_gone(workers, timeout_s=5) < 5
