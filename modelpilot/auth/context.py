"""Who is calling, and with what role in the workspace named by the path.

Every authenticated route gets its caller from here, never from a request body: a session
cookie (a user) or a workspace API token. The workspace always comes from the `{ws}` path
parameter plus a membership check (or the token's own workspace); a workspace the caller
does not belong to is a 404, so its existence is not revealed.
"""

from __future__ import annotations

from litestar import Request

from modelpilot.auth import service
from modelpilot.core.access import Principal, WorkspaceAccess
from modelpilot.core.errors import not_found, unauthorized
from modelpilot.core.tokens import API_TOKEN_PREFIX
from modelpilot.workspaces import service as workspaces

SESSION_COOKIE = "mp_session"


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip().startswith(API_TOKEN_PREFIX):
        return value.strip()
    return None


async def optional_principal(request: Request) -> Principal | None:
    """The caller if authenticated, else None. Cached on the request."""
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
    principal = await provide_principal(request)
    if principal.token_id is not None:
        if principal.token_workspace_id != ws:
            raise not_found("workspace")
        return WorkspaceAccess(ws, principal.token_role or "viewer", principal)
    role = await workspaces.member_role(request.app.state["db"], ws, principal.user_id)
    if role is None:
        raise not_found("workspace")
    return WorkspaceAccess(ws, role, principal)
