"""Operations services: the /metrics page, scheduled backups."""

from __future__ import annotations

import hmac
import logging
import os
import time
from pathlib import Path

import anyio

from modelpilot import __version__
from modelpilot.core import metrics
from modelpilot.core.db import Database
from modelpilot.core.errors import ApiError
from modelpilot.ops import repo
from modelpilot.ops.backup import BackupError, create_backup, list_backups, rotate_backups
from modelpilot.scheduler import jobs
from modelpilot.settings import Settings

log = logging.getLogger("modelpilot.ops")
STARTED_AT = time.time()


def check_metrics_token(settings: Settings, authorization: str) -> None:
    """/metrics needs `Authorization: Bearer <MODELPILOT_METRICS_TOKEN>` when one is set."""
    if not settings.metrics_token:
        return
    scheme, _, value = authorization.partition(" ")
    supplied = value.strip().encode() if scheme.lower() == "bearer" else b""
    if not hmac.compare_digest(supplied, settings.metrics_token.encode()):
        raise ApiError(401, "unauthorized", "The metrics token is missing or wrong.",
                       headers={"WWW-Authenticate": 'Bearer realm="metrics"'})


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


async def scrape_gauges(db: Database, settings: Settings) -> list[metrics.Gauge]:
    """Figures read at scrape time rather than recorded as they happen."""
    db_size = metrics.Gauge("modelpilot_db_size_bytes", "Size of the database files.", ("file",))
    if settings.backend == "postgres":  # no files here: the size its server reports
        db_size.set(await db.run_read(repo.postgres_database_size), file="db")
    else:
        db_size.set(_file_size(db.path), file="db")
        db_size.set(_file_size(Path(str(db.path) + "-wal")), file="wal")
    process = metrics.Gauge("modelpilot_process_resident_memory_bytes", "Resident memory of the server.")
    process.set(_rss_bytes())
    started = metrics.Gauge("modelpilot_process_start_time_seconds", "Start time of the server (Unix time).")
    started.set(STARTED_AT)
    info = metrics.Gauge("modelpilot_build_info", "The running version.", ("version",))
    info.set(1, version=__version__)
    newest = metrics.Gauge("modelpilot_last_backup_time_seconds",
                           "Modification time of the newest scheduled backup (0 if none).")
    backups = list_backups(settings.backups_path)
    newest.set(backups[-1].stat().st_mtime if backups else 0)
    return [db_size, process, started, info, newest, await _job_gauge(db)]


async def _job_gauge(db: Database) -> metrics.Gauge:
    gauge = metrics.Gauge("modelpilot_jobs", "Background jobs waiting (queued), running (processing) "
                                             "or given up (error).", ("status",))
    async with db.read() as conn:
        counts = await jobs.count_by_status(conn)
    for status in ("queued", "processing", "error"):
        gauge.set(counts.get(status, 0), status=status)
    return gauge


async def render_metrics(db: Database, settings: Settings) -> str:
    return metrics.render(await scrape_gauges(db, settings))


def backup_due(settings: Settings, now: float | None = None) -> bool:
    if settings.backup_interval_hours <= 0:
        return False
    backups = list_backups(settings.backups_path)
    if not backups:
        return True
    age = (time.time() if now is None else now) - backups[-1].stat().st_mtime
    return age >= settings.backup_interval_hours * 3600 - 60  # a minute's slack for the check's own period


def run_backup_now(settings: Settings) -> Path:
    """One scheduled backup and rotation; blocking (run it in a thread)."""
    result = create_backup(settings.db_path, settings.data_dir, settings.backups_path)
    removed = rotate_backups(settings.backups_path, settings.backup_keep)
    log.info("backup written to %s (%d bytes in %.1fs); %d old backup(s) removed",
             result.db_file, result.size_bytes, result.seconds, len(removed))
    return result.db_file


async def scheduled_backup(settings: Settings) -> None:
    """The scheduler calls this periodically; it backs up only when one is due."""
    if not backup_due(settings):
        return
    try:
        await anyio.to_thread.run_sync(run_backup_now, settings)
    except (BackupError, OSError) as exc:
        metrics.record_backup("failed")
        log.error("scheduled backup failed: %s", exc)
        return
    metrics.record_backup("ok")
