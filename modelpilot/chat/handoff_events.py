"""Every domain event of the handoff goes through `emit`: one row in the conversation's durable
event log, written in the caller's transaction, then (after commit) a poke on the live bus.

`emit` is the one place to hook anything else that must hear of these events (outbound webhooks:
conversation.handoff_requested = type "conversation.waiting", assigned, released, closed, and
every visitor, operator and system message as "conversation.message").

The bus carries only "there is more for this workspace / this visitor" (a NOTIFY is at most
8000 bytes and can arrive out of order); each listener then reads the rows past the last id it
sent, so a stream never skips, repeats or reorders an event, live or after a reconnect.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from modelpilot.chat import handoff_repo
from modelpilot.core.db import Connection, Database
from modelpilot.core.events import EventBus
from modelpilot.core.ids import utc_now_iso
from modelpilot.webhooks import service as webhooks
from modelpilot.webhooks.events import conversation_data

TYPES = ("conversation.waiting", "conversation.message", "conversation.assigned", "conversation.released",
         "conversation.closed")
STATUS_TYPES = {"waiting": "conversation.waiting", "human": "conversation.assigned", "bot": "conversation.released",
                "closed": "conversation.closed"}
# The handoff events outbound webhooks carry (the release back to the bot and single messages are live-only).
WEBHOOK_TYPES = {"conversation.waiting": "conversation.handoff_requested",
                 "conversation.assigned": "conversation.assigned", "conversation.closed": "conversation.closed"}
WEBHOOK_LAST_MESSAGES = 10


def workspace_topic(workspace_id: str) -> str:
    return f"inbox:{workspace_id}"


def visitor_topic(chatbot_id: str, session_id: str) -> str:
    return f"visitor:{chatbot_id}:{session_id}"


@dataclass
class Emitted:
    """The events a transaction wrote, to announce once it has committed."""
    topics: set[str] = field(default_factory=set)
    ids: list[int] = field(default_factory=list)
    webhooks: int = 0  # outbound deliveries queued, for the worker to be woken after commit


async def emit(conn: Connection, workspace_id: str, conversation: dict, event_type: str, *,
               message: dict | None = None, into: Emitted) -> int:
    """Log one domain event of `conversation` (its state after the change) in this transaction."""
    assert event_type in TYPES
    event_id = await handoff_repo.insert_event(conn, workspace_id, {
        "conversation_id": conversation["id"], "chatbot_id": conversation["chatbot_id"], "type": event_type,
        "status": conversation["status"], "assignee_id": conversation.get("assignee_id"),
        "assignee_name": conversation.get("assignee_name"), "message": message, "created_at": utc_now_iso()})
    into.ids.append(event_id)
    into.topics.add(workspace_topic(workspace_id))
    if conversation["channel"] == "widget":
        into.topics.add(visitor_topic(conversation["chatbot_id"], conversation["session_id"]))
    if event_type in WEBHOOK_TYPES:
        into.webhooks += await _queue_webhook(conn, workspace_id, conversation, WEBHOOK_TYPES[event_type])
    return event_id


def _contact(conversation: dict) -> dict | None:
    if not conversation.get("contact_id"):
        return None
    return {"id": conversation["contact_id"], "name": conversation.get("contact_name") or "",
            "email": conversation.get("contact_email")}


async def _queue_webhook(conn: Connection, workspace_id: str, conversation: dict, webhook_type: str) -> int:
    """The outbox: in the same transaction as the state change, so a crash loses neither."""
    summary = await handoff_repo.webhook_summary(conn, workspace_id, conversation["id"], WEBHOOK_LAST_MESSAGES)
    assignee = ({"id": conversation["assignee_id"], "name": conversation.get("assignee_name")}
                if conversation.get("assignee_id") else None)
    data = conversation_data(conversation["id"], conversation["chatbot_id"], summary["chatbot_name"],
                             conversation["channel"], conversation["session_id"], summary["messages"],
                             status=conversation["status"], assignee=assignee,
                             page_url=conversation.get("page_url"), contact=_contact(conversation))
    return await webhooks.queue_event(conn, workspace_id, webhook_type, data)


async def announce(bus: EventBus | None, emitted: Emitted, db: Database | None = None) -> None:
    """After commit: wake the listeners of every topic the events touched, and the webhook worker."""
    if db is not None and emitted.webhooks:
        webhooks.wake(db)
    if bus is None or not emitted.ids:
        return
    for topic in sorted(emitted.topics):
        await bus.publish(topic, {"id": emitted.ids[-1]})


def public_message(message: dict) -> dict:
    return {name: message.get(name) for name in ("id", "role", "content", "author_name", "created_at")}


def widget_frame(event: dict) -> dict | None:
    """What the visitor's stream shows of a logged event: operator and system messages and status
    changes; the visitor's own messages (and the bot's) are already on their screen."""
    message = event["message"]
    if message is not None:
        return {"message": public_message(message)} if message["role"] in ("operator", "system") else None
    return {"status": event["status"], "assignee_name": event["assignee_name"]}


def inbox_frame(event: dict) -> dict:
    assignee = {"id": event["assignee_id"], "name": event["assignee_name"]} if event["assignee_id"] else None
    frame = {"type": event["type"], "conversation_id": event["conversation_id"], "chatbot_id": event["chatbot_id"],
             "status": event["status"], "assignee": assignee}
    if event["message"] is not None:
        frame["message"] = public_message(event["message"])
    return frame
