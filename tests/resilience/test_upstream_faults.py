"""The model failing, stalling and dropping mid-stream while many visitors chat at once.

Every visitor must get a clear end to the stream (done, or an error event with a code and a
message), whatever was streamed before a failure must be saved, and the server must keep
answering other requests meanwhile.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support import Api
from tests.widget_support import HOST_PAGE_ORIGIN, make_bot, sse_events

# (magic words, how the stream must end, whether text arrives before the end)
BEHAVIOURS = [
    ("", "done", True),
    ("[[fail500]]", "error", False),
    ("[[stall]]", "error", False),
    ("[[stallmid]]", "error", True),
    ("[[drop]]", "error", True),
]
VISITORS_PER_BEHAVIOUR = 5


def visitor_chat(base_url: str, bot_id: str, words: str, index: int) -> dict:
    session_id = f"visitor-{index:03d}-{'x' * 20}"
    with httpx.Client(base_url=base_url, timeout=60) as client:
        response = client.post(f"/api/v1/widget/{bot_id}/chat", headers={"origin": HOST_PAGE_ORIGIN},
                               json={"session_id": session_id, "message": f"Question {index} {words}"})
        events = sse_events(response) if response.status_code == 200 else []
    return {"words": words, "session_id": session_id, "status": response.status_code, "events": events}


def saved_answer(client: httpx.Client, bot_id: str, session_id: str) -> dict:
    response = client.get(f"/api/v1/widget/{bot_id}/history", params={"session_id": session_id},
                          headers={"origin": HOST_PAGE_ORIGIN})
    assert response.status_code == 200, response.text
    body = response.json()
    messages = body["messages"] if isinstance(body, dict) else body
    return [m for m in messages if m["role"] == "assistant"][-1]


@pytest.mark.timeout(180)
def test_faulty_upstream_under_load(server_factory, fake_llm) -> None:
    live = server_factory(llm_idle_timeout=2.0, widget_ip_messages_per_minute=1000,
                          widget_session_messages_per_minute=1000)
    owner = Api(live.url)
    owner.setup_owner()
    bot = make_bot(owner, fake_llm, allowed_origins=[HOST_PAGE_ORIGIN])
    jobs = [(words, index) for index, (words, _, _) in
            enumerate(BEHAVIOURS * VISITORS_PER_BEHAVIOUR)]
    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = [pool.submit(visitor_chat, live.url, bot["id"], words, index) for words, index in jobs]
        # While the streams hang and fail, the server answers everyone else at once.
        for _ in range(5):
            started = time.monotonic()
            assert owner.get("/healthz", timeout=5).status_code == 200
            assert owner.get(f"/api/v1/workspaces/{owner.ws}/chatbots", timeout=5).status_code == 200
            time.sleep(0.2)
        results = [future.result(timeout=120) for future in futures]

    expectations = {words: (end, streams) for words, end, streams in BEHAVIOURS}
    with httpx.Client(base_url=live.url, timeout=30) as client:
        for result in results:
            end, streams_text = expectations[result["words"]]
            label = result["words"] or "normal"
            assert result["status"] == 200, f"{label}: HTTP {result['status']}"
            last = result["events"][-1]
            streamed = "".join(e.get("text", "") for e in result["events"])
            if end == "done":
                assert last.get("done") is True, f"{label}: {last}"
            else:
                assert set(last) == {"error"}, f"{label} must end with an error event: {last}"
                assert last["error"]["code"] and last["error"]["message"]
            assert bool(streamed) == streams_text, f"{label}: streamed {streamed!r}"
            answer = saved_answer(client, bot["id"], result["session_id"])
            assert answer["content"] == streamed, f"{label}: saved {answer['content']!r}, streamed {streamed!r}"
    owner.close()
