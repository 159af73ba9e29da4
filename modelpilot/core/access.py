"""Who is calling and with what role: the access types every domain checks against.

They live in the kernel so that any domain can take a `WorkspaceAccess` without importing the
domain that resolves it (auth) — that import was a cycle: auth -> workspaces -> auth.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelpilot.core.errors import forbidden

# The one rank table. A role can do everything the roles below it can.
# agent: works the inbox (takes, answers, releases, closes conversations), changes nothing else.
ROLE_RANK = {"viewer": 1, "agent": 2, "editor": 3, "admin": 4}
ROLES = tuple(ROLE_RANK)


def role_rank(role: str) -> int:
    return ROLE_RANK[role]


@dataclass(frozen=True)
class Principal:
    user_id: str | None = None
    email: str | None = None
    session_id: str | None = None
    token_id: str | None = None
    token_workspace_id: str | None = None
    token_role: str | None = None
    is_owner: bool = False  # the instance owner (first account): runs the place, e.g. no workspace limit

    @property
    def is_user(self) -> bool:
        return self.user_id is not None


@dataclass(frozen=True)
class WorkspaceAccess:
    workspace_id: str
    role: str
    principal: Principal

    def can(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    def require(self, role: str) -> None:
        if not self.can(role):
            raise forbidden(f"This needs the {role} role; you are {self.role}.")

    @property
    def user_id(self) -> str | None:
        return self.principal.user_id

    @property
    def token_id(self) -> str | None:
        return self.principal.token_id

    @property
    def audit_actor(self) -> dict[str, str | None]:
        """Keyword arguments naming the caller in an audit.record call."""
        return {"actor_user_id": self.user_id, "actor_token_id": self.token_id}
