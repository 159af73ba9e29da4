"""Run the built executable (dist/modelpilot) as a user would, for the smoke test and bench/binary.py.

The binary runs in a child process with a clean environment whose proxy variables point at a
local port that drops every connection at once (as a closed port would) and counts them: a
fetch from the internet fails there, and even a fetch whose failure the code tolerates (a
price map with a local fallback) is seen. 127.0.0.1 stays direct (NO_PROXY) for the fake LLM.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "dist" / ("modelpilot.exe" if sys.platform == "win32" else "modelpilot")
URL_LINE = re.compile(r" on (http://\S+)")


def why_not_testable() -> str | None:
    """Why the binary tests must skip (not built, or older than the source it was built from), or
    None. A stale binary would fail them for reasons that say nothing about the code at hand."""
    if not BINARY.exists():
        return f"dist/{BINARY.name} not built: run ./scripts/build-binary (CI does)"
    built = BINARY.stat().st_mtime
    for folder in ("modelpilot", "web", "widget", "packaging"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.stat().st_mtime > built \
                    and not path.is_relative_to(ROOT / "modelpilot" / "static"):
                return f"dist/{BINARY.name} is older than {path.relative_to(ROOT)}: run ./scripts/build-binary"
    return None


def skip_unless_testable():
    """The pytest mark for binary tests. With MP_REQUIRE_BINARY set (.ci/run, right after the
    build) a reason to skip is an error instead: CI must never pass without testing the binary."""
    import pytest

    reason = why_not_testable()
    if reason and os.environ.get("MP_REQUIRE_BINARY"):
        raise RuntimeError(reason)
    return pytest.mark.skipif(reason is not None, reason=str(reason))


class ProxyTrap:
    """Stands in for every proxy: accepts each connection, keeps the first line the client sent
    (`CONNECT host:443 ...` or `GET http://...`: what it wanted to reach) and closes it."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.requests: list[str] = []
        threading.Thread(target=self._refuse, daemon=True).start()

    def _refuse(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return  # closed
            conn.settimeout(2)
            try:
                first_line = conn.recv(512).split(b"\r\n", 1)[0].decode("latin-1")
            except OSError:
                first_line = "(nothing sent)"
            self.requests.append(first_line)
            conn.close()

    @property
    def attempts(self) -> int:
        return len(self.requests)

    def close(self) -> None:
        self._sock.close()


def offline_env(proxy_url: str, **extra: str) -> dict[str, str]:
    """The child's environment: no MODELPILOT_* from the caller, every proxy set to proxy_url."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MODELPILOT_") and k.upper() not in {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = env[name.lower()] = proxy_url
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    # The binary must not depend on these being set by the caller (tests/conftest.py sets them).
    env.pop("LITELLM_OFFLINE_MODE", None)
    env.pop("HF_HUB_OFFLINE", None)
    env.update(extra)
    return env


def run_command(args: list[str], cwd: Path, stdin: str = "", timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    """One CLI command of the binary, to completion; it must not have tried to reach the network."""
    trap = ProxyTrap()
    try:
        done = subprocess.run([str(BINARY), *args], cwd=cwd, input=stdin, capture_output=True, text=True,
                              timeout=timeout, env=offline_env(trap.url, **env))
    finally:
        trap.close()
    assert not trap.requests, f"`modelpilot {' '.join(args)}` tried to reach the network: {trap.requests}"
    return done


class RunningBinary:
    """`dist/modelpilot [args]` serving in the background; output is collected as it comes."""

    def __init__(self, cwd: Path, args: list[str] | None = None, **env: str) -> None:
        self.proxy_trap = ProxyTrap()
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            [str(BINARY), *(args if args is not None else ["--port", "0"])], cwd=cwd,
            env=offline_env(self.proxy_trap.url, **env),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
        )
        self.lines: list[str] = []
        self._url_seen = threading.Event()
        self.url = ""
        threading.Thread(target=self._collect_output, daemon=True).start()

    def _collect_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            match = URL_LINE.search(line)
            if match and not self.url:
                self.url = match.group(1)
                self._url_seen.set()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_healthy(self, timeout: float = 90) -> float:
        """Seconds from launch until /healthz answers ok."""
        deadline = self.started_at + timeout
        if not self._url_seen.wait(timeout):
            raise AssertionError(f"binary printed no URL within {timeout}s:\n{self.output}")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"binary exited with {self.process.returncode}:\n{self.output}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2, trust_env=False).status_code == 200:
                    return time.monotonic() - self.started_at
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise AssertionError(f"/healthz not ok within {timeout}s:\n{self.output}")

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM (what service managers send) and wait for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"binary ignored SIGTERM for {timeout}s:\n{self.output}") from None

    def cpu_seconds(self) -> float:
        """User + system CPU time the bootloader and the Python process have used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(value) for value in fields[11:15])  # utime, stime, and its ended children's (unpacking)
        return total / ticks

    def pids(self) -> list[int]:
        """The server's process, and its children (PyInstaller's one-file bootloader, on Windows,
        starts the Python process as its child)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        found = [self.process.pid]
        if children.exists():
            found += [int(pid) for pid in children.read_text().split()]
        return found

    def __enter__(self) -> "RunningBinary":
        return self

    def kill(self) -> None:
        """SIGKILL any child as well: a one-file bootloader cannot forward a SIGKILL."""
        for pid in reversed(self.pids()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(10)

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.kill()
        self.proxy_trap.close()
