"""Chat replies and background jobs show up in /metrics."""

from __future__ import annotations


from tests.ops.test_metrics_registry import parse
from tests.support import eventually


def scrape(api) -> dict[str, float]:
    return parse(api.get("/metrics").text)


def test_chat_replies_tokens_and_cost_are_counted(owner, fake_llm) -> None:
    owner.add_provider(owner.ws, "openai", api_base=fake_llm.url)
    bot = owner.create_bot(owner.ws, model="openai/gpt-4o-mini")
    before = scrape(owner)
    ok_key = 'modelpilot_chat_replies_total{channel="api",outcome="ok"}'
    error_key = 'modelpilot_chat_replies_total{channel="api",outcome="error"}'
    assert owner.chat(owner.ws, bot["id"], "hello")[-1].get("done")
    assert "error" in owner.chat(owner.ws, bot["id"], "break [[fail500]]")[-1]
    after = scrape(owner)
    assert after[ok_key] == before.get(ok_key, 0) + 1
    assert after[error_key] == before.get(error_key, 0) + 1
    assert after['modelpilot_chat_tokens_total{direction="out"}'] > before.get(
        'modelpilot_chat_tokens_total{direction="out"}', 0)
    assert after['modelpilot_chat_reply_seconds_count{channel="api"}'] >= 2
    assert after['modelpilot_chat_first_token_seconds_count{channel="api"}'] >= 1
    assert "modelpilot_chat_cost_usd_total" in after


def test_jobs_are_counted_and_the_queue_is_visible(owner) -> None:
    bot = owner.create_bot(owner.ws)
    key = 'modelpilot_jobs_finished_total{kind="knowledge.ingest",outcome="ok"}'
    before = scrape(owner)
    owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/documents/text", 202,
             json={"title": "Hours", "text": "We open at nine and close at five."})
    eventually(lambda: scrape(owner).get(key, 0), lambda done: done > before.get(key, 0), timeout=60, interval=0.2,
               what="the ingestion job finishing")
    after = scrape(owner)
    assert after['modelpilot_jobs{status="queued"}'] == 0
    assert 'modelpilot_jobs{status="error"}' in after
