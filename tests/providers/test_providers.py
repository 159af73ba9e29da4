"""Providers: keys sealed and masked, never shown or logged; admins only; the one-token test."""

from __future__ import annotations

import logging

import pytest

from modelpilot.core.database import connect_sync_for
from tests.support import Api

KEY = "sk-live-SECRETSECRET-9876abcd"


def providers_path(api: Api, name: str = "") -> str:
    return f"/api/v1/workspaces/{api.ws}/providers" + (f"/{name}" if name else "")


def test_saved_key_is_sealed_at_rest_and_only_a_mask_comes_back(owner, server, fake_llm, caplog):
    caplog.set_level(logging.INFO)
    saved = owner.add_provider(owner.ws, "openai", KEY, fake_llm.url)
    assert saved["key_mask"] == "sk-...abcd" and saved["api_base"] == fake_llm.url
    listed = owner.ok("GET", providers_path(owner))
    assert [p["provider"] for p in listed] == ["openai"] and listed[0]["key_mask"] == "sk-...abcd"
    bot = owner.create_bot(owner.ws, model="gpt-4o-mini")
    owner.chat(owner.ws, bot["id"], "hello")
    owner.ok("POST", providers_path(owner, "openai") + "/test", json={"model": "gpt-4o-mini"})
    audit = owner.get(f"/api/v1/workspaces/{owner.ws}/audit-log").text
    for text in (str(saved), str(listed), audit, caplog.text):
        assert "SECRETSECRET" not in text
    conn = connect_sync_for(server.settings, readonly=True)
    try:
        sealed = conn.execute("SELECT sealed_key FROM providers").fetchone()[0]
    finally:
        conn.close()
    assert sealed.startswith("v1.") and "SECRET" not in sealed
    assert fake_llm.requests[-1]["max_tokens"] == 1


def test_wrong_key_is_reported_in_plain_words_by_the_key_test(owner, fake_llm, caplog):
    caplog.set_level(logging.INFO)
    owner.add_provider(owner.ws, "openai", "sk-wrong-key-0123456789", fake_llm.url)
    result = owner.ok("POST", providers_path(owner, "openai") + "/test", json={"model": "gpt-4o-mini"})
    assert result["ok"] is False and result["error"]["code"] == "provider_auth"
    assert "rejected the API key" in result["error"]["message"]
    assert "0123456789" not in result["error"]["message"] and "0123456789" not in caplog.text
    good = owner.add_provider(owner.ws, "openai", "sk-right-key-0123456789", fake_llm.url)
    assert good["key_mask"] == "sk-...6789"
    assert owner.ok("POST", providers_path(owner, "openai") + "/test", json={"model": "gpt-4o-mini"})["ok"] is True


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_admins_change_providers(owner, client_factory, fake_llm, role):
    owner.add_provider(owner.ws, "openai", KEY, fake_llm.url)
    member = client_factory()
    owner.invite_and_join(member, f"{role}@example.com", role)
    assert member.ok("GET", providers_path(member))[0]["key_mask"] == "sk-...abcd"
    for method, path, body in [("PUT", providers_path(member, "openai"), {"api_key": "sk-mine-000000000000"}),
                               ("PUT", providers_path(member, "groq"), {"api_key": "sk-mine-000000000000"}),
                               ("DELETE", providers_path(member, "openai"), None),
                               ("POST", providers_path(member, "openai") + "/test", {})]:
        response = member.request(method, path, json=body)
        assert response.status_code == 403, (method, path, response.text)
    assert owner.ok("GET", providers_path(owner))[0]["key_mask"] == "sk-...abcd"


@pytest.mark.parametrize("name, body, field", [
    ("Open AI", {"api_key": "sk-x-0123456789"}, "provider"),
    ("not_a_provider", {"api_key": "sk-x-0123456789"}, "provider"),
    ("openai", {}, "api_key"),
    ("openai", {"api_key": "sk-x-0123456789", "api_base": "ftp://example.com"}, "api_base"),
    ("openai_compatible", {"api_key": "x"}, "api_base"),
    ("openai", {"api_key": "sk-x-0123456789", "region": "eu"}, "region"),
])
def test_bad_provider_input_is_refused_naming_the_field(owner, name, body, field):
    response = owner.put(providers_path(owner, name), json=body)
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]["message"]
    assert owner.ok("GET", providers_path(owner)) == []


def test_local_servers_need_no_key_and_deleting_forgets_the_key(owner):
    saved = owner.add_provider(owner.ws, "ollama", "", "http://localhost:11434")
    assert saved["key_mask"] == "" and saved["api_base"] == "http://localhost:11434"
    owner.ok("DELETE", providers_path(owner, "ollama"), 204)
    assert owner.delete(providers_path(owner, "ollama")).status_code == 404
    assert owner.post(providers_path(owner, "ollama") + "/test", json={}).status_code == 404
