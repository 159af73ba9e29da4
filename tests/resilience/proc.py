"""`modelpilot serve` as a child process, so a test can kill -9 it and start it again."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.pg_support import BACKEND, fresh_database  # noqa: E402

URL_LINE = re.compile(r"on (http://127\.0\.0\.1:\d+)")


def _database_env() -> dict[str, str]:
    """On the Postgres test run, a server process gets a database of its own (kept across its
    restarts, as its data dir is)."""
    if BACKEND != "postgres":
        return {}
    return {"MODELPILOT_DATABASE_URL": fresh_database()}


class ServerProcess:
    def __init__(self, data_dir: Path, log_path: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.env = {**os.environ, "MODELPILOT_DATA_DIR": str(data_dir), "MODELPILOT_PORT": "0",
                    "MODELPILOT_HOST": "127.0.0.1", "LITELLM_OFFLINE_MODE": "true", "HF_HUB_OFFLINE": "1",
                    "MODELPILOT_BACKUP_INTERVAL_HOURS": "0", **_database_env(), **env}
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self, timeout: float = 60) -> str:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "modelpilot", "serve"], env=self.env,
                                     stdout=subprocess.PIPE, stderr=log, cwd=Path(__file__).parents[2])
        log.close()
        deadline = time.monotonic() + timeout
        line = self.proc.stdout.readline().decode()
        match = URL_LINE.search(line)
        if not match:
            self.kill()
            raise RuntimeError(f"server did not print its URL: {line!r}; see {self.log_path}")
        self.url = match.group(1)
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self.url
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"server did not become healthy; see {self.log_path}")

    def kill(self) -> None:
        """kill -9: no shutdown hooks, no checkpoint, no goodbye."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
