"""lead.created and question.unanswered reach a real receiver, verified with the official
standardwebhooks package; `modelpilot rotate-key` re-seals bots' identity secrets."""

from __future__ import annotations

from tests.contacts.support import chat, history, identity_secret, lead_bot, send_lead, token_for
from tests.support import Api, start_server


def test_lead_created_and_question_unanswered_are_delivered(hook_server, receiver):
    live = hook_server()
    admin = Api(live.url)
    admin.setup_owner()
    hook = admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/webhooks", 201,
                    json={"url": receiver.url, "events": ["lead.created", "question.unanswered"]})
    receiver.secret = hook["secret"]
    bot = lead_bot(admin)
    visitor = Api(live.url)
    session = "hook-session-aaaaaaaaaaaaaaaaa"
    done = chat(visitor, bot["id"], session, "Do you have a shop in Oslo?")[-1]  # no knowledge: unanswered
    [unanswered] = receiver.wait_for(1)
    payload = unanswered["payload"]
    assert payload["type"] == "question.unanswered" and payload["data"]["reason"] == "no_source"
    assert payload["data"]["question"] == "Do you have a shop in Oslo?"
    assert payload["data"]["message_id"] == done["message_id"]
    assert payload["data"]["conversation"]["id"] == done["conversation_id"]
    made = send_lead(visitor, bot["id"], session, {"name": "Oda", "email": "oda@example.com", "plan": "Pro"})
    assert made.status_code == 201, made.text
    lead = receiver.wait_for(2)[1]
    assert lead["payload"]["type"] == "lead.created" and lead["headers"]["webhook-id"]
    data = lead["payload"]["data"]
    assert data["contact"]["id"] == made.json()["contact_id"] and data["contact"]["email"] == "oda@example.com"
    assert data["contact"]["fields"] == {"plan": "Pro"} and data["consent"] is True
    assert data["chatbot"] == {"id": bot["id"], "name": "Lead bot"}
    assert data["conversation"]["id"] == done["conversation_id"]
    assert [m["role"] for m in data["conversation"]["messages"]] == ["user", "assistant"]
    assert receiver.rejected == []
    admin.close()


def test_rotate_key_reseals_identity_secrets(server_factory, capsys):
    from modelpilot.cli import main
    from tests.support import database_args

    live = server_factory()
    admin = Api(live.url)
    admin.setup_owner()
    bot = lead_bot(admin)
    secret = identity_secret(admin, bot["id"])
    admin.close()
    live.stop()
    settings = live.settings
    assert main(["rotate-key", "--data-dir", str(settings.data_dir), *database_args(settings)]) == 0
    assert "identity secrets included" in capsys.readouterr().out
    again = start_server(settings)
    try:
        seen = history(Api(again.url), bot["id"], "rotated-session-aaaaaaaaaaaa", token=token_for(secret))
        assert seen.status_code == 200, seen.text  # the old key is gone; the secret opens under the new one
        assert seen.json()["contact"]["verified"] is True
    finally:
        again.stop()


def test_a_verified_visitors_conversation_started_names_the_contact(hook_server, receiver):
    live = hook_server()
    admin = Api(live.url)
    admin.setup_owner()
    hook = admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/webhooks", 201,
                    json={"url": receiver.url, "events": ["conversation.started"]})
    receiver.secret = hook["secret"]
    bot = lead_bot(admin)
    token = token_for(identity_secret(admin, bot["id"]), sub="hook-user", email="hook@example.com", name="Hal")
    done = chat(Api(live.url), bot["id"], "hook-verified-session-aaaaaaa", "Hello there", token=token)[-1]
    [started] = receiver.wait_for(1)
    conversation = started["payload"]["data"]["conversation"]
    assert conversation["id"] == done["conversation_id"]
    assert conversation["contact"]["name"] == "Hal" and conversation["contact"]["email"] == "hook@example.com"
    admin.close()


def test_a_failed_answer_is_unanswered_with_reason_fallback(hook_server, receiver, fake_llm):
    live = hook_server(provider_allow_private=True)
    admin = Api(live.url)
    admin.setup_owner()
    hook = admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/webhooks", 201,
                    json={"url": receiver.url, "events": ["question.unanswered"]})
    receiver.secret = hook["secret"]
    admin.add_provider(admin.ws, "openai", api_base=fake_llm.url)
    bot = lead_bot(admin, when="when_unanswered", model="openai/gpt-4o-mini")
    events = chat(Api(live.url), bot["id"], "fallback-session-aaaaaaaaaaaa", "Will this work? [[fail500]]")
    assert "error" in events[-1]  # the visitor got the fallback message, and no lead_form on an error
    [unanswered] = receiver.wait_for(1)
    assert unanswered["payload"]["data"]["reason"] == "fallback"
    assert unanswered["payload"]["data"]["question"] == "Will this work? [[fail500]]"
    admin.close()
