"""A contact and a widget visitor as the rest of the code sees them: typed, immutable values."""

from __future__ import annotations

import json

import msgspec

CONTACT_FIELDS = ("id", "email", "name", "phone", "company", "fields", "external_id", "created_at", "updated_at",
                  "last_seen_at")


class Contact(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    email: str | None
    name: str
    phone: str
    company: str
    fields: dict  # custom lead-form fields, by name
    external_id: str | None  # the verified visitor's `sub`
    created_at: str
    updated_at: str
    last_seen_at: str | None  # last visit from the widget (None: entered by a member)
    conversation_count: int = 0

    @property
    def verified(self) -> bool:
        return self.external_id is not None

    @classmethod
    def from_row(cls, row: dict, conversation_count: int = 0) -> Contact:
        values = {name: row[name] for name in CONTACT_FIELDS}
        values["fields"] = json.loads(values["fields"] or "{}")
        return cls(**values, conversation_count=conversation_count)

    def public(self) -> dict:
        return {**msgspec.structs.asdict(self), "verified": self.verified}

    def summary(self) -> dict:
        """What a conversation or the widget shows of its contact."""
        return {"id": self.id, "name": self.name, "email": self.email, "verified": self.verified}


class Visitor(msgspec.Struct, frozen=True):
    """Who is on the other side of a widget session.

    `verified`: a valid identity token from the host site; `sub` and `claims` are its claims
    (untrusted for instructions: they are the host site's data, shown to the model only as
    delimited visitor context). An anonymous visitor who sent the lead form has a `contact_id`
    but is not verified. A visitor nobody knows is no Visitor at all (None).
    """
    contact_id: str | None
    sub: str | None = None
    claims: dict = msgspec.field(default_factory=dict)
    verified: bool = False
