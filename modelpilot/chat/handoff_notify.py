"""E-mail to opted-in members when a conversation has waited too long for a person.

A scheduled job (once per fleet and time slot): each wait (a conversation's waiting_since) is
claimed in one write before any mail goes out, so a conversation is announced once however many
nodes or runs look at it; a conversation that waits again later is a new wait.
"""

from __future__ import annotations

import logging
import time

from modelpilot.chat import handoff_repo as repo
from modelpilot.core.db import Database
from modelpilot.core.ids import iso_from_epoch
from modelpilot.core.mail import Mailer, OutgoingMail
from modelpilot.settings import Settings
from modelpilot.workspaces import service as workspaces

log = logging.getLogger("modelpilot.handoff")
SCAN_LIMIT = 100
RECIPIENT_ROLE = "agent"


def waiting_mail(settings: Settings, to: str, row: dict, minutes: int) -> OutgoingMail:
    bot = row["chatbot_name"] or "a chatbot"
    link = f"{settings.base_url}/#/w/{row['workspace_id']}/inbox?conversation={row['id']}"
    preview = (row["last_message_preview"] or "").strip()[:300]
    text = (f"Hello,\n\nA visitor of {bot} asked for a person and has been waiting for more than {minutes} "
            f"minute(s) without an answer.\n\n" + (f"Their last message: \"{preview}\"\n\n" if preview else "")
            + (f"They were on {row['page_url']}\n\n" if row["page_url"] else "")
            + f"Open the inbox to answer: {link}\n\nYou get this because you turned on notifications for "
            "waiting conversations in this workspace.\n")
    return OutgoingMail(to=to, subject=f"A visitor of {bot} is waiting for a person", text=text)


async def notify_waiting(db: Database, settings: Settings, mailer: Mailer, now: float | None = None) -> int:
    """Send the mails for every wait longer than the setting; returns how many were sent."""
    if not mailer.configured:
        return 0
    minutes = settings.handoff_notify_minutes
    cutoff = iso_from_epoch((time.time() if now is None else now) - minutes * 60)
    async with db.read() as conn:
        rows = await repo.waiting_unnotified(conn, cutoff, SCAN_LIMIT)
    sent = 0
    for row in rows:
        async with db.write() as conn:
            claimed = await repo.mark_waiting_notified(conn, row["workspace_id"], row["id"], row["waiting_since"])
        if not claimed:
            continue
        for to in await workspaces.waiting_notice_recipients(db, row["workspace_id"], RECIPIENT_ROLE):
            if await mailer.try_send(waiting_mail(settings, to, row, minutes)) is None:
                sent += 1
    return sent


def register_handoff_jobs(scheduler, db: Database, settings: Settings, mailer: Mailer) -> None:
    """scheduler: app.state["scheduler"] (add_interval_job(job_id, async_func, seconds, once_per_fleet))."""
    scheduler.add_interval_job("handoff.notify_waiting", lambda: notify_waiting(db, settings, mailer),
                               settings.handoff_notify_check_seconds, once_per_fleet=True)
