"""Tenant isolation, checked for every route the app has.

The harness walks the live route table. Every authenticated route must have a scenario (or be
listed as public with a reason), so a route added later without one fails this suite. As a
member of workspace B (by session cookie and by API token) it calls each route:
  1. with workspace A's id in the path: 404;
  2. with its own workspace B and A's object ids: 404;
  3. with its own workspace and no foreign ids: whatever it answers, nothing of A's appears.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Iterator

import pytest

import tests.isolation as pkg
from tests.support import Api

PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
SKIP_PREFIXES = ("/schema",)
SAFE_FIRST = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}


def scenario_modules() -> list:
    return [importlib.import_module(f"tests.isolation.{m.name}")
            for m in pkgutil.iter_modules(pkg.__path__) if m.name.startswith("scenarios_")]


def route_keys(app) -> Iterator[tuple[str, str]]:
    for route in app.routes:
        path = PARAM.sub(lambda m: "{" + m.group(1) + "}", route.path)
        if path.startswith(SKIP_PREFIXES) or not hasattr(route, "methods"):
            continue
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            yield method, path


def fill(path: str, values: dict) -> str:
    return PARAM.sub(lambda m: values[m.group(1)], path)


@pytest.fixture
def world(server_factory):
    live = server_factory(open_signup=True, provider_allow_private=True)  # the fake LLM is on 127.0.0.1
    a, b = Api(live.url), Api(live.url)
    a.setup_owner("a@example.com", "Workspace A")
    b.signup("b@example.com", "Workspace B")
    ids = {"ws": a.ws}
    modules = scenario_modules()
    for module in modules:
        module.create_resources(a, ids)
    b_token = b.ok("POST", f"/api/v1/workspaces/{b.ws}/api-tokens", json={"name": "b", "role": "admin"})["token"]
    b_bearer = Api(live.url, headers={"Authorization": f"Bearer {b_token}"})
    yield live, a, b, b_bearer, ids, modules
    for client in (a, b, b_bearer):
        client.close()


class Reply:
    """Status and text of a response; for a live stream (spec "stream"), its first bytes only."""

    def __init__(self, status_code: int, text: str) -> None:
        self.status_code, self.text = status_code, text


def call(client: Api, method: str, url: str, spec: dict, **kwargs) -> Reply:
    if not spec.get("stream"):
        response = client.request(method, url, **kwargs)
        return Reply(response.status_code, response.text)
    with client.stream(method, url, **kwargs) as response:
        if response.status_code != 200:
            response.read()
            return Reply(response.status_code, response.text)
        return Reply(200, next(response.iter_text(), ""))


def test_every_route_is_isolated(world) -> None:
    live, a, b, b_bearer, ids, modules = world
    scenarios, public = {}, {}
    for module in modules:
        scenarios.update(module.SCENARIOS)
        public.update(module.PUBLIC)
    keys = sorted(set(route_keys(live.app)), key=lambda k: (SAFE_FIRST.get(k[0], 1), k[1]))
    missing = [f"{m} {p}" for m, p in keys if f"{m} {p}" not in scenarios and f"{m} {p}" not in public]
    assert not missing, "routes without an isolation scenario (add them to tests/isolation/scenarios_*.py):\n" + "\n".join(missing)
    foreign = {v for k, v in ids.items() if isinstance(v, str)}
    for method, path in keys:
        key = f"{method} {path}"
        if key in public:
            continue
        spec = scenarios[key]
        kwargs = {k: spec[k] for k in ("json", "params", "files", "data") if k in spec}
        names = PARAM.findall(path)
        if "ws" in names:
            for client in (b, b_bearer):
                response = call(client, method, fill(path, {**ids, "ws": ids["ws"]}), spec, **kwargs)
                assert response.status_code == 404, f"{key} with A's workspace as B: {response.status_code} {response.text}"
            if len(names) > 1:
                if spec.get("own_names"):
                    # The other path params are names the caller picks inside its own workspace
                    # (PUT /providers/{provider} creates B's own "openai"): nothing of A's to reach.
                    continue
                response = call(b, method, fill(path, {**ids, "ws": b.ws}), spec, **kwargs)
                assert response.status_code == 404, f"{key} with A's ids in B's workspace: {response.status_code} {response.text}"
                continue
            if method == "DELETE":
                continue
            response = call(b, method, fill(path, {"ws": b.ws}), spec, **kwargs)
        else:
            response = call(b, method, fill(path, ids), spec, **kwargs)
        assert response.status_code < 500, f"{key}: {response.status_code} {response.text}"
        leaked = [value for value in foreign if value in response.text]
        assert not leaked, f"{key} as B shows workspace A's ids {leaked}: {response.text[:500]}"


def test_workspace_a_is_untouched_afterwards(world) -> None:
    live, a, b, b_bearer, ids, modules = world
    test_every_route_is_isolated(world)
    members = a.ok("GET", f"/api/v1/workspaces/{ids['ws']}/members")
    assert {m["user_id"] for m in members} >= {ids["user_id"], a.user["id"]}
    assert a.ok("GET", f"/api/v1/workspaces/{ids['ws']}")["name"] == "Workspace A"
