"""Process checks shared by the embedded server manager, the job runner and start-up recovery."""

from __future__ import annotations

import os
import re


def pid_alive(pid: int) -> bool:
    """True when a process with this id exists (signal 0 checks without touching it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A killed process stays listed until its parent reaps it; on Linux /proc tells it is dead."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


# Temporary files and staging directories carry the writing process's id in their name
# (".data.parquet.pid1234.x8k2.part"), so start-up can tell the leftovers of a killed process from the
# files a live job in another process is writing right now.
_TEMP_OWNER = re.compile(r"\.pid(\d+)\.")
# In this process, a pid match alone proves nothing (the id of a killed process is reused after a
# restart, in containers often at once), so this process also remembers what it is writing now.
_in_progress: set[str] = set()


def temp_owner_tag() -> str:
    """The tag that marks a temporary name as written by this process."""
    return f"pid{os.getpid()}"


def temp_owner_pid(name: str) -> int | None:
    tags = _TEMP_OWNER.findall(name)  # the last tag is ours: the file's own name may hold ".pidN." too
    return int(tags[-1]) if tags else None


def _work_key(key: str | os.PathLike) -> str:
    return os.path.abspath(key) if isinstance(key, os.PathLike) else key  # one spelling per path


def mark_in_progress(key: str | os.PathLike) -> None:
    """Record that this process is writing `key` (a temp path, or a work id such as 'package:12')."""
    _in_progress.add(_work_key(key))


def mark_done(key: str | os.PathLike) -> None:
    _in_progress.discard(_work_key(key))


def held_by_live_process(pid: int | None, key: str | os.PathLike) -> bool:
    """True when process `pid` may still be working on `key`: it is this process and the work is in
    progress here, or it is another process that is still alive."""
    if pid is None:
        return False
    if pid == os.getpid():
        return _work_key(key) in _in_progress
    return pid_alive(pid)
