"""Backups while the server runs, restore (refused while it runs), checksums, rotation."""

from __future__ import annotations

import asyncio
import os
import stat
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from modelpilot import cli
from modelpilot.core.db import connect_sync
from modelpilot.core.database import connect_sync_for
from modelpilot.ops.backup import create_backup, integrity_check, list_backups, rotate_backups
from modelpilot.ops.service import backup_due, scheduled_backup
from tests.pg_support import BACKEND
from tests.support import Api, eventually, make_settings, start_server

# These back up and restore the SQLite file; on Postgres `modelpilot backup`/`restore` refuse and
# point to Postgres's own tools (tests/ops/test_copy_db.py checks that on every run).
sqlite_files = pytest.mark.skipif(BACKEND == "postgres", reason="SQLite file backups; on Postgres backups "
                                  "are Postgres's own (pg_dump, PITR)")


def workspace_names(db_path: Path) -> set[str]:
    conn = connect_sync(db_path, readonly=True)
    try:
        return {row[0] for row in conn.execute("SELECT name FROM workspaces")}
    finally:
        conn.close()


def run_cli(*argv: str) -> int:
    return cli.main(list(argv))


@sqlite_files
def test_backup_while_writes_go_on_is_consistent(server, owner, tmp_path) -> None:
    data_dir = server.settings.data_dir
    (data_dir / "secret.key").write_bytes(b"k" * 44)
    stop = threading.Event()
    created: list[str] = []

    def keep_writing() -> None:
        writer = Api(server.url)
        writer.login("owner@example.com")
        while not stop.is_set():
            name = f"ws-{len(created)}"
            writer.ok("POST", "/api/v1/workspaces", json={"name": name})
            created.append(name)
        writer.close()

    thread = threading.Thread(target=keep_writing)
    thread.start()
    eventually(lambda: len(created), lambda count: count >= 5, timeout=60, interval=0.01, what="five workspaces written")
    before = set(created)
    assert run_cli("backup", str(tmp_path / "b"), "--data-dir", str(data_dir)) == 0
    stop.set()
    thread.join()
    [backup] = list_backups(tmp_path / "b")
    assert integrity_check(backup) == "ok"
    names = workspace_names(backup)
    assert before <= names and "Acme" in names
    assert names <= {"Acme", *created}
    key = backup.with_name(backup.name + ".secret.key")
    assert key.read_bytes() == b"k" * 44 and stat.S_IMODE(key.stat().st_mode) == 0o600
    sums = backup.with_name(backup.name + ".sha256").read_text()
    assert backup.name in sums and key.name in sums


@sqlite_files
def test_restore_is_refused_while_the_server_runs(server, owner, tmp_path, capsys) -> None:
    data_dir = server.settings.data_dir
    assert run_cli("backup", str(tmp_path / "b.db"), "--data-dir", str(data_dir)) == 0
    assert run_cli("restore", str(tmp_path / "b.db"), "--data-dir", str(data_dir)) == 1
    assert "running" in capsys.readouterr().err
    assert owner.get("/api/v1/auth/me").status_code == 200


@sqlite_files
def test_restore_brings_back_the_backed_up_state(tmp_path, capsys) -> None:
    settings = make_settings(tmp_path / "data")
    live = start_server(settings)
    api = Api(live.url)
    api.setup_owner()
    api.ok("POST", "/api/v1/workspaces", json={"name": "Before backup"})
    assert run_cli("backup", str(tmp_path / "b.db"), "--data-dir", str(settings.data_dir)) == 0
    api.ok("POST", "/api/v1/workspaces", json={"name": "After backup"})
    api.close()
    live.stop()

    assert run_cli("restore", str(tmp_path / "b.db"), "--data-dir", str(settings.data_dir)) == 0
    out = capsys.readouterr().out
    assert "integrity_check: ok" in out and "moved aside" in out
    live = start_server(settings)
    try:
        api = Api(f"http://127.0.0.1:{live.settings.port}")
        names = {w["name"] for w in api.login("owner@example.com")["workspaces"]}
        assert names == {"Acme", "Before backup"}
        api.close()
    finally:
        live.stop()
    [aside] = [p for p in settings.data_dir.iterdir() if p.name.startswith("pre-restore-")]
    assert "After backup" in workspace_names(aside / "modelpilot.db")


@pytest.mark.parametrize("damage", ["tamper", "no_checksum", "missing_file"])
def test_a_damaged_backup_is_refused_and_nothing_changes(tmp_path, capsys, damage) -> None:
    data_dir = tmp_path / "data"
    db_path = data_dir / "modelpilot.db"
    data_dir.mkdir()
    conn = connect_sync(db_path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES ('live')")
    conn.close()
    backup = create_backup(db_path, data_dir, tmp_path / "b.db").db_file
    if damage == "tamper":
        with open(backup, "r+b") as handle:
            handle.seek(200)
            handle.write(b"\xff")
    elif damage == "no_checksum":
        backup.with_name(backup.name + ".sha256").unlink()
    else:
        backup.unlink()
    before = db_path.read_bytes()
    assert run_cli("restore", str(backup), "--data-dir", str(data_dir)) == 1
    assert "restore failed" in capsys.readouterr().err
    assert db_path.read_bytes() == before
    assert not [p for p in data_dir.iterdir() if p.name.startswith(("pre-restore-", "modelpilot.db.restoring"))]


@sqlite_files
def test_backup_refuses_to_overwrite_a_file(tmp_path, capsys) -> None:
    settings = make_settings(tmp_path / "data")
    settings.data_dir.mkdir()
    connect_sync_for(settings).close()
    (tmp_path / "taken.db").write_text("precious")
    assert run_cli("backup", str(tmp_path / "taken.db"), "--data-dir", str(settings.data_dir)) == 1
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "taken.db").read_text() == "precious"


def test_rotation_keeps_the_newest(tmp_path) -> None:
    db_path = tmp_path / "modelpilot.db"
    connect_sync(db_path).close()
    made = [create_backup(db_path, tmp_path, tmp_path / "backups", now=1_700_000_000 + day * 86400).db_file
            for day in range(4)]
    removed = rotate_backups(tmp_path / "backups", keep=2)
    assert removed == made[:2]
    assert list_backups(tmp_path / "backups") == made[2:]
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == sorted(
        [made[2].name, made[2].name + ".sha256", made[3].name, made[3].name + ".sha256"])


@sqlite_files
def test_a_backup_is_due_by_the_age_of_the_newest(tmp_path) -> None:
    settings = make_settings(tmp_path / "data", backup_interval_hours=24)
    settings.data_dir.mkdir()
    connect_sync_for(settings).close()
    assert backup_due(settings)
    newest = create_backup(settings.db_path, settings.data_dir, settings.backups_path).db_file
    assert not backup_due(settings)
    day_old = time.time() - 86400
    os.utime(newest, (day_old, day_old))
    assert backup_due(settings)
    assert not backup_due(replace(settings, backup_interval_hours=0))


def test_a_second_server_on_the_same_data_dir_does_not_start(server, capsys) -> None:
    with pytest.raises(RuntimeError):
        start_server(replace(server.settings, port=0))
    assert run_cli("serve", "--data-dir", str(server.settings.data_dir), "--port", "0") == 1
    assert "already using" in capsys.readouterr().err
    assert Api(server.url).get("/healthz").status_code == 200


@sqlite_files
def test_the_scheduled_backup_runs_when_due_and_keeps_the_newest(tmp_path) -> None:
    settings = make_settings(tmp_path / "data", backup_interval_hours=24, backup_keep=2)
    settings.data_dir.mkdir()
    connect_sync_for(settings).close()
    old = [create_backup(settings.db_path, settings.data_dir, settings.backups_path, now=1_700_000_000 + d * 86400)
           .db_file for d in range(2)]
    for path in old:
        os.utime(path, (1_700_000_000, 1_700_000_000))
    asyncio.run(scheduled_backup(settings))
    kept = list_backups(settings.backups_path)
    assert len(kept) == 2 and old[0] not in kept and old[1] in kept
    asyncio.run(scheduled_backup(settings))  # the newest is fresh now: nothing to do
    assert list_backups(settings.backups_path) == kept
