"""Account self-service routes: profile name, password change, sessions, password reset."""

from __future__ import annotations

from litestar import Request, Response, delete, get, patch, post

from modelpilot.auth import account, reset, service
from modelpilot.auth.account_schemas import PasswordChangeBody, ProfileBody, ResetBody, ResetRequestBody
from modelpilot.core.access import Principal
from modelpilot.auth.routes import session_cookie
from modelpilot.core.clientip import client_ip
from modelpilot.core.db import Database
from modelpilot.settings import Settings


def _limits(request: Request) -> account.AccountLimits:
    return request.app.state["account_limits"]


def _ip(request: Request, settings: Settings) -> str:
    return client_ip(request, settings.trusted_proxies)


@patch("/api/v1/auth/me", tags=["accounts"])
async def update_me(db: Database, user: Principal, data: ProfileBody) -> dict:
    """Change your display name."""
    await account.rename(db, user, data.name)
    return await service.me(db, user.user_id)


@post("/api/v1/auth/password", tags=["accounts"], status_code=200)
async def change_password(request: Request, db: Database, settings: Settings, user: Principal,
                          data: PasswordChangeBody) -> dict:
    """Change your password; the current one is required. Your other sessions end."""
    ended = await account.change_password(db, _limits(request), user, data.current_password, data.new_password,
                                          ip=_ip(request, settings))
    return {"ok": True, "sessions_ended": ended}


@get("/api/v1/auth/sessions", tags=["accounts"])
async def list_sessions(db: Database, user: Principal) -> list[dict]:
    """The sessions signed in as you, newest activity first; `current` marks this one."""
    return await account.list_sessions(db, user)


@delete("/api/v1/auth/sessions", tags=["accounts"], status_code=200)
async def end_other_sessions(request: Request, db: Database, settings: Settings, user: Principal) -> dict:
    """Sign out every session of yours except this one."""
    return {"sessions_ended": await account.end_other_sessions(db, user, ip=_ip(request, settings))}


@post("/api/v1/auth/password-reset", tags=["accounts"], status_code=202)
async def request_password_reset(request: Request, db: Database, settings: Settings,
                                 data: ResetRequestBody) -> dict:
    """Ask for a password reset link by e-mail. Always 202, whether or not the account exists."""
    await reset.request_reset(db, settings, request.app.state["mailer"], _limits(request), data.email,
                              _ip(request, settings))
    return {"ok": True, "email_enabled": settings.smtp_configured}


@get("/api/v1/auth/password-reset/{token:str}", tags=["accounts"])
async def describe_password_reset(db: Database, token: str) -> dict:
    """Whose password a reset link resets, and until when it works."""
    return await reset.describe_link(db, token)


@post("/api/v1/auth/password-reset/{token:str}", tags=["accounts"], status_code=200)
async def complete_password_reset(request: Request, db: Database, settings: Settings, token: str,
                                  data: ResetBody) -> Response:
    """Set a new password with a reset link: ends every session and logs in."""
    user_id, session = await reset.complete_reset(db, settings, _limits(request), token, data.password,
                                                  _ip(request, settings), request.headers.get("user-agent", ""))
    return Response(await service.me(db, user_id), cookies=[session_cookie(settings, session)])


ROUTES = [update_me, change_password, list_sessions, end_other_sessions, request_password_reset,
          describe_password_reset, complete_password_reset]
