"""The data directory and everything in it are for the server's own user only.

The database holds every tenant's conversations, contacts and sealed provider keys; the key
file opens those keys; backups are copies of both. Files default to the process umask (often
0644: readable by every local user), so they are created private and tightened on start.
SQLite gives a database's -wal and -shm files the mode of the database file itself, which is
why the database file is created (empty, 0600) before SQLite first opens it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
DB_COMPANIONS = ("", "-wal", "-shm")
log = logging.getLogger("modelpilot.private")


def _chmod(path: Path, mode: int) -> None:
    try:
        os.chmod(path, mode)
    except PermissionError:
        log.warning("cannot make %s private (mode %o): it belongs to another user", path, mode)


def private_dir(path: Path) -> Path:
    """Create the directory (and missing parents) with mode 0700, or tighten it to 0700."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if path.stat().st_mode & 0o777 != DIR_MODE:
        _chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create the file empty with mode 0600 if it is missing; tighten it to 0600 if not."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    tighten(path)
    return path


def tighten(path: Path) -> None:
    """Mode 0600 for an existing file; a missing one is left missing."""
    path = Path(path)
    if path.exists() and path.stat().st_mode & 0o777 != FILE_MODE:
        _chmod(path, FILE_MODE)


def private_database(db_path: Path) -> None:
    """The database file (created 0600 before SQLite opens it) and its WAL companions."""
    private_dir(Path(db_path).parent)
    private_file(db_path)
    for suffix in DB_COMPANIONS[1:]:
        tighten(Path(str(db_path) + suffix))


def secure_data_dir(data_dir: Path) -> None:
    """On start: the directory 0700 and every file directly in it 0600, whatever made them."""
    private_dir(data_dir)
    for entry in Path(data_dir).iterdir():
        if entry.is_file() and not entry.is_symlink():
            tighten(entry)
