"""Leads and verified visitors: what an identity token adds to the widget's chat and history.

A real server process on 127.0.0.1 (builtin/extractive model: no provider, so the timing is the
server's own path), one published bot with a lead form and an identity secret. Requests
alternate between an anonymous visitor and a verified one (a fresh HS256 token, the same `sub`),
so both see the same machine load; the ratio verified / anonymous is the figure to watch
(verification: one read of the sealed secret, AES-GCM open, HMAC check, one contact read).

    ./scripts/bench leads            (or: .venv/bin/python bench/leads.py --rounds 60)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from typing import Iterator

import jwt
from _common import summary_ms, write_results

from tests.support import Api

ORIGIN = {"origin": "https://shop.example.com"}


@contextmanager
def server_process() -> Iterator[str]:
    data_dir = tempfile.mkdtemp(prefix="mp-bench-leads-")
    command = [sys.executable, "-m", "modelpilot", "serve", "--port", "0", "--data-dir", data_dir,
               "--log-level", "warning"]
    env = {**os.environ, "MODELPILOT_LLM_PRELOAD": "false", "MODELPILOT_WIDGET_IP_MESSAGES_PER_MINUTE": "100000",
           "MODELPILOT_WIDGET_SESSION_MESSAGES_PER_MINUTE": "100000",
           "MODELPILOT_WIDGET_IP_REQUESTS_PER_MINUTE": "100000", "MODELPILOT_WIDGET_DAILY_MESSAGES": "1000000"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = process.stdout.readline()
        yield line.split(" on ", 1)[1].split()[0]
    finally:
        process.terminate()
        process.wait(timeout=30)


def timed(call) -> float:
    start = time.perf_counter()
    response = call()
    assert response.status_code == 200, response.text
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    with server_process() as url:
        owner = Api(url)
        owner.setup_owner()
        bot = owner.create_bot(owner.ws, name="Bench", published=True, lead_form={"enabled": True})
        secret = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/identity-secret", 201)["secret"]
        visitor = Api(url)
        samples: dict[str, list[float]] = {"chat_anonymous": [], "chat_verified": [], "history_anonymous": [],
                                           "history_verified": []}
        for i in range(args.rounds + 5):
            token = jwt.encode({"sub": "bench-user", "exp": int(time.time()) + 600}, secret, algorithm="HS256")
            for kind, headers in (("anonymous", ORIGIN), ("verified", {**ORIGIN, "x-modelpilot-identity": token})):
                session = f"bench-{kind}-session-000000000"
                chat = timed(lambda: visitor.post(f"/api/v1/widget/{bot['id']}/chat", headers=headers,
                                                  json={"session_id": session, "message": f"question {i}"}))
                history = timed(lambda: visitor.get(f"/api/v1/widget/{bot['id']}/history", headers=headers,
                                                    params={"session_id": session}))
                if i >= 5:  # the first rounds warm the server up
                    samples[f"chat_{kind}"].append(chat)
                    samples[f"history_{kind}"].append(history)
    results = {name: summary_ms(values) for name, values in samples.items()}
    for route in ("chat", "history"):
        results[f"{route}_verified_over_anonymous_p50"] = round(
            results[f"{route}_verified"]["p50_ms"] / results[f"{route}_anonymous"]["p50_ms"], 3)
    results["load_average"] = os.getloadavg()
    write_results("leads", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
