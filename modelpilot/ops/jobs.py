"""Housekeeping the scheduler runs: backups when due, conversation retention per workspace."""

from __future__ import annotations

import logging
import time

from modelpilot.core.db import Database
from modelpilot.core.ids import iso_from_epoch
from modelpilot.ops import service
from modelpilot.settings import Settings

log = logging.getLogger("modelpilot.ops")

# The backup job only checks whether one is due, so checking often costs nothing and a
# restarted server catches up within minutes instead of waiting a whole interval.
BACKUP_CHECK_SECONDS = 600
RETENTION_SECONDS = 3600


async def apply_retention(db: Database, now: float | None = None) -> dict[str, int]:
    """Delete conversations older than each workspace's retention_days; {workspace_id: deleted}."""
    from modelpilot.chat import service as chat
    from modelpilot.contacts import service as contacts
    from modelpilot.workspaces import service as workspaces

    now = time.time() if now is None else now
    deleted = {}
    for workspace_id, days in await workspaces.retention_policies(db):
        cutoff = iso_from_epoch(now - days * 86400)
        count = await chat.purge_conversations_before(db, workspace_id, cutoff)
        # The visitors' contacts whose last visit is as old go too: no contact outlives its
        # conversations (contacts members entered by hand have no visit and stay).
        expired = await contacts.purge_unseen_before(db, workspace_id, cutoff)
        if expired:
            log.info("retention: deleted %d contact(s) not seen for %d days in workspace %s", expired, days,
                     workspace_id)
        if count:
            deleted[workspace_id] = count
            log.info("retention: deleted %d conversation(s) older than %d days in workspace %s",
                     count, days, workspace_id)
    return deleted


def register_ops_jobs(scheduler, db: Database, settings: Settings) -> None:
    """scheduler: app.state["scheduler"] (add_interval_job(job_id, async_func, seconds))."""
    # On Postgres, backups are the database server's (pg_dump, the managed service's recovery);
    # a file snapshot from every node would be neither consistent across nodes nor needed.
    if settings.backup_interval_hours > 0 and settings.backend == "sqlite":
        scheduler.add_interval_job("ops.backup", lambda: service.scheduled_backup(settings), BACKUP_CHECK_SECONDS)
    scheduler.add_interval_job("ops.retention", lambda: apply_retention(db), RETENTION_SECONDS, once_per_fleet=True)
