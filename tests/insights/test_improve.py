"""Improve an answer (issue 21 part 3): an editor writes the right answer to a question the bot
could not answer, it becomes a correction in the bot's knowledge, and the next similar question
(in other words) is answered from it, with the correction as its source."""

from __future__ import annotations

import json

from tests.knowledge.conftest import add_text, wait_done

DOG = "Can I bring my dog into the shop?"
PARAPHRASE = "Are dogs allowed in your store?"
RIGHT_ANSWER = "Yes: dogs on a leash are welcome in the shop, and we keep a water bowl by the door."


def session(name: str) -> str:
    return f"improve-{name}-session-00000"


def improve_path(desk, conversation_id: str, message_id: str) -> str:
    return desk.conv(conversation_id, f"messages/{message_id}/improve")


def prompt_of(request: dict) -> str:
    return json.dumps(request["messages"])


def test_an_improved_answer_answers_the_next_paraphrase_as_its_source(desk, fake_llm):
    bot_id = desk.bot["id"]
    desk.owner.ok("PATCH", f"/api/v1/workspaces/{desk.ws}/chatbots/{bot_id}", json={"score_threshold": 0.5})
    hours = add_text(desk.owner, bot_id, "Opening hours", "The bakery opens at 8 am on weekdays and 9 am on Sundays.")
    wait_done(desk.owner, bot_id, hours["id"])
    before = desk.visitor_says(DOG, session("a"))[-1]
    assert before["sources"] == []  # nothing in the knowledge answers it
    reply = desk.owner.ok("POST", improve_path(desk, before["conversation_id"], before["message_id"]), 201,
                          json={"answer": f"  {RIGHT_ANSWER}  "})
    assert reply["chatbot_id"] == bot_id and reply["question"] == DOG
    document = wait_done(desk.owner, bot_id, reply["document_id"])
    assert document["status"] == "indexed" and document["source_type"] == "faq"
    assert document["title"] == f"Correction: {DOG}"
    for name, question in (("b", PARAPHRASE), ("c", DOG)):
        asked = len(fake_llm.requests)
        after = desk.visitor_says(question, session(name))[-1]
        assert after["sources"][0]["document_id"] == reply["document_id"], question
        assert RIGHT_ANSWER in prompt_of(fake_llm.requests[asked]), question
    # The hours question still finds the hours, not the correction.
    hours_answer = desk.visitor_says("When does the bakery open on Sundays?", session("d"))[-1]
    assert hours_answer["sources"][0]["document_id"] == hours["id"]


def test_only_editors_improve_answers_of_their_own_conversations(desk):
    done = desk.visitor_says(DOG, session("e"))[-1]
    path = improve_path(desk, done["conversation_id"], done["message_id"])
    for member in (desk.anna, desk.viewer):  # an agent works the inbox; it does not change knowledge
        response = member.post(path, json={"answer": RIGHT_ANSWER})
        assert response.status_code == 403 and "editor" in response.text
    for answer in ("", "   ", "x" * 10001):
        response = desk.owner.post(path, json={"answer": answer})
        assert response.status_code == 400 and "answer" in response.text, answer
    response = desk.owner.post(path, json={})
    assert response.status_code == 400 and "answer" in response.text
    detail = desk.owner.ok("GET", desk.conv(done["conversation_id"]))
    question_id = next(m["id"] for m in detail["messages"] if m["role"] == "user")
    for conversation_id, message_id in ((done["conversation_id"], question_id),  # a visitor's message
                                        (done["conversation_id"], "no-such-message"),
                                        ("no-such-conversation", done["message_id"])):
        response = desk.owner.post(improve_path(desk, conversation_id, message_id), json={"answer": RIGHT_ANSWER})
        assert response.status_code == 404, (conversation_id, message_id)
    docs = desk.owner.ok("GET", f"/api/v1/workspaces/{desk.ws}/chatbots/{desk.bot['id']}/documents")
    assert docs == [] or all(not d["title"].startswith("Correction") for d in docs)
