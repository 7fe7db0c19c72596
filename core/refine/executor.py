"""Executors run a pure function over batches and yield the results in submission order.

The pipeline only needs `map_ordered(fn, tasks)`; an in-process loop, a local process pool and a
Dask client all provide it, so moving to a cluster is a new executor class, not a pipeline rewrite
(a Dask executor would `client.map(fn, tasks)` and yield `future.result()` in order).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from typing import Any, Callable, Iterable, Iterator

from core.store.processes import pid_alive

PARENT_WATCH_INTERVAL_S = 0.25
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class Executor(ABC):
    """Runs `fn(task)` for every task; results come back in task order (so runs are deterministic)."""

    workers: int = 1

    @abstractmethod
    def map_ordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        """Yield fn(task) for each task, in order. An exception in fn is raised here, at its task."""

    def close(self) -> None:  # noqa: B027 - optional hook: executors without workers have nothing to release
        """Release workers; the executor cannot be used afterwards."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class InProcessExecutor(Executor):
    """Runs every task in the calling process: simplest to debug, no pickling."""

    def map_ordered(self, fn, tasks):
        for task in tasks:
            yield fn(task)


def exit_with_pool_owner(owner_pid: int) -> None:
    """Worker initializer: a worker never outlives the process that owns its pool.

    Without it, a pool owner killed with SIGKILL leaves its workers computing (hundreds of MB each)
    for minutes. On Linux the kernel kills the worker when its parent dies (PR_SET_PDEATHSIG); a
    daemon thread also exits the worker when its parent changes or the owner is gone, which covers
    other platforms and the fork server standing between the owner and its workers.
    """
    parent = os.getppid()
    _ask_kernel_to_kill_us_with_parent()
    if os.getppid() != parent or not pid_alive(owner_pid):  # died before the request took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent and pid_alive(owner_pid):
            time.sleep(PARENT_WATCH_INTERVAL_S)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-pool-owner", daemon=True).start()


def _ask_kernel_to_kill_us_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):  # no usable libc: the watcher thread still ends the worker
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class ProcessPoolExecutor(Executor):
    """A local process pool (2 workers suit this machine), with a bounded number of tasks in flight.

    Bounding keeps memory flat: at most `workers * prefetch` batches are pickled and waiting at once,
    whatever the dataset size. Workers start with "forkserver", not "fork": the app runs threads
    (Streamlit, job runners), and forking a threaded process can copy a held lock into the child.
    """

    def __init__(self, workers: int = 2, prefetch: int = 2, start_method: str = "forkserver"):
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self._prefetch = max(1, prefetch)
        context = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            # Imported once in the fork server, so each worker starts with the signal modules loaded.
            context.set_forkserver_preload(["core.refine.pipeline"])
        self._pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                                            initializer=exit_with_pool_owner,
                                                            initargs=(os.getpid(),))

    def map_ordered(self, fn, tasks):
        in_flight: deque[concurrent.futures.Future] = deque()
        limit = self.workers * self._prefetch
        try:
            for task in tasks:
                in_flight.append(self._pool.submit(fn, task))
                if len(in_flight) >= limit:
                    yield in_flight.popleft().result()
            while in_flight:
                yield in_flight.popleft().result()
        finally:
            for future in in_flight:
                future.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def make_executor(workers: int | None) -> Executor:
    """In-process for 1 worker (or None), a process pool otherwise."""
    return ProcessPoolExecutor(workers) if workers and workers > 1 else InProcessExecutor()
