"""The data directory, the database with its WAL files, the key file and backups are private
to the server's user (0700 / 0600), whatever the umask; an older, looser install is tightened."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterator

import pytest

from modelpilot import cli
from modelpilot.ops.backup import list_backups
from tests.pg_support import BACKEND
from tests.support import Api, make_settings, start_server

# On Postgres the database lives on its server: the data dir keeps the key file and the lock.
DB_FILES = ["modelpilot.db", "modelpilot.db-wal"] if BACKEND == "sqlite" else []
SQLITE_ONLY = pytest.mark.skipif(BACKEND == "postgres", reason="file backups are SQLite's; Postgres has pg_dump/PITR")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The common default (files 0644, directories 0755), so the test shows what users get."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def assert_private(data_dir: Path, names: list[str]) -> None:
    assert mode(data_dir) == 0o700, oct(mode(data_dir))
    for name in names:
        path = data_dir / name
        assert path.exists(), f"{name} was expected in the data dir"
        assert mode(path) == 0o600, f"{name} is {oct(mode(path))}"


def test_a_new_instance_keeps_its_data_private(server_factory) -> None:
    live = server_factory()
    with Api(live.url) as owner:
        owner.setup_owner()
        owner.add_provider(owner.ws)  # seals a key: the key file is generated now
        data_dir = live.settings.data_dir
        shm = ["modelpilot.db-shm"] if BACKEND == "sqlite" else []
        assert_private(data_dir, [*DB_FILES, *shm, "secret.key", "modelpilot.lock"])


def test_an_existing_loose_instance_is_tightened_on_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "old"
    first = start_server(make_settings(data_dir))
    with Api(first.url) as owner:
        owner.setup_owner()
        owner.add_provider(owner.ws)
    first.stop()
    os.chmod(data_dir, 0o755)
    for path in data_dir.iterdir():
        if path.is_file():
            os.chmod(path, 0o644)
    again = start_server(make_settings(data_dir, database_url=first.settings.database_url))
    try:
        with Api(again.url) as owner:
            owner.login("owner@example.com")
            owner.ok("POST", "/api/v1/workspaces", json={"name": "After"})
        assert_private(data_dir, [*DB_FILES, "secret.key"])
    finally:
        again.stop()


@SQLITE_ONLY
def test_backups_and_their_key_copies_are_private(server, owner, tmp_path: Path) -> None:
    owner.add_provider(owner.ws)
    target = tmp_path / "backups"
    assert cli.main(["backup", str(target), "--data-dir", str(server.settings.data_dir)]) == 0
    [backup] = list_backups(target)
    assert mode(target) == 0o700
    for path in (backup, Path(str(backup) + ".secret.key"), Path(str(backup) + ".sha256")):
        assert mode(path) == 0o600, f"{path.name} is {oct(mode(path))}"


@SQLITE_ONLY
def test_a_restored_database_is_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    live = start_server(make_settings(data_dir))
    with Api(live.url) as owner:
        owner.setup_owner()
    live.stop()
    backups = tmp_path / "b"
    assert cli.main(["backup", str(backups), "--data-dir", str(data_dir)]) == 0
    [backup] = list_backups(backups)
    os.chmod(backup, 0o644)  # copied around by hand, say
    assert cli.main(["restore", str(backup), "--data-dir", str(data_dir)]) == 0
    assert mode(data_dir / "modelpilot.db") == 0o600
    moved = [p for p in data_dir.iterdir() if p.name.startswith("pre-restore-")]
    assert moved and all(mode(p) == 0o700 for p in moved)
