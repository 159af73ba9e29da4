"""Plans: message quota and limits per plan, from a TOML file or the built-in defaults.

A plans file looks like:

    default = "free"            # the plan of a workspace without a subscription (billing on)

    [plans.free]
    name = "Free"
    monthly_messages = 100      # answered messages per period; "unlimited" for no cap
    chatbots = 1
    documents = 20
    members = 2

    [plans.pro]
    name = "Pro"
    monthly_messages = 20000
    chatbots = "unlimited"
    documents = 2000
    members = 20
    stripe_price_id = "price_..."

The catalog is read once per Settings and cached: a changed file takes effect at restart.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from modelpilot.settings import Settings

RESOURCES = ("chatbots", "documents", "members")
LIMIT_KEYS = ("monthly_messages", *RESOURCES)

DEFAULT_PLANS: dict[str, Any] = {
    "default": "free",
    "plans": {
        "free": {"name": "Free", "monthly_messages": 100, "chatbots": 1, "documents": 20, "members": 2},
        "starter": {"name": "Starter", "monthly_messages": 2000, "chatbots": 3, "documents": 200, "members": 5},
        "pro": {"name": "Pro", "monthly_messages": 20000, "chatbots": 20, "documents": 2000, "members": 20},
    },
}


class PlansError(ValueError):
    """A plans file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    monthly_messages: int | None  # None: unlimited
    limits: dict[str, int | None] = field(default_factory=dict)
    stripe_price_id: str = ""

    def limit(self, resource: str) -> int | None:
        return self.limits.get(resource)

    def public(self) -> dict:
        return {"id": self.id, "name": self.name, "monthly_messages": self.monthly_messages,
                "limits": dict(self.limits), "purchasable": bool(self.stripe_price_id)}


@dataclass(frozen=True)
class Catalog:
    plans: dict[str, Plan]
    default_plan: str

    def get(self, plan_id: object) -> Plan | None:
        return self.plans.get(plan_id) if isinstance(plan_id, str) else None

    def by_price(self, price_id: str | None) -> Plan | None:
        return next((p for p in self.plans.values() if price_id and p.stripe_price_id == price_id), None)

    @property
    def default(self) -> Plan:
        return self.plans[self.default_plan]


def _limit(value: Any, where: str) -> int | None:
    if value == "unlimited":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PlansError(f"{where}: expected a whole number >= 0 or \"unlimited\", got {value!r}")
    return value


def _plan(plan_id: str, raw: Any, source: str, prices: dict[str, str]) -> Plan:
    where = f"{source}: plans.{plan_id}"
    if not isinstance(raw, dict):
        raise PlansError(f"{where}: expected a table")
    unknown = set(raw) - {"name", "stripe_price_id", *LIMIT_KEYS}
    if unknown:
        raise PlansError(f"{where}: unknown keys {sorted(unknown)}")
    missing = [key for key in LIMIT_KEYS if key not in raw]
    if missing:
        raise PlansError(f"{where}: missing {missing} (use \"unlimited\" for no cap)")
    name = raw.get("name", plan_id.capitalize())
    price = prices.get(plan_id, raw.get("stripe_price_id", ""))
    if not isinstance(name, str) or not isinstance(price, str):
        raise PlansError(f"{where}: name and stripe_price_id must be strings")
    limits = {key: _limit(raw[key], f"{where}.{key}") for key in RESOURCES}
    return Plan(plan_id, name, _limit(raw["monthly_messages"], f"{where}.monthly_messages"), limits, price)


def parse_catalog(data: dict[str, Any], source: str, prices: dict[str, str]) -> Catalog:
    raw_plans = data.get("plans")
    if not isinstance(raw_plans, dict) or not raw_plans:
        raise PlansError(f"{source}: needs at least one [plans.<id>] table")
    plans = {plan_id: _plan(plan_id, raw, source, prices) for plan_id, raw in raw_plans.items()}
    default = data.get("default", "free" if "free" in plans else next(iter(plans)))
    if default not in plans:
        raise PlansError(f"{source}: default plan {default!r} is not defined")
    unknown_prices = set(prices) - set(plans)
    if unknown_prices:
        raise PlansError(f"MODELPILOT_STRIPE_PRICES names unknown plans {sorted(unknown_prices)}")
    return Catalog(plans, default)


def plans_path(settings: Settings) -> Path | None:
    if settings.plans_file:
        return Path(settings.plans_file).expanduser()
    candidate = settings.data_dir / "plans.toml"
    return candidate if candidate.exists() else None


@lru_cache(maxsize=16)
def load_catalog(settings: Settings) -> Catalog:
    """The plan catalog for these settings; raises PlansError with a one-line reason."""
    prices = dict(settings.stripe_prices)
    path = plans_path(settings)
    if path is None:
        return parse_catalog(DEFAULT_PLANS, "built-in plans", prices)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlansError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise PlansError(f"{path}: not valid TOML ({exc})") from None
    return parse_catalog(data, str(path), prices)
