"""The dashboard journey in headless Chromium, from first-run setup to a read-only viewer.

One admin sets up the instance and works through every page; a viewer joins by invitation
link and finds nothing to change. Screenshots of each page go to test-artifacts/dashboard/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser import bot_steps
from tests.browser.harness import Browsing, browser, open_browsing  # noqa: F401 (fixture)
from modelpilot.core.passwords import MIN_LENGTH
from tests.support import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def fill_form(page: Page, values: dict[str, str]) -> None:
    for label, value in values.items():
        page.get_by_label(label, exact=True).fill(value)


def go(b: Browsing, ws: str, section: str, heading: str) -> None:
    b.page.goto(f"/#/w/{ws}/{section}")
    expect(b.page.get_by_role("heading", level=1)).to_have_text(heading)


def first_run_setup(b: Browsing) -> str:
    page = b.page
    page.goto("/")
    expect(page.get_by_role("heading", name="Welcome to ModelPilot")).to_be_visible()
    b.shoot("setup")
    # The hint states the server's rule, not another one.
    expect(page.get_by_text(f"At least {MIN_LENGTH} characters")).to_be_visible()
    page.get_by_role("button", name="Create owner account").click()
    # Every empty required field is flagged at once, and focus goes to the first.
    for label in ("Your name", "Email", "Password", "Workspace name"):
        expect(page.get_by_label(label, exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field .error:not([hidden])")).to_have_count(4)
    expect(page.get_by_label("Your name", exact=True)).to_be_focused()
    fill_form(page, {"Your name": "Olivia Owner", "Email": "owner@example.com", "Password": "password",
                     "Workspace name": "Acme"})
    page.get_by_role("button", name="Create owner account").click()
    expect(page.locator('[data-field="password"] .error')).to_contain_text("Password is too common")
    b.shoot("setup-errors")
    fill_form(page, {"Your name": "Olivia Owner", "Email": "owner@example.com", "Password": PASSWORD,
                     "Workspace name": "Acme"})
    page.get_by_role("button", name="Create owner account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    return re.search(r"#/w/([^/]+)/", page.url).group(1)


def invite_viewer(b: Browsing, ws: str) -> str:
    page = b.page
    go(b, ws, "team", "Team")
    fill_form(page, {"Email": "viewer@example.com"})
    page.get_by_label("Role", exact=True).select_option("viewer")
    page.get_by_role("button", name="Create invitation link").click()
    link = page.locator("code.invite-url")
    expect(link).to_contain_text("/#/invite/")
    page.get_by_role("button", name="Copy link").click()
    assert page.evaluate("navigator.clipboard.readText()") == link.inner_text()
    expect(page.get_by_role("cell", name="viewer@example.com")).to_be_visible()
    b.shoot("team")
    return link.inner_text()


def api_tokens(b: Browsing, ws: str) -> None:
    page = b.page
    go(b, ws, "tokens", "API tokens")
    fill_form(page, {"Name": "CI"})
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("code.token-secret")).to_contain_text("mp_")
    b.shoot("tokens")
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("dialog").get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")  # Esc cancels and gives focus back to the button that opened it
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_role("button", name="Revoke")).to_be_focused()
    expect(page.get_by_text("active", exact=True)).to_be_visible()
    page.get_by_role("button", name="Revoke").press("Enter")
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("revoked", exact=True)).to_be_visible()


def billing_off(b: Browsing, ws: str) -> None:
    """Without Stripe configured, billing is off: no menu entry, and the page says why."""
    page = b.page
    go(b, ws, "overview", "Overview")
    expect(page.get_by_role("link", name="Team")).to_be_visible()
    expect(page.get_by_role("link", name="Billing")).to_have_count(0)
    go(b, ws, "billing", "Billing")
    expect(page.get_by_text("Billing is off")).to_be_visible()
    b.shoot("billing-off")


def workspace_settings(b: Browsing, ws: str) -> None:
    page = b.page
    go(b, ws, "settings", "Workspace settings")
    page.get_by_label("Keep conversations for (days)").fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.locator('[data-field="settings"] .error, [data-field="retention_days"] .error, .form-error').first).to_be_visible()
    page.get_by_label("Keep conversations for (days)").fill("90")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    b.shoot("settings")
    leaving_a_dirty_form_asks_first(b, ws)


def leaving_a_dirty_form_asks_first(b: Browsing, ws: str) -> None:
    """Typed but not saved: leaving the page asks in a dialog, leaving the tab asks the browser's way."""
    page = b.page
    page.get_by_label("Workspace name").fill("Acme Ltd")
    page.get_by_role("link", name="Team").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Leave without saving?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Workspace settings")
    expect(page.get_by_label("Workspace name")).to_have_value("Acme Ltd")
    assert page.url.endswith("/settings")
    page.get_by_label("Workspace name").click()
    page.keyboard.type("!")  # a real keystroke: browsers ask before unload only after the user did something
    with page.expect_event("dialog") as asked:
        page.evaluate("setTimeout(() => location.reload(), 0)")
    assert asked.value.type == "beforeunload"
    asked.value.dismiss()
    expect(page.get_by_label("Workspace name")).to_have_value("Acme Ltd!")
    page.get_by_role("link", name="Team").click()
    page.get_by_role("dialog").get_by_role("button", name="Leave page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team")
    go(b, ws, "settings", "Workspace settings")
    expect(page.get_by_label("Workspace name")).to_have_value("Acme")  # nothing was saved


def viewer_reads_only(b: Browsing, invite_url: str) -> None:
    page = b.page
    page.goto(invite_url)
    expect(page.get_by_role("heading", name="Join Acme")).to_be_visible()
    b.shoot("invite")
    fill_form(page, {"Your name": "Vera Viewer", "Password": PASSWORD})
    page.get_by_role("button", name="Create account and join").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    ws = re.search(r"#/w/([^/]+)/", page.url).group(1)
    expect(page.get_by_role("link", name="API tokens")).to_have_count(0)
    go(b, ws, "team", "Team")
    expect(page.get_by_role("button", name="Remove")).to_have_count(0)
    expect(page.get_by_role("combobox", name=re.compile("Role of"))).to_have_count(0)
    b.shoot("viewer-team")
    go(b, ws, "settings", "Workspace settings")
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect(page.get_by_label("Workspace name")).to_be_disabled()
    # Disabled looks disabled, and a banner says what the role allows.
    assert page.get_by_label("Workspace name").evaluate("el => getComputedStyle(el).cursor") == "not-allowed"
    expect(page.get_by_role("note").filter(has_text="View only")).to_contain_text("Your role here is viewer")
    # A page the role cannot open says who can.
    page.goto(f"/#/w/{ws}/tokens")
    expect(page.get_by_role("alert")).to_contain_text("Only admins of this workspace can open it; your role is viewer")
    b.shoot("viewer-not-allowed")


def session_expiry_returns_after_login(b: Browsing, ws: str) -> None:
    """A session that ends while the page is open sends the user to log in, then back."""
    page = b.page
    b.context.clear_cookies()
    b.watcher.allow(401, r"/api/v1/workspaces/[^/]+/(members|invitations)$")
    page.get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    fill_form(page, {"Email": "owner@example.com", "Password": PASSWORD})
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team")
    assert page.url.endswith(f"#/w/{ws}/team")


def login_page(b: Browsing) -> None:
    page = b.page
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    b.watcher.allow(401, r"/api/v1/auth/login$")
    fill_form(page, {"Email": "owner@example.com", "Password": "wrong password!"})
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".form-error")).to_be_visible()
    b.shoot("login")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")  # the keyboard alone logs in
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    expect(page.locator("main")).to_be_focused()  # after navigation, focus starts at the page
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_dashboard_journey(browser, server_factory, fake_llm, artifacts_dir, tmp_path) -> None:  # noqa: F811
    live = server_factory()
    shots = artifacts_dir / "dashboard"
    admin = open_browsing(browser, live.url, shots)
    admin.watcher.allow(400, r"/api/v1/auth/setup$")
    admin.watcher.allow(400, r"/api/v1/workspaces/[^/]+$")
    admin.watcher.allow(400, r"/api/v1/workspaces/[^/]+/chatbots$")
    admin.watcher.allow(400, r"/api/v1/workspaces/[^/]+/providers/[^/]+/test$")
    ws = first_run_setup(admin)
    admin.shoot("overview")
    bot_steps.add_provider(admin, ws, fake_llm.url)
    bot = bot_steps.create_bot(admin, ws)
    bot_steps.add_knowledge(admin, ws, bot, tmp_path)
    bot_steps.preview_answer(admin, ws, bot)
    bot_steps.widget_page(admin, ws, bot)
    bot_steps.conversation_log(admin, ws)
    bot_steps.analytics(admin, ws)
    invite_url = invite_viewer(admin, ws)
    api_tokens(admin, ws)
    billing_off(admin, ws)
    workspace_settings(admin, ws)
    session_expiry_returns_after_login(admin, ws)
    login_page(admin)
    admin.watcher.check()
    admin.close()

    viewer = open_browsing(browser, live.url, shots)
    viewer_reads_only(viewer, invite_url)
    bot_steps.viewer_sees_bot_read_only(viewer, ws, bot)
    viewer.watcher.check()
    viewer.close()
