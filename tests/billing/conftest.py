"""Fixtures for billing: a Stripe API stand-in and a server with billing switched on."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.billing.stripe_events import WEBHOOK_SECRET
from tests.fakes.stripe_api import FakeStripe
from tests.support import Api, LiveServer

PRICES = (("starter", "price_starter"), ("pro", "price_pro"))


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe(api_key="sk_test_modelpilot").start()
    yield fake
    fake.stop()


@pytest.fixture
def billing_server(server_factory, fake_stripe: FakeStripe) -> LiveServer:
    return server_factory(stripe_secret_key=fake_stripe.api_key, stripe_webhook_secret=WEBHOOK_SECRET,
                          stripe_api_base=fake_stripe.url, stripe_prices=PRICES)


@pytest.fixture
def billing_owner(billing_server: LiveServer) -> Iterator[Api]:
    client = Api(billing_server.url)
    client.setup_owner()
    yield client
    client.close()
