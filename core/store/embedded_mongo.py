"""The embedded MongoDB-wire-protocol server used when MONGODB_URI is unset.

`nx-27017` (SQLite underneath) runs as a child process on a free loopback port
with its files in DATA_DIR/mongo. One server serves every Streamlit session and
rerun of a process; a second process (the CLI beside a running app) finds it
through a small state file and reuses it instead of opening the same SQLite
files twice. The process that started it stops it at exit.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pymongo
from pymongo.errors import PyMongoError

from core.store.processes import pid_alive

START_TIMEOUT_S = 30.0


class EmbeddedMongoError(RuntimeError):
    """The embedded server could not be started or reached."""


@dataclass
class EmbeddedServer:
    port: int
    pid: int
    owned: bool  # started by this process, so this process stops it

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]



def _answers_ping(port: int, timeout_ms: int = 1500) -> bool:
    client = pymongo.MongoClient(
        "127.0.0.1", port, directConnection=True, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


class EmbeddedMongoManager:
    def __init__(self, mongo_dir: Path):
        self.mongo_dir = mongo_dir
        self.state_file = mongo_dir / "server.json"
        self.lock_file = mongo_dir / "server.lock"
        self.log_file = mongo_dir / "server.log"
        self._server: EmbeddedServer | None = None
        self._process: subprocess.Popen | None = None

    def ensure_running(self) -> EmbeddedServer:
        if self._server and pid_alive(self._server.pid):
            return self._server
        self.mongo_dir.mkdir(parents=True, exist_ok=True)
        # The lock stops two processes (app + CLI) from starting servers on the same files at once.
        with open(self.lock_file, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                server = self._reuse_existing() or self._start()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        self._server = server
        return server

    def _reuse_existing(self) -> EmbeddedServer | None:
        try:
            state = json.loads(self.state_file.read_text())
            port, pid = int(state["port"]), int(state["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if pid_alive(pid) and _answers_ping(port):
            return EmbeddedServer(port=port, pid=pid, owned=pid == (self._process.pid if self._process else -1))
        return None

    def _start(self) -> EmbeddedServer:
        port = _free_port()
        args = [
            sys.executable, "-c", "import sys; from nx_27017 import main; sys.exit(main())",
            "--data-dir", str(self.mongo_dir / "databases"),
            "--host", "127.0.0.1", "--port", str(port),
            "--log-file", str(self.log_file),
            "--pid-file", str(self.mongo_dir / "nx.pid"),
        ]
        (self.mongo_dir / "databases").mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            self._process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C in the terminal reaches us first; we stop it cleanly
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmbeddedMongoError(
                    f"The embedded MongoDB server exited with code {self._process.returncode}; "
                    f"see {self.log_file}"
                )
            if _answers_ping(port, timeout_ms=500):
                break
            time.sleep(0.1)
        else:
            self._process.kill()
            raise EmbeddedMongoError(f"The embedded MongoDB server did not answer within {START_TIMEOUT_S:.0f} s")
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"port": port, "pid": self._process.pid}))
        os.replace(tmp, self.state_file)
        atexit.register(self.stop)
        return EmbeddedServer(port=port, pid=self._process.pid, owned=True)

    def stop(self) -> None:
        """Stop the server if this process started it (idempotent)."""
        process, self._process, self._server = self._process, None, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        try:
            state = json.loads(self.state_file.read_text())
            if state.get("pid") == process.pid:
                self.state_file.unlink()
        except (OSError, ValueError):
            pass


_managers: dict[Path, EmbeddedMongoManager] = {}


def embedded_manager(mongo_dir: Path) -> EmbeddedMongoManager:
    mongo_dir = mongo_dir.resolve()
    if mongo_dir not in _managers:
        _managers[mongo_dir] = EmbeddedMongoManager(mongo_dir)
    return _managers[mongo_dir]
