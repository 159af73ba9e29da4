"""`modelpilot restore`: put a verified backup in place of the data directory's database.

Order matters: nothing in the data directory changes until the backup's checksums match and a
copy of it passes `PRAGMA integrity_check`; the database it replaces (with its WAL and
shared-memory files, which belong to it) and a different key file are moved aside, not deleted.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from modelpilot.core.instance import InstanceLock, InstanceRunning
from modelpilot.core.private import private_dir, private_file
from modelpilot.ops.backup import KEY_SUFFIX, SECRET_KEY_FILE, BackupError, integrity_check, verify_backup

DB_COMPANIONS = ("", "-wal", "-shm")


@dataclass(frozen=True)
class RestoreResult:
    db_path: Path
    integrity: str
    key_restored: bool
    moved_aside: list[Path]


def restore_backup(db_file: Path, db_path: Path, data_dir: Path) -> RestoreResult:
    db_file, db_path, data_dir = Path(db_file), Path(db_path), Path(data_dir)
    if not db_file.is_file():
        raise BackupError(f"no backup file at {db_file}")
    try:
        lock = InstanceLock(data_dir).acquire()
    except InstanceRunning as exc:
        raise BackupError(f"refusing to restore: {exc}; stop it first") from None
    try:
        return _restore_locked(db_file, db_path, data_dir)
    finally:
        lock.release()


def _restore_locked(db_file: Path, db_path: Path, data_dir: Path) -> RestoreResult:
    verify_backup(db_file)
    staging = db_path.with_name(db_path.name + ".restoring")
    for suffix in DB_COMPANIONS:
        Path(str(staging) + suffix).unlink(missing_ok=True)
    private_file(staging)  # copyfile keeps the mode of an existing target: 0600
    shutil.copyfile(db_file, staging)
    verdict = integrity_check(staging)
    if verdict != "ok":
        for suffix in DB_COMPANIONS:
            Path(str(staging) + suffix).unlink(missing_ok=True)
        raise BackupError(f"the backup fails integrity_check: {verdict}")
    aside_dir = data_dir / time.strftime("pre-restore-%Y%m%dT%H%M%SZ", time.gmtime())
    moved = _move_aside(db_path, aside_dir)
    os.replace(staging, db_path)
    key_restored, key_moved = _restore_key(db_file, data_dir, aside_dir)
    return RestoreResult(db_path, integrity_check(db_path), key_restored, moved + key_moved)


def _move_aside(db_path: Path, aside_dir: Path) -> list[Path]:
    moved = []
    for suffix in DB_COMPANIONS:
        current = Path(str(db_path) + suffix)
        if current.exists():
            private_dir(aside_dir)
            moved.append(Path(shutil.move(str(current), aside_dir / current.name)))
    return moved


def _restore_key(db_file: Path, data_dir: Path, aside_dir: Path) -> tuple[bool, list[Path]]:
    backup_key = db_file.with_name(db_file.name + KEY_SUFFIX)
    if not backup_key.exists():
        return False, []
    current = data_dir / SECRET_KEY_FILE
    moved = []
    if current.exists():
        if current.read_bytes() == backup_key.read_bytes():
            return True, []
        private_dir(aside_dir)
        moved.append(Path(shutil.move(str(current), aside_dir / current.name)))
    fd = os.open(current, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(backup_key.read_bytes())
    return True, moved
