"""Operators work the inbox: take, answer, hand back to the bot, close; roles and saved replies."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.widget_support import SESSION

SECOND = "second-visitor-session-000000001"
THIRD = "third-visitor-session-0000000001"
FOURTH = "fourth-visitor-session-000000001"


def test_one_agent_takes_it_another_gets_409_unless_taking_over(desk) -> None:
    desk.ask_for_person()
    conversation = desk.waiting_id()
    taken = desk.anna.ok("POST", desk.conv(conversation, "assign"), json={})
    assert taken["status"] == "human" and taken["assignee"]["name"] == "anna" and taken["waiting_since"] is None
    refused = desk.ben.post(desk.conv(conversation, "assign"), json={})
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "conversation_assigned" and error["details"]["assignee"]["name"] == "anna"
    taken = desk.ben.ok("POST", desk.conv(conversation, "assign"), json={"takeover": True})
    assert taken["assignee"]["name"] == "ben"
    system = [m["content"] for m in taken["messages"] if m["role"] == "system"]
    assert system == ["Asked for a person", "anna took over", "ben took over"]
    history = desk.history()
    assert history["status"] == "human" and history["assignee_name"] == "ben"


def test_two_agents_racing_for_one_conversation_one_wins(desk) -> None:
    desk.ask_for_person()
    conversation = desk.waiting_id()
    start = threading.Barrier(2)
    results: dict[str, int] = {}

    def take(name: str, cookies) -> None:
        with httpx.Client(base_url=desk.url, cookies=cookies, timeout=30) as client:  # its own connection
            start.wait()
            results[name] = client.post(desk.conv(conversation, "assign"), json={}).status_code

    threads = [threading.Thread(target=take, args=(n, c.cookies)) for n, c in (("anna", desk.anna), ("ben", desk.ben))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results.values()) == [200, 409], results
    winner = next(n for n, status in results.items() if status == 200)
    detail = desk.owner.ok("GET", desk.conv(conversation))
    assert detail["assignee"]["name"] == winner
    assert [m["content"] for m in detail["messages"] if m["role"] == "system"] == [
        "Asked for a person", f"{winner} took over"]


def test_an_operator_reply_takes_the_conversation_and_reaches_the_history(desk) -> None:
    desk.ask_for_person()
    conversation = desk.waiting_id()
    sent = desk.anna.ok("POST", desk.conv(conversation, "messages"), json={"text": "  Hi, I am Anna. How can I help? "})
    assert sent["role"] == "operator" and sent["author_name"] == "anna"
    assert sent["content"] == "Hi, I am Anna. How can I help?"
    history = desk.history()
    assert history["status"] == "human" and history["assignee_name"] == "anna"
    last = history["messages"][-1]
    assert (last["role"], last["author_name"], last["content"]) == ("operator", "anna", sent["content"])
    other = desk.ben.post(desk.conv(conversation, "messages"), json={"text": "Me too"})
    assert other.status_code == 409 and other.json()["error"]["details"]["assignee"]["name"] == "anna"


@pytest.mark.parametrize("body", [{"text": "   "}, {"text": "x" * 4001}, {}])
def test_an_operator_reply_needs_text(desk, body) -> None:
    desk.ask_for_person()
    response = desk.anna.post(desk.conv(desk.waiting_id(), "messages"), json=body)
    assert response.status_code == 400
    assert "text" in response.text


def test_after_release_the_bot_answers_with_the_whole_history(desk, fake_llm) -> None:
    desk.visitor_says("Where is my parcel?")
    desk.ask_for_person()
    conversation = desk.waiting_id()
    desk.visitor_says("It was order 1234.")
    desk.anna.ok("POST", desk.conv(conversation, "messages"), json={"text": "Order 1234 ships tomorrow."})
    released = desk.anna.ok("POST", desk.conv(conversation, "release"))
    assert released["status"] == "bot" and released["assignee"] is None
    calls = len(fake_llm.requests)
    events = desk.visitor_says("When does it ship? [[echo]]")
    assert len(fake_llm.requests) == calls + 1
    sent = fake_llm.requests[-1]["messages"]
    pairs = [(m["role"], m["content"]) for m in sent if m["role"] != "system"]
    assert pairs[0] == ("user", "Where is my parcel?")
    assert ("user", "It was order 1234.") in pairs
    assert ("assistant", "Order 1234 ships tomorrow.") in pairs
    assert pairs[-1] == ("user", "When does it ship? [[echo]]")
    assert not any("took over" in m["content"] for m in sent), "system lines are for people, not the model"
    assert events[-1]["done"] is True
    assert desk.history()["status"] == "bot"


def test_closed_reopens_with_the_bot_on_the_next_message(desk, fake_llm) -> None:
    desk.ask_for_person()
    conversation = desk.waiting_id()
    closed = desk.anna.ok("POST", desk.conv(conversation, "close"))
    assert closed["status"] == "closed"
    assert desk.history()["status"] == "closed"
    calls = len(fake_llm.requests)
    events = desk.visitor_says("One more question")
    assert len(fake_llm.requests) == calls + 1
    assert "".join(e.get("text", "") for e in events).startswith("Hello from the fake model")
    history = desk.history()
    assert history["status"] == "bot"
    assert [m["content"] for m in history["messages"] if m["role"] == "system"][-2:] == ["Closed", "Reopened"]


def test_the_inbox_lists_waiting_first_then_mine_then_the_rest(desk) -> None:
    for session in (SESSION, SECOND, THIRD, FOURTH):
        desk.ask_for_person(session)
    items = desk.inbox(status="waiting")["items"]
    oldest_first = [item["id"] for item in items]
    mine, bens = oldest_first[2], oldest_first[3]
    desk.anna.ok("POST", desk.conv(mine, "assign"), json={})
    desk.ben.ok("POST", desk.conv(bens, "assign"), json={})
    listing = desk.inbox()
    assert [item["id"] for item in listing["items"]] == [*oldest_first[:2], mine, bens]
    assert listing["counts"] == {"waiting": 2, "mine": 1, "human": 2}
    assert [i["id"] for i in desk.inbox(status="mine")["items"]] == [mine]
    assert {i["id"] for i in desk.inbox(status="human")["items"]} == {mine, bens}
    page = desk.inbox(limit="3")
    rest = desk.inbox(limit="3", cursor=page["next_cursor"])
    assert [i["id"] for i in page["items"] + rest["items"]] == [i["id"] for i in listing["items"]]
    assert rest["next_cursor"] is None
    assert desk.anna.get(f"/api/v1/workspaces/{desk.ws}/inbox", params={"status": "soon"}).status_code == 400
    assert desk.anna.get(f"/api/v1/workspaces/{desk.ws}/inbox", params={"cursor": "nonsense"}).status_code == 400


def test_assigning_someone_else_needs_editor_and_an_agent(desk) -> None:
    desk.ask_for_person()
    conversation = desk.waiting_id()
    ben_id = next(m["user_id"] for m in desk.owner.ok("GET", f"/api/v1/workspaces/{desk.ws}/members")
                  if m["email"] == "ben@example.com")
    viewer_id = desk.viewer.user["id"]
    assert desk.anna.post(desk.conv(conversation, "assign"), json={"user_id": ben_id}).status_code == 403
    bad = desk.owner.post(desk.conv(conversation, "assign"), json={"user_id": viewer_id})
    assert bad.status_code == 400 and "user_id" in bad.text
    assert desk.owner.ok("POST", desk.conv(conversation, "assign"), json={"user_id": ben_id})["assignee"]["name"] == "ben"


WS = "/api/v1/workspaces/{ws}"


@pytest.mark.parametrize("method, path, body", [
    ("POST", WS + "/chatbots", {"name": "Nope"}),
    ("PATCH", WS + "/chatbots/{bot}", {"name": "Renamed"}),
    ("DELETE", WS + "/chatbots/{bot}", None),
    ("POST", WS + "/chatbots/{bot}/documents/text", {"title": "t", "text": "x"}),
    ("PUT", WS + "/providers/anthropic", {"api_key": "sk-ant-0123456789abcdef"}),
    ("POST", WS + "/invitations", {"email": "x@example.com", "role": "viewer"}),
    ("PATCH", WS + "/members/{owner}", {"role": "viewer"}),
    ("POST", WS + "/billing/checkout", {"plan": "pro"}),
    ("POST", WS + "/saved-replies", {"title": "t", "text": "x"}),
])
def test_an_agent_cannot_change_bots_knowledge_providers_members_or_billing(desk, method, path, body) -> None:
    url = path.format(ws=desk.ws, bot=desk.bot["id"], owner=desk.owner.user["id"])
    response = desk.anna.request(method, url, **({"json": body} if body is not None else {}))
    assert response.status_code == 403, f"{method} {url}: {response.status_code} {response.text}"


def test_a_viewer_reads_but_does_not_work_the_inbox(desk) -> None:
    desk.ask_for_person()
    conversation = desk.owner.ok("GET", f"/api/v1/workspaces/{desk.ws}/inbox")["items"][0]["id"]
    assert desk.viewer.get(f"/api/v1/workspaces/{desk.ws}/inbox").status_code == 403
    assert desk.viewer.post(desk.conv(conversation, "assign"), json={}).status_code == 403
    assert desk.viewer.post(desk.conv(conversation, "messages"), json={"text": "hi"}).status_code == 403
    assert desk.viewer.get(desk.conv(conversation)).status_code == 200


def test_saved_replies_editors_write_agents_read(desk) -> None:
    path = f"/api/v1/workspaces/{desk.ws}/saved-replies"
    created = desk.owner.ok("POST", path, json={"title": "Shipping", "text": "Parcels ship in 2 days."})
    assert desk.anna.ok("GET", path) == [created]
    assert desk.anna.patch(f"{path}/{created['id']}", json={"title": "x"}).status_code == 403
    assert desk.anna.delete(f"{path}/{created['id']}").status_code == 403
    changed = desk.owner.ok("PATCH", f"{path}/{created['id']}", json={"text": "Parcels ship tomorrow."})
    assert changed["text"] == "Parcels ship tomorrow." and changed["title"] == "Shipping"
    empty = desk.owner.post(path, json={"title": "  ", "text": "x"})
    assert empty.status_code == 400 and "title" in empty.text
    desk.owner.ok("DELETE", f"{path}/{created['id']}")
    assert desk.anna.ok("GET", path) == []
    assert desk.owner.delete(f"{path}/{created['id']}").status_code == 404


def test_members_opt_in_to_waiting_mails_and_roles_accept_agent(desk) -> None:
    members = f"/api/v1/workspaces/{desk.ws}/members"
    me = desk.anna.ok("PATCH", f"{members}/me", json={"notify_waiting": True})
    assert me["notify_waiting"] is True and me["role"] == "agent"
    listed = {m["email"]: m for m in desk.owner.ok("GET", members)}
    assert listed["anna@example.com"]["notify_waiting"] is True
    assert listed["owner@example.com"]["notify_waiting"] is False
    bad = desk.anna.patch(f"{members}/me", json={"notify_waiting": "yes"})
    assert bad.status_code == 400 and "notify_waiting" in bad.text
    vera = desk.viewer.user["id"]
    assert desk.owner.ok("PATCH", f"{members}/{vera}", json={"role": "agent"})["role"] == "agent"
    invitation = desk.owner.ok("POST", f"/api/v1/workspaces/{desk.ws}/invitations",
                               json={"email": "new@example.com", "role": "agent"})
    assert invitation["role"] == "agent"
    token = desk.owner.post(f"/api/v1/workspaces/{desk.ws}/api-tokens", json={"name": "t", "role": "agent"})
    assert token.status_code == 400 and "role" in token.text
