"""The API reference at /api/docs: served from this origin only, with nothing loaded from elsewhere."""

from __future__ import annotations

import re

from tests.support import Api

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|import\s*\(?\s*["'](?:https?:)?//|url\(\s*["']?(?:https?:)?//""")


def test_docs_page_is_a_dashboard_page_with_a_self_only_policy(api: Api) -> None:
    response = api.get("/api/docs")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cross-origin-opener-policy"] == "same-origin", "dashboard headers, not the API's"
    assert 'src="/js/api_docs.js"' in response.text


def test_docs_and_their_assets_reference_no_other_origin(api: Api) -> None:
    page = api.get("/api/docs").text
    assets = re.findall(r'(?:src|href)="(/[^"]+)"', page)
    assert "/css/api-docs.css" in assets and "/js/api_docs.js" in assets
    for path in [*assets, "/js/dom.js"]:
        text = api.get(path).text
        assert not EXTERNAL.search(text), f"{path} loads something from another origin"
    assert not EXTERNAL.search(page)


def test_the_schema_it_reads_is_public_and_lists_the_account_routes(api: Api) -> None:
    schema = api.ok("GET", "/schema/openapi.json")
    for path in ("/api/v1/auth/password", "/api/v1/auth/password-reset", "/api/v1/auth/sessions"):
        assert path in schema["paths"]
    assert "/api/docs" not in schema["paths"]
