"""Who is calling, and with what role in the workspace named by the path.

Every authenticated route gets its caller from here, never from a request body: a session
cookie (a user) or a workspace API token. The workspace always comes from the `{ws}` path
parameter plus a membership check (or the token's own workspace); a workspace the caller
does not belong to is a 404, so its existence is not revealed.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request

from modelpilot.core.errors import forbidden, not_found, unauthorized
from modelpilot.core.tokens import API_TOKEN_PREFIX

SESSION_COOKIE = "mp_session"
ROLE_RANK = {"viewer": 1, "editor": 2, "admin": 3}
ROLES = tuple(ROLE_RANK)


@dataclass(frozen=True)
class Principal:
    user_id: str | None = None
    email: str | None = None
    session_id: str | None = None
    token_id: str | None = None
    token_workspace_id: str | None = None
    token_role: str | None = None

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


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip().startswith(API_TOKEN_PREFIX):
        return value.strip()
    return None


async def optional_principal(request: Request) -> Principal | None:
    """The caller if authenticated, else None. Cached on the request."""
    from modelpilot.auth import service  # late: service imports this module's types

    cached = request.scope.get("state", {}).get("mp_principal", False)
    if cached is not False:
        return cached
    db, settings = request.app.state["db"], request.app.state["settings"]
    principal = None
    token = bearer_token(request)
    if token:
        principal = await service.principal_from_api_token(db, token)
        if principal is None:
            raise unauthorized("That API token is invalid or revoked.")
    elif request.cookies.get(SESSION_COOKIE):
        principal = await service.principal_from_session(db, settings, request.cookies[SESSION_COOKIE])
    request.scope.setdefault("state", {})["mp_principal"] = principal
    return principal


async def provide_principal(request: Request) -> Principal:
    principal = await optional_principal(request)
    if principal is None:
        raise unauthorized()
    return principal


async def provide_user(request: Request) -> Principal:
    """A logged-in user (not an API token)."""
    principal = await provide_principal(request)
    if not principal.is_user:
        raise unauthorized("This needs a logged-in user, not an API token.")
    return principal


async def provide_access(request: Request, ws: str) -> WorkspaceAccess:
    """The caller's role in workspace `ws` (from the path); 404 when not a member."""
    from modelpilot.workspaces import service as workspaces

    principal = await provide_principal(request)
    if principal.token_id is not None:
        if principal.token_workspace_id != ws:
            raise not_found("workspace")
        return WorkspaceAccess(ws, principal.token_role or "viewer", principal)
    role = await workspaces.member_role(request.app.state["db"], ws, principal.user_id)
    if role is None:
        raise not_found("workspace")
    return WorkspaceAccess(ws, role, principal)
