import threading
import time

import pytest
from principals import as_admin

from core import auth
from core.store import jobs


@jobs.job_function("test_count")
def _count_job(ctx, params):
    for i in range(params["n"]):
        ctx.progress((i + 1) / params["n"], f"step {i + 1}")
        ctx.log(f"did step {i + 1}")
        ctx.check_cancelled()
        time.sleep(params.get("sleep", 0))
    return {"steps": params["n"]}


@jobs.job_function("test_crash")
def _crash_job(ctx, params):
    ctx.log("about to fail")
    raise ValueError("the input file has no header row")


def test_background_job_runs_off_the_calling_thread_and_records_result(workbench):
    caller = threading.get_ident()
    seen = {}

    @jobs.job_function("test_thread")
    def _where(ctx, params):
        seen["thread"] = threading.get_ident()
        return {}

    job = jobs.wait_for(jobs.submit("test_thread", None, as_admin()), timeout_s=20)
    assert job["status"] == "succeeded" and seen["thread"] != caller
    done = jobs.wait_for(jobs.submit("test_count", {"n": 3}, as_admin()), timeout_s=20)
    assert done["status"] == "succeeded" and done["result"] == {"steps": 3} and done["progress"] == 1.0
    assert "did step 3" in jobs.get_job(as_admin(), done["id"])["log"]


def test_a_crash_marks_the_job_failed_with_the_error(workbench):
    job = jobs.wait_for(jobs.submit("test_crash", None, as_admin()), timeout_s=20)
    assert job["status"] == "failed"
    assert job["error"] == "ValueError: the input file has no header row"
    assert "Traceback" in jobs.get_job(as_admin(), job["id"])["log"]


def test_cancel_request_stops_a_running_job(workbench):
    job_id = jobs.submit("test_count", {"n": 200, "sleep": 0.02}, as_admin())
    time.sleep(0.3)
    jobs.request_cancel(as_admin(), job_id)
    job = jobs.wait_for(job_id, timeout_s=20)
    assert job["status"] == "failed" and "Stopped" in job["error"]


def test_foreground_run_is_the_same_function(workbench):
    lines = []
    outcome = jobs.run_foreground("test_count", {"n": 2}, as_admin(), echo=lines.append)
    assert outcome["status"] == "succeeded" and "did step 2" in lines


def test_job_left_running_by_a_dead_process_is_marked_failed(workbench):
    from core.store.models import Job
    from core.store.sql import session_scope

    with session_scope() as session:
        ghost = Job(kind="test_count", status="running", owner_pid=2**22 + 12345)
        session.add(ghost)
        session.flush()
        ghost_id = ghost.id
    assert jobs.fail_orphaned_jobs() >= 1
    assert jobs.get_job(as_admin(), ghost_id)["status"] == "failed"
    assert "Interrupted" in jobs.get_job(as_admin(), ghost_id)["error"]


def test_unknown_job_kind_is_refused(workbench):
    with pytest.raises(ValueError, match="Unknown job kind"):
        jobs.submit("no_such_job", None, as_admin())


def test_sign_up_hashes_with_argon2_and_refuses_bad_input(workbench):
    from sqlmodel import select

    from core.store.models import User
    from core.store.sql import session_scope

    auth.sign_up("Mia@Example.org", "a long enough secret", "Mia", "buyer")
    with session_scope() as session:
        stored = session.exec(select(User).where(User.email == "mia@example.org")).one()
    assert stored.password_hash.startswith("$argon2id$")
    with pytest.raises(auth.AuthError, match="already exists"):
        auth.sign_up("mia@example.org", "a long enough secret", "Mia", "buyer")
    with pytest.raises(auth.AuthError, match="at least"):
        auth.sign_up("x@example.org", "short", "X", "buyer")
    with pytest.raises(auth.AuthError, match="valid email"):
        auth.sign_up("not-an-email", "a long enough secret", "X", "buyer")
    with pytest.raises(auth.PermissionDenied):
        auth.sign_up("root@example.org", "a long enough secret", "R", "admin")
    with pytest.raises(auth.AuthError, match="wrong"):
        auth.authenticate("mia@example.org", "not the password")


def test_demo_accounts_only_on_loopback_and_cannot_sign_in_by_password(workbench):
    assert auth.demo_login_allowed("localhost") and auth.demo_login_allowed("127.0.0.1")
    assert not auth.demo_login_allowed("0.0.0.0") and not auth.demo_login_allowed(None)
    demo = auth.demo_principal("buyer")
    assert demo.is_demo and demo.role == "buyer" and auth.demo_principal("buyer") == demo
    with pytest.raises(auth.AuthError):
        auth.authenticate(demo.email, "!demo")


def test_role_checks(workbench):
    buyer = auth.Principal(1, "b@x.io", "B", "buyer")
    assert auth.require_role(buyer, "buyer", "admin") is buyer
    with pytest.raises(auth.PermissionDenied, match="Only a supplier or admin can list"):
        auth.require_role(buyer, "supplier", "admin", action="list")
    with pytest.raises(auth.PermissionDenied, match="Sign in"):
        auth.require_role(None, "buyer")
