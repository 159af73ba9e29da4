"""Who calls the open interfaces: a workspace API token (`Authorization: Bearer mp_...`), nothing else.

A browser session names no workspace, so /v1 and /mcp take tokens only; the token's workspace
and role are the caller's, as for every other API call. Each chat message also counts against
the token's per-minute limit (MODELPILOT_API_MESSAGES_PER_MINUTE), on every node alike.
"""

from __future__ import annotations

from litestar.connection import ASGIConnection

from modelpilot.auth.context import bearer_token, optional_principal
from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.errors import ApiError, unauthorized
from modelpilot.core.ratelimit import Limit, Throttle
from modelpilot.settings import Settings

NO_TOKEN = ("Send a workspace API token as `Authorization: Bearer mp_...` (create one under "
            "Settings → API tokens).")


async def token_access(connection: ASGIConnection) -> WorkspaceAccess:
    """The token's workspace and role; 401 without a valid token (a session cookie is not enough)."""
    if bearer_token(connection) is None:  # type: ignore[arg-type]
        raise unauthorized(NO_TOKEN)
    principal = await optional_principal(connection)  # type: ignore[arg-type]
    if principal is None or principal.token_id is None or principal.token_workspace_id is None:
        raise unauthorized(NO_TOKEN)
    return WorkspaceAccess(principal.token_workspace_id, principal.token_role or "viewer", principal)


class MessageLimit:
    """Chat messages per API token per minute, counted by the app's throttle (memory on one
    SQLite node, the database for a Postgres fleet)."""

    def __init__(self, settings: Settings, throttle: Throttle) -> None:
        self.throttle = throttle
        self.limit = Limit("api.messages", settings.api_messages_per_minute, 60)

    async def take(self, access: WorkspaceAccess) -> None:
        wait = await self.throttle.take((self.limit, access.token_id or access.workspace_id))
        if wait:
            raise ApiError(429, "rate_limited", f"Rate limit reached: at most {self.limit.limit} messages per "
                           f"minute for this API token. Try again in {wait} seconds.",
                           headers={"Retry-After": str(wait)})
