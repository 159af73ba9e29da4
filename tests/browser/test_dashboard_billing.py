"""Billing page with Stripe configured (the Stripe API stand-in): plan, quota and upgrade."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.harness import browser, open_browsing  # noqa: F401 (fixture)
from tests.fakes.stripe_api import FakeStripe
from tests.support import PASSWORD, Api

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_admin_sees_plan_usage_and_upgrades_through_checkout(browser, server_factory, artifacts_dir) -> None:  # noqa: F811
    fake = FakeStripe(api_key="sk_test_dashboard").start()
    try:
        live = server_factory(stripe_secret_key=fake.api_key, stripe_api_base=fake.url,
                              stripe_prices=(("starter", "price_starter"), ("pro", "price_pro")))
        Api(live.url).setup_owner()
        b = open_browsing(browser, live.url, artifacts_dir / "dashboard")
        page = b.page
        # Stripe's hosted pages are outside; answer them here so the redirect can be seen.
        page.route(re.compile(r"^https://(checkout|billing)\.stripe\.(com|test)/.*"),
                   lambda route: route.fulfill(status=200, content_type="text/html", body="<h1>Stripe Checkout</h1>"))
        page.goto("/#/login")
        page.get_by_label("Email").fill("owner@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("link", name="Billing").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Billing")
        expect(page.get_by_label("Messages used this period")).to_be_visible()
        b.shoot("billing")
        page.get_by_role("button", name=re.compile("^Upgrade to ")).first.click()
        expect(page).to_have_url(re.compile(r"^https://checkout\.stripe\.(com|test)/"))
        assert any(call.path.endswith("/checkout/sessions") for call in fake.requests)
        b.watcher.check()
        b.close()
    finally:
        fake.stop()
