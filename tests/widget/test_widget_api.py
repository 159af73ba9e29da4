"""Public widget API: config, origin checks with CORS, preflight, rate limits."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from modelpilot.widget.guard import VisitorHasher, normalize_origin, origin_allowed
from modelpilot.widget.service import seconds_until_tomorrow
from tests.widget_support import HOST_PAGE_ORIGIN, from_page, make_bot


def config_path(bot: dict) -> str:
    return f"/api/v1/widget/{bot['id']}/config"


def test_config_of_a_published_bot_has_its_look_and_nothing_private(server, owner) -> None:
    bot = make_bot(owner, name="Acme Help", starter_questions=["Prices?", "Hours?"])
    response = owner.get(config_path(bot), headers=from_page())
    assert response.status_code == 200
    assert response.json() == {
        "botId": bot["id"], "botName": "Acme Help", "greeting": "Hi! How can I help?", "accentColor": "#0f766e",
        "position": "bottom-right", "starterQuestions": ["Prices?", "Hours?"], "maxMessageChars": 2000,
        "handoff": None, "leadForm": None,
    }
    assert "secret system prompt" not in response.text
    assert response.headers["access-control-allow-origin"] == HOST_PAGE_ORIGIN


@pytest.mark.parametrize("bot_id", ["unpublished", "no-such-bot", "x" * 200])
def test_config_is_404_unless_the_bot_exists_and_is_published(server, owner, bot_id) -> None:
    hidden = make_bot(owner, published=False)
    path = config_path(hidden) if bot_id == "unpublished" else f"/api/v1/widget/{bot_id}/config"
    response = owner.get(path, headers=from_page())
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("origin, allowed", [
    ("https://shop.example.com", True),
    ("HTTPS://Shop.Example.com:443", True),
    ("https://shop.example.com.evil.test", False),
    ("http://shop.example.com", False),
    ("https://evil.test", False),
    ("null", False),
])
def test_allowed_origins_decide_who_may_embed(server, owner, origin, allowed) -> None:
    bot = make_bot(owner, allowed_origins=["https://shop.example.com"])
    response = owner.get(config_path(bot), headers=from_page(origin))
    if allowed:
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == origin
    else:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "origin_not_allowed"
        assert "access-control-allow-origin" not in response.headers


def test_a_bot_without_allowed_origins_works_from_any_site(server, owner) -> None:
    bot = make_bot(owner, allowed_origins=[])
    for origin in ("https://a.example", "http://127.0.0.1:9999"):
        response = owner.get(config_path(bot), headers=from_page(origin))
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == origin
        assert "Origin" in response.headers["vary"]


@pytest.mark.parametrize("action", ["config", "chat", "history", "feedback"])
def test_preflight_grants_only_allowed_origins(server, owner, action) -> None:
    bot = make_bot(owner, allowed_origins=["https://shop.example.com"])
    path = f"/api/v1/widget/{bot['id']}/{action}"
    asked = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}
    granted = owner.options(path, headers=from_page(**asked))
    assert granted.status_code == 204
    assert granted.headers["access-control-allow-origin"] == HOST_PAGE_ORIGIN
    assert "POST" in granted.headers["access-control-allow-methods"]
    assert "Content-Type" in granted.headers["access-control-allow-headers"]
    refused = owner.options(path, headers=from_page("https://evil.test", **asked))
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers


def test_preflight_for_an_unpublished_bot_is_404(server, owner) -> None:
    bot = make_bot(owner, published=False)
    response = owner.options(f"/api/v1/widget/{bot['id']}/chat", headers=from_page())
    assert response.status_code == 404


def test_config_requests_are_rate_limited_per_address_with_a_readable_429(server_factory, client_factory) -> None:
    live = server_factory(widget_ip_requests_per_minute=3)
    from tests.support import Api

    owner = Api(live.url)
    owner.setup_owner()
    bot = make_bot(owner)
    statuses = [owner.get(config_path(bot), headers=from_page()).status_code for _ in range(3)]
    limited = owner.get(config_path(bot), headers=from_page())
    owner.close()
    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    # The page may read the 429 to show its message.
    assert limited.headers["access-control-allow-origin"] == HOST_PAGE_ORIGIN


def test_origin_normalization() -> None:
    assert normalize_origin("HTTPS://Example.COM:443/") == "https://example.com"
    assert normalize_origin("http://example.com:8080") == "http://example.com:8080"
    assert normalize_origin("javascript:alert(1)") == ""
    assert normalize_origin("http://[::1]:80") == "http://[::1]"
    assert origin_allowed("", ["https://example.com"])  # not a browser page: see origin_allowed
    assert not origin_allowed("https://example.com", ["not an origin"])


def test_visitor_hash_hides_the_address_and_changes_daily() -> None:
    hasher = VisitorHasher()
    monday = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
    first = hasher.hash("203.0.113.7", monday)
    assert first == hasher.hash("203.0.113.7", monday.replace(hour=23))
    assert first != hasher.hash("203.0.113.8", monday)
    assert "203.0.113.7" not in first and len(first) == 32
    assert hasher.hash("203.0.113.7", monday.replace(day=3)) != first
    assert VisitorHasher().hash("203.0.113.7", monday) != first  # salt is random per process


def test_retry_after_for_the_daily_cap_points_at_utc_midnight() -> None:
    assert seconds_until_tomorrow(datetime(2026, 3, 2, 23, 59, 30, tzinfo=timezone.utc)) == 30
    assert seconds_until_tomorrow(datetime(2026, 3, 2, 0, 0, 0, tzinfo=timezone.utc)) == 86400
