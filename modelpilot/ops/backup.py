"""Online backups with SQLite's backup API, and restore.

A backup is three files side by side:
  modelpilot-20260101T030000Z.db            a consistent snapshot, taken while the server runs
  modelpilot-20260101T030000Z.db.secret.key the key that seals provider API keys (if in a file)
  modelpilot-20260101T030000Z.db.sha256     checksums of both, in `sha256sum -c` format
Without the key, a restored database cannot open its providers' API keys, so it travels along.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import sqlean

from modelpilot.core.db import connect_sync
from modelpilot.core.private import private_dir, private_file

SECRET_KEY_FILE = "secret.key"
BACKUP_PREFIX = "modelpilot-"
KEY_SUFFIX = ".secret.key"
SUM_SUFFIX = ".sha256"


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; the message says why in one line."""


@dataclass(frozen=True)
class BackupResult:
    db_file: Path
    key_file: Path | None
    checksum_file: Path
    size_bytes: int
    seconds: float


def backup_name(now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    return f"{BACKUP_PREFIX}{stamp}.db"


def _target_file(target: Path, now: float | None) -> Path:
    """A directory (existing, or a new name without a file suffix) gets a dated file inside."""
    if target.is_dir() or not target.suffix:
        private_dir(target)
        return target / backup_name(now)
    # A file the operator named: its own mode is made private, a directory they chose is theirs.
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return target


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _snapshot(db_path: Path, destination: Path) -> None:
    """Copy the live database in one backup step: one read transaction, so one consistent state.

    Writers keep going meanwhile (WAL); they just do not show up in this copy.
    """
    source = connect_sync(db_path, readonly=True)
    private_file(destination)  # a copy of every tenant's data: 0600 from its first byte
    target = sqlean.connect(str(destination), isolation_level=None)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def create_backup(db_path: Path, data_dir: Path, target: Path, now: float | None = None) -> BackupResult:
    """Snapshot db_path (and data_dir/secret.key) to target: a file, or a directory to put one in."""
    if not Path(db_path).exists():
        raise BackupError(f"no database at {db_path}")
    started = time.monotonic()
    db_file = _target_file(Path(target), now)
    if db_file.exists():
        raise BackupError(f"{db_file} already exists; choose another path")
    partial = db_file.with_name(db_file.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _snapshot(Path(db_path), partial)
        _fsync(partial)
        os.replace(partial, db_file)
    finally:
        partial.unlink(missing_ok=True)
    key_file = _copy_secret_key(Path(data_dir), db_file)
    checksum_file = _write_checksums(db_file, key_file)
    return BackupResult(db_file, key_file, checksum_file, db_file.stat().st_size, time.monotonic() - started)


def _copy_secret_key(data_dir: Path, db_file: Path) -> Path | None:
    source = data_dir / SECRET_KEY_FILE
    if not source.exists():
        return None
    key_file = db_file.with_name(db_file.name + KEY_SUFFIX)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(source.read_bytes())
    return key_file


def _write_checksums(db_file: Path, key_file: Path | None) -> Path:
    lines = [f"{sha256_of(path)}  {path.name}\n" for path in (db_file, key_file) if path is not None]
    checksum_file = private_file(db_file.with_name(db_file.name + SUM_SUFFIX))
    checksum_file.write_text("".join(lines))
    return checksum_file


def verify_backup(db_file: Path) -> list[Path]:
    """Check every file named in the .sha256 beside db_file; returns those files."""
    checksum_file = db_file.with_name(db_file.name + SUM_SUFFIX)
    if not checksum_file.exists():
        raise BackupError(f"no checksum file {checksum_file.name} beside the backup")
    checked = []
    for line in checksum_file.read_text().splitlines():
        expected, _, name = line.strip().partition("  ")
        path = db_file.with_name(name)
        if not name or "/" in name or not path.exists():
            raise BackupError(f"{checksum_file.name} names a missing file: {name!r}")
        if sha256_of(path) != expected:
            raise BackupError(f"checksum mismatch for {name}: the backup is damaged or was changed")
        checked.append(path)
    if db_file not in checked:
        raise BackupError(f"{checksum_file.name} does not cover {db_file.name}")
    return checked


def integrity_check(db_path: Path) -> str:
    """'ok', or SQLite's first complaint."""
    conn = connect_sync(db_path, readonly=True)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()
    return "ok" if [r[0] for r in rows] == ["ok"] else "; ".join(str(r[0]) for r in rows[:5])


def list_backups(directory: Path) -> list[Path]:
    """Backups made by the scheduler or by `modelpilot backup DIR`, oldest first."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob(f"{BACKUP_PREFIX}*.db") if p.is_file())


def rotate_backups(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups (with their key and checksum files)."""
    backups = list_backups(directory)
    doomed = backups[: max(0, len(backups) - keep)]
    for db_file in doomed:
        for suffix in ("", KEY_SUFFIX, SUM_SUFFIX):
            db_file.with_name(db_file.name + suffix).unlink(missing_ok=True)
    return doomed
