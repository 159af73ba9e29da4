"""The dashboard's static files: served at /, typed, cacheable by ETag, under a strict CSP."""

from __future__ import annotations

import re

import pytest

from modelpilot.web_routes import CONTENT_SECURITY_POLICY
# One server for the module: these tests only read the dashboard's files.
from tests.shared_server import server  # noqa: F401 (a module-scoped fixture)
from tests.support import Api

ASSETS = [
    ("/", "text/html"),
    ("/css/app.css", "text/css"),
    ("/js/main.js", "text/javascript"),
    ("/js/pages/team.js", "text/javascript"),
    ("/img/favicon.svg", "image/svg+xml"),
]


@pytest.mark.parametrize(("path", "content_type"), ASSETS)
def test_assets_have_their_content_type_csp_and_etag(api, path, content_type) -> None:
    response = api.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(content_type)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["etag"].startswith('"')


def test_index_loads_only_same_origin_modules(api) -> None:
    html = api.get("/").text
    assert '<script type="module" src="/js/main.js"></script>' in html
    assert "<script>" not in html and not re.search(r"\son[a-z]+=", html) and "style=" not in html
    assert "http://" not in html and "https://" not in html


def test_unchanged_file_revalidates_with_304(api) -> None:
    first = api.get("/js/api.js")
    again = api.get("/js/api.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    changed = api.get("/js/api.js", headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200 and changed.content == first.content


@pytest.mark.parametrize("path", [
    "/js/../../modelpilot/settings.py",
    "/js/%2e%2e/%2e%2e/pyproject.toml",
    "/css/..%2f..%2fpyproject.toml",
    "/js/.hidden",
    "/js/no-such-module.js",
    "/img/",
])
def test_nothing_outside_web_or_missing_is_served(api, path) -> None:
    response = api.get(path)
    assert response.status_code == 404
    assert "error" in response.json()


def test_api_stays_json_next_to_the_dashboard(api) -> None:
    assert api.get("/healthz").json()["status"] == "ok"
    assert api.get("/api/v1/auth/setup").json() == {"needed": True, "token_required": False}


def test_instance_info_tells_the_dashboard_what_to_offer(server_factory) -> None:
    with Api(server_factory().url) as closed:
        info = closed.get("/api/v1/instance").json()
        assert info["setup_needed"] is True and info["open_signup"] is False and info["version"]
        closed.setup_owner()
        assert closed.get("/api/v1/instance").json()["setup_needed"] is False
    with Api(server_factory(open_signup=True).url) as open_one:
        assert open_one.get("/api/v1/instance").json()["open_signup"] is True
