"""Smoke test of the built one-file executable: what a self-hoster does after downloading it.

Skipped when dist/modelpilot has not been built (`./scripts/build-binary`; `.ci/run` builds it
first). Every run of the binary has proxies pointing at a closed port (see runner.py).
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest
import sqlean

from modelpilot.cli import COMMANDS
from tests.binary.runner import RunningBinary, run_command, skip_unless_testable
from tests.support import PASSWORD, Api

pytestmark = skip_unless_testable()


def read_db(data_dir: Path, sql: str) -> list[tuple]:
    conn = sqlean.connect(str(data_dir / "modelpilot.db"))
    try:
        return [tuple(row) for row in conn.execute(sql).fetchall()]
    finally:
        conn.close()


def assert_closed_cleanly(running: RunningBinary, data_dir: Path) -> None:
    """SIGTERM ends the server after its shutdown ran, with the WAL checkpointed into the database.

    uvicorn re-raises the signal once it has shut down, so the exit is "terminated by SIGTERM",
    which service managers (systemd, Docker) count as a clean stop, like status 0.
    """
    assert running.terminate() in (0, -signal.SIGTERM), running.output
    assert "Application shutdown complete" in running.output
    wal = data_dir / "modelpilot.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0, f"WAL left with {wal.stat().st_size} bytes"
    assert "database closed cleanly" in running.output
    assert not running.proxy_trap.requests, f"the binary tried to reach the network: {running.proxy_trap.requests}"


def test_cli_commands_work_from_the_binary(tmp_path: Path) -> None:
    version = run_command(["--version"], tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("modelpilot ")

    usage = run_command(["--help"], tmp_path)
    assert usage.returncode == 0 and "MODELPILOT_DATA_DIR" in usage.stdout
    for name in COMMANDS:  # every command of the source tree is in the binary
        assert name in usage.stdout
        helped = run_command([name, "--help"], tmp_path)
        assert helped.returncode == 0 and helped.stdout.startswith("usage: modelpilot " + name), helped.stderr

    data = tmp_path / "data"
    migrated = run_command(["migrate", "--data-dir", str(data)], tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.startswith("applied: 0001_foundation")

    admin = run_command(["create-admin", "--email", "root@example.com", "--password-stdin", "--data-dir", str(data)],
                        tmp_path, stdin=PASSWORD + "\n")
    assert admin.returncode == 0, admin.stderr
    assert read_db(data, "SELECT email FROM users") == [("root@example.com",)]

    again = run_command(["migrate"], tmp_path, MODELPILOT_DATA_DIR=str(data))
    assert again.stdout.strip() == "database is up to date"

    bad = run_command(["serve", "--port", "not-a-port"], tmp_path)
    assert bad.returncode == 2 and "MODELPILOT_PORT" in bad.stderr


def test_first_start_setup_login_and_clean_shutdown(tmp_path: Path) -> None:
    data_dir = tmp_path / "modelpilot-data"  # the default next to where the binary runs
    with RunningBinary(tmp_path) as running:
        running.wait_healthy()
        assert "First start: open" in running.output
        health = Api(running.url).ok("GET", "/healthz")
        assert health["status"] == "ok" and health["db"] == "ok"

        with Api(running.url) as first:
            first.setup_owner(email="owner@example.com", workspace_name="Acme")
        with Api(running.url) as second:
            second.login("owner@example.com")
            assert [ws["name"] for ws in second.workspaces] == ["Acme"]
            second.ok("POST", "/api/v1/workspaces", json={"name": "Second"})
        assert_closed_cleanly(running, data_dir)

    names = sorted(row[0] for row in read_db(data_dir, "SELECT name FROM workspaces"))
    assert names == ["Acme", "Second"]

    with RunningBinary(tmp_path) as restarted:
        restarted.wait_healthy()
        assert "First start" not in restarted.output
        with Api(restarted.url) as again:
            again.login("owner@example.com")
            assert sorted(ws["name"] for ws in again.workspaces) == ["Acme", "Second"]
        assert_closed_cleanly(restarted, data_dir)


@pytest.mark.skipif(sys.platform == "win32", reason="PyInstaller's own one-file mode there")
def test_the_first_start_unpacks_the_program_once_and_later_starts_run_it(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = run_command(["--version"], tmp_path, MODELPILOT_BINARY_CACHE=str(cache))
    assert first.returncode == 0 and first.stdout.startswith("modelpilot "), first.stderr
    (version,) = cache.iterdir()
    program = version / "modelpilot" / "modelpilot"
    assert program.is_file() and (version / "modelpilot" / "_internal").is_dir()
    inode = program.stat().st_ino
    later = run_command(["--version"], tmp_path, MODELPILOT_BINARY_CACHE=str(cache))
    assert later.stdout == first.stdout
    assert program.stat().st_ino == inode and list(cache.iterdir()) == [version]  # run, not unpacked again
