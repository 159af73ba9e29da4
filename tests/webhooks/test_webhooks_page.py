"""The webhooks page in Chromium: create (secret shown once, copied), the events error under its
fieldset, a test send verified by the receiver and shown in the delivery log, redeliver, edit,
and the notice of an endpoint disabled after failing, with "Enable again"."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import browser, open_browsing  # noqa: F401 (fixture)
from tests.support import PASSWORD, Api
from tests.webhooks.receiver import Receiver

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def log_in(page: Page) -> str:
    page.goto("/#/login")
    page.get_by_label("Email", exact=True).fill("owner@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    return re.search(r"#/w/([^/]+)/", page.url).group(1)


def refresh_until(page: Page, text: str, tries: int = 60) -> None:
    log = page.get_by_role("region", name=re.compile("Deliveries to"))
    for _ in range(tries):
        log.get_by_role("button", name="Refresh").click()
        if text in log.inner_text():
            return
        time.sleep(0.25)
    raise AssertionError(f"{text!r} never appeared in the delivery log: {log.inner_text()}")


def test_webhooks_page(browser, hook_server, receiver, artifacts_dir):  # noqa: F811
    live = hook_server(webhook_disable_after_seconds=0.5, webhook_retry_seconds=(0.6, 0.6, 0.6))
    owner = Api(live.url)
    owner.setup_owner()
    failing = Receiver(answers=[500] * 20)
    b = open_browsing(browser, live.url, artifacts_dir / "dashboard")
    page = b.page
    try:
        ws = log_in(page)
        page.get_by_role("link", name="Webhooks").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
        form = page.get_by_role("form", name="New webhook")
        form.get_by_label("Endpoint URL").fill(receiver.url)
        form.get_by_role("checkbox", name=re.compile("conversation.started")).uncheck()
        b.watcher.allow(400, r"/webhooks$")
        form.get_by_role("button", name="Create webhook").click()
        expect(form.locator('.field[data-field="events"] .error')).to_contain_text("at least one event")

        form.get_by_role("checkbox", name=re.compile("document.indexed")).check()
        form.get_by_label("Description").fill("Our CRM")
        form.get_by_role("button", name="Create webhook").click()
        secret = page.locator("code.webhook-secret").inner_text()
        assert secret.startswith("whsec_")
        page.get_by_role("alert").filter(has_text="shown only once").get_by_role("button", name="Copy").click()
        assert page.evaluate("navigator.clipboard.readText()") == secret
        receiver.secret = secret
        row = page.get_by_role("row").filter(has_text=receiver.url)
        expect(row).to_contain_text("document.indexed")
        expect(row).to_contain_text("enabled")

        row.get_by_role("button", name=f"Send a test event to {receiver.url}").click()
        [sent] = receiver.wait_for(1)
        assert sent["payload"]["type"] == "webhook.test"
        refresh_until(page, "delivered")
        log = page.get_by_role("region", name=re.compile("Deliveries to"))
        expect(log).to_contain_text("200")
        expect(log.locator("code.response-excerpt")).to_contain_text("received")
        log.get_by_role("button", name=re.compile("^Redeliver webhook.test")).click()
        again = receiver.wait_for(2)[1]
        assert again["id"] == sent["id"]
        b.shoot("webhooks")

        row.get_by_role("button", name=f"Edit {receiver.url}").click()
        editor = page.get_by_role("form", name="Edit webhook")
        editor.get_by_label("Enabled").uncheck()
        editor.get_by_role("button", name="Save changes").click()
        expect(page.get_by_role("row").filter(has_text=receiver.url)).to_contain_text("disabled")

        hook = owner.ok("POST", f"/api/v1/workspaces/{ws}/webhooks", 201,
                        json={"url": failing.url, "events": ["document.failed"]})
        failing.secret = hook["secret"]
        owner.ok("POST", f"/api/v1/workspaces/{ws}/webhooks/{hook['id']}/test", 202)
        deadline = time.monotonic() + 30
        while owner.ok("GET", f"/api/v1/workspaces/{ws}/webhooks/{hook['id']}")["enabled"]:
            assert time.monotonic() < deadline, "the failing endpoint was never disabled"
            time.sleep(0.2)
        page.reload()
        notice = page.locator(".webhook-disabled")
        expect(notice).to_contain_text("Disabled automatically")
        expect(notice).to_contain_text(failing.url)
        b.shoot("webhooks-disabled")
        notice.get_by_role("button", name="Enable again").click()
        expect(page.locator(".webhook-disabled")).to_have_count(0)
        assert owner.ok("GET", f"/api/v1/workspaces/{ws}/webhooks/{hook['id']}")["enabled"] is True
        b.watcher.check()
    finally:
        b.close()
        failing.stop()
        owner.close()
