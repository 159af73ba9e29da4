"""A flood of widget requests from one address is rate-limited while another address is served.

The server sits behind a trusted proxy (127.0.0.1), so X-Forwarded-For names the visitor.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from modelpilot.settings import _networks
from tests.support import Api
from tests.widget_support import HOST_PAGE_ORIGIN, make_bot, sse_events

FLOODER, NEIGHBOUR = "198.51.100.66", "203.0.113.7"
pytestmark = pytest.mark.slow


def as_visitor(address: str) -> dict:
    return {"origin": HOST_PAGE_ORIGIN, "x-forwarded-for": address}


def test_one_address_flooding_does_not_starve_another(server_factory, fake_llm) -> None:
    live = server_factory(trusted_proxies=_networks("127.0.0.1"), widget_ip_requests_per_minute=30,
                          widget_ip_messages_per_minute=5)
    owner = Api(live.url)
    owner.setup_owner()
    bot = make_bot(owner, fake_llm, allowed_origins=[HOST_PAGE_ORIGIN])
    config = f"/api/v1/widget/{bot['id']}/config"

    def flood(_: int) -> int:
        with httpx.Client(base_url=live.url, timeout=30) as client:
            return client.get(config, headers=as_visitor(FLOODER)).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(flood, range(200)))
    assert statuses.count(429) >= 150 and set(statuses) <= {200, 429}

    with httpx.Client(base_url=live.url, timeout=30) as client:
        refused = client.get(config, headers=as_visitor(FLOODER))
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert refused.json()["error"]["code"] == "rate_limited"
        for _ in range(10):
            assert client.get(config, headers=as_visitor(NEIGHBOUR)).status_code == 200

        def chat(address: str, session: str) -> httpx.Response:
            return client.post(f"/api/v1/widget/{bot['id']}/chat", headers=as_visitor(address),
                               json={"session_id": session, "message": "Hello?"})

        flooded = [chat(FLOODER, f"flood-session-{i:02d}-xxxxxxxxxxxxxxxx").status_code for i in range(12)]
        assert flooded.count(429) >= 6
        answer = chat(NEIGHBOUR, "neighbour-session-xxxxxxxxxxxxxxxx")
        assert answer.status_code == 200 and sse_events(answer)[-1].get("done") is True
    owner.close()
