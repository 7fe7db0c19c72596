"""The one scheduler thread: every application's tick runs, a failing tick neither stops the loop nor the others."""

import time

from core.scheduler import TICKS, Scheduler, _resolve


def test_every_tick_runs_and_one_failure_does_not_stop_the_others():
    calls = []

    def broken():
        raise RuntimeError("store busy")

    scheduler = Scheduler(poll_seconds=0.05, ticks={"broken": broken, "fine": lambda: calls.append(1) or [7, 8]})
    scheduler.start()
    deadline = time.monotonic() + 5
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    scheduler.stop()
    assert len(calls) >= 3 and scheduler.submitted >= 6
    assert scheduler.error_of("broken") == "RuntimeError: store busy" and scheduler.error_of("fine") is None
    assert not scheduler.running


def test_the_registered_ticks_are_the_applications_due_functions():
    for target in TICKS.values():
        assert callable(_resolve(target))
