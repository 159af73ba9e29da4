"""Sign-up (open and closed), a second workspace and the workspace switcher, in Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.harness import browser, open_browsing  # noqa: F401 (fixture)
from tests.support import PASSWORD, Api

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_open_signup_then_second_workspace_and_switch(browser, server_factory, artifacts_dir) -> None:  # noqa: F811
    live = server_factory(open_signup=True)
    Api(live.url).setup_owner()
    b = open_browsing(browser, live.url, artifacts_dir / "dashboard")
    page = b.page
    page.goto("/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_role("link", name="Sign up").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    b.shoot("signup")
    for label, value in {"Your name": "Sam", "Email": "sam@example.com", "Password": PASSWORD,
                         "Workspace name": "Sam's agency"}.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    first_ws = re.search(r"#/w/([^/]+)/", page.url).group(1)

    page.get_by_label("Workspace", exact=True).select_option("__new")
    expect(page.get_by_role("heading", name="New workspace")).to_be_visible()
    page.get_by_label("Workspace name").fill("Client B")
    page.get_by_role("button", name="Create workspace").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    second_ws = re.search(r"#/w/([^/]+)/", page.url).group(1)
    assert second_ws != first_ws
    expect(page.get_by_label("Workspace", exact=True)).to_have_value(second_ws)
    page.get_by_label("Workspace", exact=True).select_option(first_ws)
    expect(page).to_have_url(re.compile(f"#/w/{first_ws}/overview$"))
    b.watcher.check()
    b.close()


def test_closed_signup_says_so(browser, server_factory, artifacts_dir) -> None:  # noqa: F811
    live = server_factory()
    Api(live.url).setup_owner()
    b = open_browsing(browser, live.url, artifacts_dir / "dashboard")
    b.page.goto("/#/signup")
    expect(b.page.get_by_role("heading", name="Sign-up is closed")).to_be_visible()
    b.page.goto("/#/login")
    expect(b.page.get_by_role("link", name="Sign up")).to_have_count(0)
    b.watcher.check()
    b.close()


def test_setup_from_another_machine_takes_the_printed_token(browser, server_factory, artifacts_dir) -> None:  # noqa: F811
    live = server_factory()
    token = live.app.state["setup_token"]
    b = open_browsing(browser, live.url, artifacts_dir / "dashboard")
    page = b.page
    # As if through a proxy on this machine: the server sees a visitor from elsewhere.
    page.set_extra_http_headers({"X-Forwarded-For": "203.0.113.7"})
    page.goto("/#/setup")
    expect(page.get_by_role("heading", name="Welcome to ModelPilot")).to_be_visible()
    for label, value in {"Your name": "Olga", "Email": "olga@example.com", "Password": PASSWORD,
                         "Workspace name": "Olga's shop"}.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("Setup token").fill("not-the-token")
    b.watcher.allow(403, r"/api/v1/auth/setup$")
    page.get_by_role("button", name="Create owner account").click()
    expect(page.get_by_text("is wrong: use the one printed when the server last started")).to_be_visible()
    b.shoot("setup-token-wrong")
    # The printed link carries the token into the form.
    page.goto(f"/#/setup?token={token}")
    page.reload()
    expect(page.get_by_label("Setup token")).to_have_value(token)
    for label, value in {"Your name": "Olga", "Email": "olga@example.com", "Password": PASSWORD,
                         "Workspace name": "Olga's shop"}.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Create owner account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    b.watcher.check()
    b.close()


def test_setup_on_this_machine_asks_for_no_token(browser, server_factory, artifacts_dir) -> None:  # noqa: F811
    live = server_factory()
    b = open_browsing(browser, live.url, artifacts_dir / "dashboard")
    b.page.goto("/")
    expect(b.page.get_by_role("heading", name="Welcome to ModelPilot")).to_be_visible()
    expect(b.page.get_by_label("Setup token")).to_have_count(0)
    b.watcher.check()
    b.close()
