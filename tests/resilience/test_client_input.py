"""Input any client can send that once gave a 500 with a traceback: each is a clear 4xx now.

A table beside the schema fuzz (test_fuzz.py): the fuzz generates from the OpenAPI schema and
misses bytes the schema cannot describe (invalid UTF-8, deep nesting, NUL in a query, far dates,
odd IP spellings). Every JSON route of the live schema gets the body cases, so a new route is
covered the day it is added.
"""

from __future__ import annotations


import pytest

# One server for the module: every case here is refused before it changes anything, and the one
# test that writes (a document) does it in a bot of its own.
from tests.shared_server import owner, server  # noqa: F401 (module-scoped fixtures)
from tests.support import Api, eventually
from tests.widget_support import HOST_PAGE_ORIGIN, make_bot

BAD_UTF8 = b'{"message": "caf\xe9 \xff\xfe", "name": "x"}'
DEEP = b"[" * 60_000 + b"]" * 60_000
DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000


@pytest.fixture(scope="module")
def world(owner: Api, fake_llm):
    bot = make_bot(owner, fake_llm, allowed_origins=[HOST_PAGE_ORIGIN])
    token = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/api-tokens", json={"name": "t", "role": "admin"})
    bearer = Api(str(owner.base_url), headers={"Authorization": f"Bearer {token['token']}"})
    yield owner, bearer, bot
    bearer.close()


def json_operations(client: Api, ws: str, bot_id: str) -> list[tuple[str, str, bool]]:
    """(method, concrete path, public) for every route of the live schema that takes a JSON body."""
    schema = client.get("/schema/openapi.json").json()
    found = []
    for path, item in schema["paths"].items():
        for method, spec in item.items():
            content = (spec.get("requestBody") or {}).get("content", {})
            if method.upper() not in {"POST", "PUT", "PATCH"} or "application/json" not in content:
                continue
            concrete = (path.replace("{ws}", ws).replace("{bot}", bot_id).replace("{bot_id}", bot_id)
                        .replace("{provider}", "openai"))
            if "{" in concrete:
                concrete = concrete.split("{")[0] + "x" + concrete.split("}", 1)[1]
            found.append((method.upper(), concrete, False))
    # The public widget reads its bodies itself (no schema body): named here.
    return found + [("POST", f"/api/v1/widget/{bot_id}/chat", True), ("POST", f"/api/v1/widget/{bot_id}/feedback", True)]


@pytest.mark.parametrize("body", [BAD_UTF8, DEEP, DEEP_OBJECT], ids=["invalid-utf8", "deep-array", "deep-object"])
def test_no_json_route_answers_500_to_bytes_that_are_not_json(world, body: bytes) -> None:
    owner, bearer, bot = world
    operations = json_operations(owner, owner.ws, bot["id"])
    assert len(operations) > 10 and any(public for *_, public in operations)
    failures = []
    for method, path, public in operations:
        headers = {"Content-Type": "application/json"}
        if public:
            headers["Origin"] = HOST_PAGE_ORIGIN
        client = owner if public else bearer
        response = client.request(method, path, content=body, headers=headers)
        if response.status_code >= 500 or "error" not in response.json():
            failures.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
        elif body is not BAD_UTF8 and response.status_code == 400:  # (bad bytes in an unread field pass)
            assert response.json()["error"]["details"][0]["field"] == "body", (path, response.text)
    assert not failures, "\n".join(failures)
    assert owner.get("/healthz").status_code == 200


@pytest.mark.parametrize("route", ["conversations", "conversations/export", "analytics/usage"])
@pytest.mark.parametrize("params, field", [
    ({"to": "9999-12-31"}, None), ({"from": "0001-01-01", "to": "9999-12-31"}, None),
    ({"from": "9999-12-31T23:59:59-05:00"}, "from"), ({"to": "0001-01-01T00:00:00+05:00"}, "to"),
])
def test_far_dates_are_answered_not_crashed_on(world, route: str, params: dict, field: str | None) -> None:
    owner, _, _ = world
    response = owner.get(f"/api/v1/workspaces/{owner.ws}/{route}", params=params)
    if field is None:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 400, response.text
        assert response.json()["error"]["details"][0]["field"] == field


@pytest.mark.parametrize("route", ["conversations", "conversations/export"])
@pytest.mark.parametrize("q", ["\x00", "a\x00b", "\x1b[31m"])
def test_control_characters_in_q_are_a_400_naming_q(world, route: str, q: str) -> None:
    owner, _, bot = world
    owner.chat(owner.ws, bot["id"], "hello there")
    response = owner.get(f"/api/v1/workspaces/{owner.ws}/{route}", params={"q": q})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"][0]["field"] == "q"


@pytest.mark.parametrize("path", ["/js/main.js%00.png", "/js/%00", "/css/app.css%00", "/%00/index.html",
                                  "/js/main.js%0a", "/js/m%ffain.js"])
def test_static_paths_with_control_bytes_are_404(owner: Api, path: str) -> None:
    response = owner.get(path)
    assert response.status_code == 404, response.text


@pytest.mark.parametrize("url", ["http://0177.0.0.1/", "http://127.000.000.001/", "http://\u2460\u2461\u2466.0.0.1/",
                                 "http://2130706433/", "http://0x7f.0.0.1/", "http://127.1/",
                                 "http://\uff11\uff12\uff17.0.0.1/", "http://exa\u200bmple.com/"])
def test_odd_spellings_of_addresses_are_refused_at_submit_naming_url(world, url: str) -> None:
    owner, _, bot = world
    docs = f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/documents"
    response = owner.post(docs + "/url", json={"url": url, "mode": "page", "max_pages": 1})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"][0]["field"] == "url"
    assert owner.ok("GET", docs) == []


def test_an_odd_host_already_queued_ends_in_error_and_the_worker_goes_on(world, fake_llm) -> None:
    """A URL stored before the submit check existed: the job fails cleanly, later jobs still run."""
    from modelpilot.core.safe_http import FetchError, SafeFetcher

    import anyio

    async def fetch(url: str) -> str:
        try:
            await SafeFetcher().fetch(url)
        except FetchError as exc:
            return exc.code
        return "fetched"

    for url in ("http://\u2460\u2461\u2466.0.0.1/", "http://0177.0.0.1/", "http://exa\u200bmple.com/"):
        assert anyio.run(fetch, url) in {"bad_url", "blocked_address"}
    owner, _, _ = world
    bot = make_bot(owner, fake_llm)  # its own: the others expect the shared bot to hold no document
    docs = f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/documents"
    owner.ok("POST", docs + "/text", 202, json={"title": "Hours", "text": "We open at nine."})
    eventually(lambda: owner.ok("GET", docs)[0], lambda doc: doc["status"] == "indexed", timeout=30, interval=0.1,
               what="indexing the text after the odd host")

