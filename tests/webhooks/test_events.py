"""The events wired now reach subscribed endpoints with payloads a receiver can act on alone:
document.indexed / document.failed (ingestion), conversation.started (the first turn only) and
message.feedback (widget thumbs). Endpoints get only the events they chose."""

from __future__ import annotations

from tests.support import Api
from tests.webhooks.receiver import Receiver
from tests.widget_support import SESSION, from_page, make_bot, sse_events, widget_chat


def _subscribe(admin: Api, receiver: Receiver, events: list[str]) -> dict:
    hook = admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/webhooks", 201, json={"url": receiver.url, "events": events})
    receiver.secret = hook["secret"]
    return hook


def test_document_indexed_and_failed(hook_server, receiver):
    live = hook_server()
    admin = Api(live.url)
    admin.setup_owner()
    _subscribe(admin, receiver, ["document.indexed", "document.failed"])
    bot = admin.create_bot(admin.ws, name="Docs bot")
    doc = admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/chatbots/{bot['id']}/documents/text", 202,
                   json={"title": "Opening hours", "text": "We open at nine and close at five on weekdays."})
    [indexed] = receiver.wait_for(1, timeout=60)
    assert indexed["payload"]["type"] == "document.indexed"
    shown = indexed["payload"]["data"]["document"]
    assert shown["id"] == doc["id"] and shown["chatbot_id"] == bot["id"] and shown["status"] == "indexed"
    assert shown["title"] == "Opening hours" and shown["chunk_count"] >= 1
    broken = admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/chatbots/{bot['id']}/documents", 202,
                      files={"file": ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "application/pdf")})
    failed = receiver.wait_for(2, timeout=60)[1]
    assert failed["payload"]["type"] == "document.failed"
    assert failed["payload"]["data"]["document"]["id"] == broken["id"]
    assert failed["payload"]["data"]["document"]["error"]
    admin.close()


def test_conversation_started_once_and_feedback(hook_server, receiver, fake_llm):
    live = hook_server()
    admin = Api(live.url)
    admin.setup_owner()
    _subscribe(admin, receiver, ["conversation.started", "message.feedback"])
    bot = make_bot(admin, fake_llm, name="Shop helper", allowed_origins=[])
    visitor = Api(live.url)
    first = sse_events(widget_chat(visitor, bot["id"], "Do you ship to Norway?"))[-1]
    assert first.get("done"), first
    sse_events(widget_chat(visitor, bot["id"], "And how long does it take?"))  # same conversation: no event
    [started] = receiver.wait_for(1)
    data = started["payload"]["data"]["conversation"]
    assert started["payload"]["type"] == "conversation.started"
    assert data["id"] == first["conversation_id"] and data["channel"] == "widget" and data["session_id"] == SESSION
    assert data["chatbot"] == {"id": bot["id"], "name": "Shop helper"}
    assert [m["role"] for m in data["messages"]] == ["user", "assistant"]
    assert data["messages"][0]["content"] == "Do you ship to Norway?" and data["messages"][1]["content"]
    rated = visitor.post(f"/api/v1/widget/{bot['id']}/feedback", headers=from_page(),
                         json={"session_id": SESSION, "message_id": first["message_id"], "rating": -1})
    assert rated.status_code == 204, rated.text
    feedback = receiver.wait_for(2)[1]["payload"]
    assert feedback["type"] == "message.feedback"
    assert feedback["data"]["message_id"] == first["message_id"] and feedback["data"]["rating"] == -1
    assert feedback["data"]["feedback"] == "down"
    assert feedback["data"]["conversation"]["messages"][0]["content"] == "Do you ship to Norway?"
    assert len(receiver.verified) == 2  # the second message started nothing
    visitor.close()
    admin.close()


def test_events_go_only_to_endpoints_that_chose_them(hook_server, fake_llm):
    live = hook_server()
    admin = Api(live.url)
    admin.setup_owner()
    docs, chats = Receiver(), Receiver()
    try:
        _subscribe(admin, docs, ["document.indexed"])
        _subscribe(admin, chats, ["conversation.started"])
        bot = make_bot(admin, fake_llm, allowed_origins=[])
        admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/chatbots/{bot['id']}/documents/text", 202,
                 json={"title": "t", "text": "Some words to index for this bot."})
        sse_events(widget_chat(Api(live.url), bot["id"], "hello"))
        assert docs.wait_for(1, timeout=60)[0]["payload"]["type"] == "document.indexed"
        assert chats.wait_for(1)[0]["payload"]["type"] == "conversation.started"
        assert len(docs.verified) == 1 and len(chats.verified) == 1
    finally:
        docs.stop()
        chats.stop()
        admin.close()


def test_handoff_events_reach_subscribers(hook_server, receiver, fake_llm):
    """conversation.handoff_requested / assigned / closed: queued with the state change, signed,
    carrying the bot, the status, the assignee and the latest messages (operators' included)."""
    from tests.inbox.support import close_desk, make_desk

    desk = make_desk(hook_server(provider_allow_private=True), fake_llm)
    _subscribe(desk.owner, receiver, ["conversation.handoff_requested", "conversation.assigned",
                                      "conversation.closed"])
    calls_before = len(fake_llm.requests)
    desk.visitor_says("I want to talk to someone")
    conversation_id = desk.waiting_id()
    desk.anna.ok("POST", desk.conv(conversation_id, "assign"), 200, json={})
    desk.anna.ok("POST", desk.conv(conversation_id, "messages"), 201, json={"text": "Hi, Anna here."})
    desk.anna.ok("POST", desk.conv(conversation_id, "close"), 200)
    events = [d["payload"] for d in receiver.wait_for(3)]
    assert [e["type"] for e in events] == ["conversation.handoff_requested", "conversation.assigned",
                                           "conversation.closed"]
    requested, assigned, closed = (e["data"]["conversation"] for e in events)
    assert requested["id"] == conversation_id and requested["status"] == "waiting"
    assert requested["chatbot"]["id"] == desk.bot["id"] and requested["chatbot"]["name"] == desk.bot["name"]
    assert any(m["content"] == "I want to talk to someone" for m in requested["messages"])
    assert assigned["status"] == "human" and assigned["assignee"]["name"]
    assert closed["status"] == "closed"
    assert any(m["role"] == "operator" and m["content"] == "Hi, Anna here." for m in closed["messages"])
    assert len(fake_llm.requests) == calls_before  # the keyword message never reached the model
    assert len(receiver.verified) == 3
    close_desk(desk)
