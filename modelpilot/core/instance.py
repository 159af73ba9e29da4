"""A lock file in the data directory, held while a server runs on it.

`modelpilot restore` must never swap the database under a live server, and two servers on
one data directory would fight over the database. flock() locks are dropped by the kernel when
the process ends, however it ends (kill -9 included), so a crash never leaves a stale lock.
"""

from __future__ import annotations

import os
from pathlib import Path

from modelpilot.core.private import private_dir

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks here, run one instance
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = "modelpilot.lock"


class InstanceRunning(RuntimeError):
    def __init__(self, data_dir: Path, pid: int | None) -> None:
        who = f"pid {pid}" if pid else "another process"
        super().__init__(f"a ModelPilot server ({who}) is running on {data_dir}")
        self.pid = pid


class InstanceLock:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> "InstanceLock":
        """Take the lock or raise InstanceRunning; records our pid in the file."""
        private_dir(self.data_dir)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                pid = _read_pid(fd)
                os.close(fd)
                raise InstanceRunning(self.data_dir, pid) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        # Empty the pid first: the file stays (removing it would race a new owner's open).
        os.ftruncate(self._fd, 0)
        if fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> "InstanceLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


def running_pid(data_dir: Path) -> int | None:
    """The pid of a server running on data_dir (0 if unknown), or None when none runs."""
    try:
        with InstanceLock(data_dir):
            return None
    except InstanceRunning as exc:
        return exc.pid or 0

