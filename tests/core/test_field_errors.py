"""Every 400 names each bad field in a sentence a person can read, all bad fields at once."""

from __future__ import annotations

import re

import pytest

# One server for the module: the cases are refused requests, and the bots and the invitation some
# create are looked at by no other test.
from tests.shared_server import owner, server  # noqa: F401 (module-scoped fixtures)

RAW_VALIDATOR_TEXT = re.compile(r"Expected `|\$\.|got `|Object (contains|missing)")


def bots_path(api, bot_id: str = "") -> str:
    return f"/api/v1/workspaces/{api.ws}/chatbots" + (f"/{bot_id}" if bot_id else "")


def details_of(response) -> dict[str, str]:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert not RAW_VALIDATOR_TEXT.search(error["message"]), error["message"]
    out = {}
    for detail in error["details"]:
        assert not RAW_VALIDATOR_TEXT.search(detail["message"]), detail
        assert detail["message"][0].isupper() and detail["message"].endswith("."), detail
        out[detail["field"]] = detail["message"]
    return out


def test_all_bad_fields_of_a_chatbot_come_back_at_once_in_plain_words(owner):
    body = {"name": "Bot", "temperature": 5, "max_tokens": 0, "starter_questions": [f"q{i}" for i in range(7)],
            "accent_color": "red", "position": "top-left", "published": "yes", "colour": "#fff"}
    fields = details_of(owner.post(bots_path(owner), json=body))
    assert fields == {
        "temperature": "Temperature must be at most 2.",
        "max_tokens": "Max answer tokens must be at least 1.",
        "starter_questions": "Starter questions can have at most 6 items.",
        "accent_color": "Accent colour must be a colour such as #4f46e5.",
        "position": "Position must be one of: bottom-left, bottom-right.",
        "published": "Published must be true or false.",
        "colour": "Colour is not a field this request accepts.",
    }
    assert owner.ok("GET", bots_path(owner)) == []


def test_patch_reports_every_bad_field_and_changes_nothing(owner):
    bot = owner.create_bot(owner.ws)
    fields = details_of(owner.patch(bots_path(owner, bot["id"]), json={"temperature": -1, "top_k": 1.5,
                                                                       "starter_questions": ["ok", ""]}))
    assert fields == {"temperature": "Temperature must be at least 0.", "top_k": "Chunks retrieved (top k) must be a whole number.",
                      "starter_questions[1]": "Starter questions, item 2 must not be empty."}
    assert owner.ok("GET", bots_path(owner, bot["id"])) == bot


def test_checks_beyond_the_types_are_reported_together_too(owner):
    body = {"name": "   ", "allowed_origins": ["not a url", "https://ok.example.com", "https://x.example.com/path"],
            "model": "anthropic/claude-3-5-haiku-latest"}
    fields = details_of(owner.post(bots_path(owner), json=body))
    assert set(fields) == {"name", "allowed_origins[0]", "allowed_origins[2]", "model"}
    assert fields["name"] == "Name must not be empty."
    assert fields["allowed_origins[2]"].startswith("Allowed origins, item 3 must be an origin only")


@pytest.mark.parametrize("body, field, message", [
    ({}, "name", "Name is required."),
    ([], "body", "Body must be a JSON object."),
    ({"name": "x" * 101}, "name", "Name must be at most 100 characters."),
    ({"name": 5}, "name", "Name must be text."),
])
def test_one_bad_field_reads_as_a_sentence(owner, body, field, message):
    assert details_of(owner.post(bots_path(owner), json=body)) == {field: message}


def test_summary_names_the_api_fields_for_raw_readers(owner):
    error = owner.post(bots_path(owner), json={"name": "Bot", "temperature": 9, "top_k": 0}).json()["error"]
    assert error["message"] == "Check temperature, top_k: Temperature must be at most 2. Chunks retrieved (top k) must be at least 1."


def test_errors_raised_by_hand_elsewhere_are_sentences_too(owner, client_factory):
    invitation = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/invitations",
                          json={"email": "new@example.com", "role": "viewer"})
    token = invitation["accept_url"].rsplit("/", 1)[1]
    stranger = client_factory()
    refused = stranger.post(f"/api/v1/invitations/{token}/accept", json={})
    assert refused.status_code == 401
    assert refused.json()["error"]["details"] == [{"field": "email", "message": "Email required when not logged in."}]
    invalid = details_of(owner.post(f"/api/v1/workspaces/{owner.ws}/invitations", json={"email": "nope", "role": "viewer"}))
    assert invalid == {"email": "Email is not a valid email address."}


@pytest.mark.parametrize("path, label", [
    ("temperature", "Temperature"), ("starter_questions[6]", "Starter questions, item 7"),
    ("items[0].answer", "Answer 1"), ("allowed_origins[2]", "Allowed origins, item 3"),
])
def test_nested_fields_are_named_as_the_form_names_them(path, label):
    from modelpilot.core.fields import label_for

    assert label_for(path) == label


def test_faq_pairs_name_the_pair_in_plain_words(owner):
    bot = owner.create_bot(owner.ws)
    response = owner.post(f"{bots_path(owner, bot['id'])}/documents/faq",
                          json={"items": [{"question": "Hours?", "answer": "Nine to five."}, {"question": "Refunds?"}]})
    fields = details_of(response)
    assert fields == {"items[1].answer": "Answer 2 is required."}


def test_bad_query_parameters_read_as_sentences_too(owner):
    bot = owner.create_bot(owner.ws)
    cases = [(f"/api/v1/workspaces/{owner.ws}/conversations", {"limit": "many"}, "limit"),
             (f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/search", {}, "q")]
    for path, params, field in cases:
        fields = details_of(owner.get(path, params=params))
        assert list(fields) == [field], fields
