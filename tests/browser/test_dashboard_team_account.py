"""Team and account in Chromium: invitations (copy again, duplicates, revoke), role-change
confirmation, the profile page, "forgot password" through a real SMTP server, and the API
reference rendering with no network."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import browser, open_browsing  # noqa: F401 (fixture)
from tests.mail_support import link_in, smtp_inbox  # noqa: F401 (fixture)
from tests.support import PASSWORD, Api

pytestmark = [pytest.mark.slow, pytest.mark.browser]
NEW_PASSWORD = "another fine passphrase"


def log_in(page: Page, email: str = "owner@example.com", password: str = PASSWORD) -> str:
    page.goto("/#/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    return re.search(r"#/w/([^/]+)/", page.url).group(1)


def members_role(owner: Api, email: str) -> str:
    return next(m["role"] for m in owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/members") if m["email"] == email)


def test_invitations_copy_duplicate_revoke_and_role_confirmation(browser, server_factory, artifacts_dir) -> None:  # noqa: F811
    live = server_factory()
    owner = Api(live.url)
    owner.setup_owner()
    owner.invite_and_join(Api(live.url), "member@example.com", "viewer")
    b = open_browsing(browser, live.url, artifacts_dir / "dashboard")
    page = b.page
    ws = log_in(page)
    page.goto(f"/#/w/{ws}/team")
    expect(page.get_by_role("heading", level=1)).to_have_text("Team")

    page.get_by_label("Email", exact=True).fill("new@example.com")
    page.get_by_label("Role", exact=True).select_option("editor")
    page.get_by_role("button", name="Create invitation link").click()
    link = page.locator("code.invite-url").inner_text()
    row = page.get_by_role("row").filter(has_text="new@example.com")
    expect(row).to_contain_text("pending")
    # After a reload the link is still there to copy: nothing has to be re-sent.
    page.reload()
    row = page.get_by_role("row").filter(has_text="new@example.com")
    row.get_by_role("button", name="Copy this invitation link").click()
    assert page.evaluate("navigator.clipboard.readText()") == link
    b.shoot("team-pending")

    b.watcher.allow(409, r"/invitations$")
    page.get_by_label("Email", exact=True).fill("NEW@example.com")
    page.get_by_role("button", name="Create invitation link").click()
    error = page.locator('.field[data-field="email"] .error')
    expect(error).to_contain_text("pending invitation")
    expect(page.get_by_label("Email", exact=True)).to_be_focused()
    page.get_by_label("Email", exact=True).fill("member@example.com")
    page.get_by_role("button", name="Create invitation link").click()
    expect(error).to_contain_text("already a member")

    row.get_by_role("button", name="Revoke this invitation").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("No pending invitations.")).to_be_visible()
    assert [i for i in owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/invitations") if i["status"] == "pending"] == []

    role = page.get_by_role("combobox", name="Role of member@example.com")
    role.select_option("admin")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("member@example.com will be able to change everything")
    dialog.get_by_role("button", name="Cancel").click()
    expect(role).to_have_value("viewer")
    assert members_role(owner, "member@example.com") == "viewer", "cancel changes nothing"
    role.select_option("editor")
    page.get_by_role("dialog").get_by_role("button", name="Change role").click()
    expect(page.get_by_text("member@example.com is now editor.")).to_be_visible()
    assert members_role(owner, "member@example.com") == "editor"

    # With a second admin, the owner may step down; the page then shows what an editor sees.
    page.get_by_role("combobox", name="Role of member@example.com").select_option("admin")
    page.get_by_role("dialog").get_by_role("button", name="Change role").click()
    expect(page.get_by_text("member@example.com is now admin.")).to_be_visible()
    page.get_by_role("combobox", name="Role of owner@example.com").select_option("editor")
    expect(page.get_by_role("dialog")).to_contain_text("You will lose admin access")
    page.get_by_role("dialog").get_by_role("button", name="Change role").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team")
    expect(page.get_by_role("region", name="Invite someone")).to_have_count(0)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="API tokens")).to_have_count(0)
    b.watcher.check()
    b.close()
    owner.close()


def test_profile_name_password_and_other_sessions(browser, server_factory, artifacts_dir) -> None:  # noqa: F811
    live = server_factory()
    with Api(live.url) as setup:
        setup.setup_owner()
        setup.ok("POST", "/api/v1/auth/logout")
    elsewhere = Api(live.url)
    elsewhere.login("owner@example.com")
    b = open_browsing(browser, live.url, artifacts_dir / "dashboard")
    page = b.page
    log_in(page)
    page.get_by_role("link", name="Your profile").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")
    expect(page.get_by_role("cell", name="this session")).to_be_visible()
    b.shoot("profile")

    page.get_by_label("Name", exact=True).fill("Olivia Owner")
    page.get_by_role("button", name="Save name").click()
    expect(page.locator(".topbar .user-name")).to_have_text("Olivia Owner")

    b.watcher.allow(400, r"/auth/password$")
    page.get_by_label("Current password").fill("not my password at all")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator('.field[data-field="current_password"] .error')).to_contain_text("not your current password")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD + "!")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator('.field[data-field="new_password_confirm"] .error')).to_contain_text("does not match")
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Password changed; 1 other session signed out.")).to_be_visible()
    assert elsewhere.get("/api/v1/auth/me").status_code == 401
    expect(page.get_by_text("No other sessions.")).to_be_visible()

    elsewhere.login("owner@example.com", NEW_PASSWORD)
    page.reload()
    page.get_by_role("button", name="Sign out other sessions").click()
    page.get_by_role("dialog").get_by_role("button", name="Sign out others").click()
    expect(page.get_by_text("1 other session signed out.")).to_be_visible()
    assert elsewhere.get("/api/v1/auth/me").status_code == 401
    expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")  # still signed in here
    b.watcher.check()
    b.close()
    elsewhere.close()


def test_forgot_password_through_real_smtp(browser, server_factory, smtp_inbox, artifacts_dir) -> None:  # noqa: F811
    live = server_factory(**smtp_inbox.settings())
    with Api(live.url) as setup:
        setup.setup_owner()
    b = open_browsing(browser, live.url, artifacts_dir / "dashboard")
    page = b.page
    page.goto("/#/login")
    page.get_by_label("Email", exact=True).fill("owner@example.com")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    expect(page.get_by_label("Email", exact=True)).to_have_value("owner@example.com")  # carried over
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_text("we have sent it a link")).to_be_visible()
    b.shoot("forgot-password")

    link = link_in(smtp_inbox.wait_for(1)[0])
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    expect(page.get_by_text("owner@example.com")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill("something else entirely")
    page.get_by_role("button", name="Set password and log in").click()
    expect(page.locator('.field[data-field="password_confirm"] .error')).to_contain_text("does not match")
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")

    b.watcher.allow(404, r"/auth/password-reset/")
    page.goto(link)  # used once: the page says so and offers a new one
    expect(page.get_by_role("heading", name="Reset link not valid")).to_be_visible()
    expect(page.get_by_role("link", name="Ask for a new link")).to_be_visible()
    with Api(live.url) as check:
        check.login("owner@example.com", NEW_PASSWORD)
    b.watcher.check()
    b.close()


def test_forgot_password_without_smtp_explains_the_cli(browser, server_factory, artifacts_dir) -> None:  # noqa: F811
    live = server_factory()
    with Api(live.url) as setup:
        setup.setup_owner()
    b = open_browsing(browser, live.url, artifacts_dir / "dashboard")
    b.page.goto("/#/forgot")
    expect(b.page.get_by_text("cannot send e-mail")).to_be_visible()
    expect(b.page.get_by_text("modelpilot reset-password you@example.com")).to_be_visible()
    b.watcher.check()
    b.close()


def test_api_reference_from_the_tokens_page_renders_offline(browser, server_factory, artifacts_dir) -> None:  # noqa: F811
    live = server_factory()
    with Api(live.url) as setup:
        setup.setup_owner()
    b = open_browsing(browser, live.url, artifacts_dir / "dashboard")
    page = b.page
    elsewhere: list[str] = []

    def only_this_server(route) -> None:
        if route.request.url.startswith(live.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    b.context.route("**/*", only_this_server)
    ws = log_in(page)
    page.goto(f"/#/w/{ws}/tokens")
    page.get_by_role("link", name="Open the API reference").click()
    expect(page).to_have_url(f"{live.url}/api/docs")
    expect(page.get_by_role("heading", level=1)).to_have_text("ModelPilot API reference")
    expect(page.get_by_role("navigation", name="API sections").get_by_role("link", name=re.compile("^accounts"))).to_be_visible()

    operation = page.locator("details.docs-op", has=page.locator("code.docs-path", has_text=re.compile("^/api/v1/auth/password$")))
    operation.locator("summary").click()
    expect(operation.get_by_role("heading", name="Request body")).to_be_visible()
    expect(operation.locator("code.docs-field", has_text="current_password")).to_be_visible()
    expect(operation.locator("code.docs-field", has_text="new_password")).to_be_visible()

    page.get_by_label("Filter operations").fill("invitations delete")
    expect(page.get_by_text("1 operation match.")).to_be_visible()
    expect(page.locator("details.docs-op:visible code.docs-path")).to_have_text(
        ["/api/v1/workspaces/{ws}/invitations/{invitation_id}"])
    page.get_by_label("Filter operations").fill("")
    b.shoot("api-docs")
    assert elsewhere == [], f"the API reference tried to reach {elsewhere}"
    b.watcher.check()
    b.close()
