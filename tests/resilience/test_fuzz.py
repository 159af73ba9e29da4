"""Fuzz every operation of the live OpenAPI schema: no 500s, no hangs.

Schemathesis generates requests from /schema/openapi.json, valid ones (that fit the schema)
and invalid ones, and sends them over real HTTP as a workspace admin (API token) and, for the
public widget routes, as an anonymous visitor. Path parameters naming objects we created are
pinned to real ids so the handlers behind the 404s are reached too. Examples per operation are
bounded so the run stays short.
"""

from __future__ import annotations

import re

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.support import Api

EXAMPLES_PER_MODE = 6
REQUEST_TIMEOUT = 20
# Operations that would end the fuzz run itself (deleting the workspace it runs in).
SKIP = {"DELETE /api/v1/workspaces/{ws}"}
pytestmark = pytest.mark.slow


def known_ids(owner: Api, live_url: str) -> dict[str, str]:
    """Real objects in the owner's workspace, by the path parameter names routes use."""
    ids = {"ws": owner.ws}
    bots = owner.get(f"/api/v1/workspaces/{owner.ws}/chatbots")
    if bots.status_code == 200:
        bot = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/chatbots",
                       json={"name": "Fuzz bot", "published": True, "allowed_origins": [live_url]})
        ids.update(bot=bot["id"], bot_id=bot["id"])
        owner.post(f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/documents/text",
                   json={"title": "Fuzz doc", "text": "Opening hours are nine to five."})
    return ids


def deliberate_refusal(response) -> bool:
    """A 503 naming why (a feature not configured, e.g. billing without Stripe) is an answer,
    not a crash; a 500, or any 5xx without our error body, is a bug."""
    if response.status_code != 503:
        return False
    try:
        return bool(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return False


def run_operation(operation, mode: GenerationMode, base_url: str, headers: dict, pinned: dict,
                  failures: list[str]) -> None:
    params = {name: value for name, value in pinned.items()
              if name in {p.name for p in operation.path_parameters}}
    session = requests.Session()

    @hypothesis_settings(max_examples=EXAMPLES_PER_MODE, deadline=None, database=None, derandomize=True,
                         suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(operation.as_strategy(generation_mode=mode, path_parameters=params or None))
    def send(case) -> None:
        label = f"{operation.method.upper()} {operation.path} ({mode.value})"
        try:
            response = case.call(base_url=base_url, session=session, headers=headers, timeout=REQUEST_TIMEOUT)
        except requests.Timeout:
            failures.append(f"{label}: no answer within {REQUEST_TIMEOUT}s")
            return
        if response.status_code >= 500 and not deliberate_refusal(response):
            failures.append(f"{label}: {response.status_code} {response.text[:300]}")

    try:
        send()
    except Unsatisfiable:
        pass  # nothing to make invalid (no parameters, no body): the positive run covered it
    finally:
        session.close()


@pytest.mark.timeout(600)
def test_no_request_from_the_schema_gets_a_500_or_hangs(server, owner) -> None:
    base_url = server.url
    token = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/api-tokens", json={"name": "fuzz", "role": "admin"})
    admin_headers = {"Authorization": f"Bearer {token['token']}"}
    pinned = known_ids(owner, base_url)
    schema = schemathesis.openapi.from_url(base_url + "/schema/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10
    for operation in operations:
        if f"{operation.method.upper()} {operation.path}" in SKIP:
            continue
        public = "/api/v1/widget/" in operation.path
        headers = {"Origin": base_url} if public else admin_headers
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run_operation(operation, mode, base_url, headers, pinned, failures)
    assert not failures, "\n".join(failures[:30])
    assert owner.get("/healthz").status_code == 200


def test_every_operation_with_a_json_body_refuses_other_media_types(server, owner) -> None:
    """A body framed as a form or text/plain (what a cross-site HTML form can send without a
    preflight) is a 415 on every JSON operation of the schema, and never a 500 elsewhere."""
    token = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/api-tokens", json={"name": "fuzz", "role": "admin"})
    pinned = known_ids(owner, server.url)
    schema = owner.ok("GET", "/schema/openapi.json")
    failures, checked = [], 0
    for path, operations in schema["paths"].items():
        for method, spec in operations.items():
            if f"{method.upper()} {path}" in SKIP or "requestBody" not in spec:
                continue
            url = re.sub(r"\{(\w+)\}", lambda m: pinned.get(m.group(1), "some-id"), path)
            json_body = "application/json" in spec["requestBody"].get("content", {})
            headers = {"Origin": server.url} if "/api/v1/widget/" in path else {"Authorization": f"Bearer {token['token']}"}
            for content_type in ("text/plain", "application/x-www-form-urlencoded"):
                response = owner.request(method.upper(), url, content=b'{"name": "x", "\xff": 1}',
                                         headers={**headers, "Content-Type": content_type})
                checked += 1
                if (json_body and response.status_code != 415) or response.status_code >= 500 \
                        and not deliberate_refusal(response):
                    failures.append(f"{method.upper()} {path} as {content_type}: {response.status_code} {response.text[:200]}")
    assert checked > 20
    assert not failures, "\n".join(failures[:30])
