"""The direct client's proxy from the environment (providers/env_proxy.py): the same answers as
aiohttp's trust_env, looked up once per origin instead of in two threads on every request."""

from __future__ import annotations

import asyncio

import pytest
from yarl import URL

from modelpilot.providers import env_proxy


@pytest.fixture(autouse=True)
def fresh_lookups(monkeypatch, tmp_path):
    monkeypatch.setattr(env_proxy, "_found", {})
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))  # no login file unless a test writes one


def options(url: str) -> dict:
    return asyncio.run(env_proxy.request_options(url))


def test_the_environments_proxy_goes_with_requests_to_its_scheme(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://user:pw@proxy.internal:3128")
    found = options("http://llm.internal:8000/v1/chat/completions")
    assert found["proxy"] == URL("http://proxy.internal:3128")
    assert (found["proxy_auth"].login, found["proxy_auth"].password) == ("user", "pw")
    assert options("https://api.example.com/v1/chat/completions") == {}


def test_no_proxy_hosts_and_an_empty_environment_get_none(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "llm.internal")
    assert options("http://llm.internal:8000/v1/chat/completions") == {}
    assert "proxy" in options("http://other.internal:8000/v1/chat/completions")


def test_each_origin_is_looked_up_once(monkeypatch):
    calls = []
    monkeypatch.setattr(env_proxy, "_lookup", lambda url: calls.append(str(url)) or {})
    for _ in range(3):
        options("http://llm.internal:8000/v1/chat/completions")
    options("http://llm.internal:8000/v1/other")
    options("http://second.internal/v1/chat/completions")
    assert len(calls) == 2


def test_a_netrc_login_is_used_only_without_an_authorization_header(tmp_path):
    (tmp_path / "netrc").write_text("machine llm.internal login me password secret\n")
    found = options("http://llm.internal:8000/v1/chat/completions")
    assert (found["auth"].login, found["auth"].password) == ("me", "secret")
    keyless = env_proxy.with_env_options({"headers": {}}, found)
    assert keyless["auth"] == found["auth"]
    keyed = env_proxy.with_env_options({"headers": {"Authorization": "Bearer sk-x"}}, found)
    assert "auth" not in keyed
