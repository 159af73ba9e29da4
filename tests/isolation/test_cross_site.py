"""Cross-site requests, checked for every route the app has (new ones included).

Walking the live route table, as a logged-in member of a workspace:
  1. every unsafe request with the session cookie from a foreign origin is refused (403),
     also when it carries an Authorization header that is not a workspace API token;
  2. every route that takes a JSON body refuses one sent as a form or text/plain (415), so a
     cross-site HTML form can never be read as JSON;
  3. the routes that hand out sessions refuse a foreign origin even without a cookie.
Nothing the refused requests asked for happens.
"""

from __future__ import annotations

import pytest

from modelpilot.app import CSRF_EXEMPT, CSRF_SESSION_ROUTES
from modelpilot.core.body_type import takes_json_body
from tests.isolation.test_isolation import PARAM, SKIP_PREFIXES
from tests.support import Api

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
FOREIGN = [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
           {"Origin": "https://evil.example", "Authorization": "Basic ZXZpbDpldmls"},
           {"Sec-Fetch-Site": "same-site", "Authorization": "Bearer not-an-mp-token"}]


def unsafe_routes(app) -> list[tuple[str, str, object]]:
    """(method, path, handler) for every unsafe method of every route."""
    found = []
    for route in app.routes:
        if route.path.startswith(SKIP_PREFIXES) or not hasattr(route, "route_handlers"):
            continue
        path = PARAM.sub(lambda m: "{" + m.group(1) + "}", route.path)
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods & UNSAFE):
                found.append((method, path, handler))
    return found


def filled(path: str, ws: str) -> str:
    return PARAM.sub(lambda m: ws if m.group(1) == "ws" else "some-id", path)


@pytest.fixture
def member(server_factory):
    live = server_factory(open_signup=True)
    client = Api(live.url)
    client.setup_owner("a@example.com", "Workspace A")
    yield live, client
    client.close()


def state(client: Api) -> tuple:
    """What a refused request could have changed, seen by the owner."""
    workspaces = client.ok("GET", "/api/v1/workspaces")
    ws = client.ws
    return (sorted((w["id"], w["name"]) for w in workspaces),
            client.ok("GET", f"/api/v1/workspaces/{ws}/members"),
            len(client.ok("GET", f"/api/v1/workspaces/{ws}/api-tokens")),
            len(client.ok("GET", f"/api/v1/workspaces/{ws}/chatbots")))


def test_every_unsafe_cookie_request_from_a_foreign_origin_is_refused(member) -> None:
    live, client = member
    before = state(client)
    routes = [r for r in unsafe_routes(live.app) if not r[1].startswith(CSRF_EXEMPT)]
    assert len(routes) > 20
    for method, path, _ in routes:
        for headers in FOREIGN:
            response = client.request(method, filled(path, client.ws), json={}, headers=headers)
            assert response.status_code == 403, f"{method} {path} {headers}: {response.status_code} {response.text}"
            assert response.json()["error"]["code"] == "csrf_refused", f"{method} {path}"
    assert state(client) == before


def test_every_json_route_refuses_a_body_that_is_not_json(member) -> None:
    live, client = member
    before = state(client)
    routes = [r for r in unsafe_routes(live.app) if takes_json_body(r[2])]
    assert len(routes) > 15
    for method, path, _ in routes:
        for content_type in ("text/plain", "application/x-www-form-urlencoded"):
            response = client.request(method, filled(path, client.ws), content=b'{"name": "x"}',
                                      headers={"Content-Type": content_type})
            assert response.status_code == 415, f"{method} {path} as {content_type}: {response.status_code} {response.text}"
    assert state(client) == before


def test_session_routes_refuse_a_foreign_origin_without_a_cookie(member) -> None:
    live, client = member
    routes = [r for r in unsafe_routes(live.app) if r[1].startswith(CSRF_SESSION_ROUTES)]
    assert {path for _, path, _ in routes} >= {"/api/v1/auth/login", "/api/v1/auth/signup", "/api/v1/auth/setup",
                                               "/api/v1/invitations/{token}/accept"}
    with Api(live.url) as stranger:
        for method, path, _ in routes:
            response = stranger.request(method, filled(path, client.ws), json={}, headers=FOREIGN[0])
            assert response.status_code == 403, f"{method} {path}: {response.status_code} {response.text}"
            assert "mp_session" not in stranger.cookies
