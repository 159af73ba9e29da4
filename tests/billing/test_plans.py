"""Plans from configuration: the TOML file, Stripe price ids from the environment, clear errors."""

from __future__ import annotations

import calendar
import time
from pathlib import Path

import pytest

from modelpilot.billing.plans import PlansError, load_catalog
from modelpilot.billing.service import calendar_month
from modelpilot.cli import main
from modelpilot.settings import SettingsError, load_settings
from tests.support import Api, database_args, make_settings

PLANS_TOML = """
default = "trial"

[plans.trial]
name = "Trial"
monthly_messages = 5
chatbots = 1
documents = 3
members = 1

[plans.agency]
name = "Agency"
monthly_messages = "unlimited"
chatbots = "unlimited"
documents = 10000
members = 50
stripe_price_id = "price_agency_file"
"""


def test_built_in_plans_are_free_starter_and_pro(tmp_path: Path) -> None:
    catalog = load_catalog(make_settings(tmp_path))
    assert list(catalog.plans) == ["free", "starter", "pro"] and catalog.default.id == "free"
    assert catalog.get("free").monthly_messages == 100 and catalog.get("pro").limit("chatbots") == 20


def test_a_plans_file_in_the_data_dir_replaces_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "plans.toml").write_text(PLANS_TOML)
    catalog = load_catalog(make_settings(tmp_path))
    assert list(catalog.plans) == ["trial", "agency"] and catalog.default.id == "trial"
    agency = catalog.get("agency")
    assert agency.monthly_messages is None and agency.limit("chatbots") is None
    assert agency.stripe_price_id == "price_agency_file" and catalog.by_price("price_agency_file") is agency


def test_prices_from_the_environment_win_over_the_file(tmp_path: Path) -> None:
    plans = tmp_path / "elsewhere.toml"
    plans.write_text(PLANS_TOML)
    settings = load_settings(env={"MODELPILOT_DATA_DIR": str(tmp_path / "data"),
                                  "MODELPILOT_PLANS_FILE": str(plans),
                                  "MODELPILOT_STRIPE_PRICES": "agency=price_env, trial = price_trial"})
    catalog = load_catalog(settings)
    assert catalog.get("agency").stripe_price_id == "price_env"
    assert catalog.get("trial").stripe_price_id == "price_trial"


@pytest.mark.parametrize("raw", ["starter", "starter=", "=price_1", "a=b,,c"])
def test_a_malformed_price_list_names_the_variable(raw: str) -> None:
    with pytest.raises(SettingsError, match="MODELPILOT_STRIPE_PRICES"):
        load_settings(env={"MODELPILOT_STRIPE_PRICES": raw})


@pytest.mark.parametrize("text, fragment", [
    ("this is = not toml [", "not valid TOML"),
    ("[plans]\n", "at least one"),
    ("[plans.a]\nmonthly_messages = 1\nchatbots = 1\ndocuments = 1\n", "missing ['members']"),
    ("[plans.a]\nmonthly_messages = -1\nchatbots = 1\ndocuments = 1\nmembers = 1\n", "plans.a.monthly_messages"),
    ("[plans.a]\nmonthly_messages = 1\nchatbots = true\ndocuments = 1\nmembers = 1\n", "plans.a.chatbots"),
    ("[plans.a]\nmonthly_messages = 1\nchatbots = 1\ndocuments = 1\nmembers = 1\nseats = 3\n", "unknown keys"),
    ("default = \"gold\"\n[plans.a]\nmonthly_messages = 1\nchatbots = 1\ndocuments = 1\nmembers = 1\n", "'gold'"),
])
def test_a_broken_plans_file_is_refused_with_its_reason(tmp_path: Path, text: str, fragment: str) -> None:
    (tmp_path / "plans.toml").write_text(text)
    with pytest.raises(PlansError) as error:
        load_catalog(make_settings(tmp_path))
    assert fragment in str(error.value) and "plans.toml" in str(error.value)


def test_prices_for_unknown_plans_are_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, stripe_prices=(("gold", "price_1"),))
    with pytest.raises(PlansError, match="gold"):
        load_catalog(settings)


def test_serve_stops_at_once_on_a_broken_plans_file(tmp_path: Path, capsys) -> None:
    (tmp_path / "plans.toml").write_text("[plans]\n")
    assert main(["serve", "--data-dir", str(tmp_path), "--port", "0"]) == 2
    assert "plans" in capsys.readouterr().err


def test_a_workspace_can_be_put_on_a_plan_from_the_file(server_factory, tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(PLANS_TOML)
    live = server_factory(plans_file=str(tmp_path / "p.toml"))
    client = Api(live.url)
    client.setup_owner()
    assert main(["set-plan", client.ws, "trial", "--data-dir", str(live.settings.data_dir),
                 "--plans-file", str(tmp_path / "p.toml"), *database_args(live.settings)]) == 0
    shown = client.ok("GET", f"/api/v1/workspaces/{client.ws}/billing")
    assert shown["plan"]["name"] == "Trial" and shown["quota"] == 5
    assert shown["resources"]["members"] == {"used": 1, "limit": 1}
    client.close()


@pytest.mark.parametrize("moment, start, end", [
    ("2026-11-26T08:00:00", "2026-11-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z"),
    ("2026-12-31T23:59:59", "2026-12-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z"),
    ("2027-01-01T00:00:00", "2027-01-01T00:00:00.000Z", "2027-02-01T00:00:00.000Z"),
])
def test_the_calendar_month_is_utc(moment: str, start: str, end: str) -> None:
    epoch = calendar.timegm(time.strptime(moment, "%Y-%m-%dT%H:%M:%S"))
    assert calendar_month(epoch) == (start, end)
