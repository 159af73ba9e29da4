"""Account self-service routes: profile name, password change, sessions, password reset."""

from __future__ import annotations

from litestar import Request, Response, delete, get, patch, post

from modelpilot.auth import account, reset, service
from modelpilot.auth.account_schemas import PasswordChangeBody, ProfileBody, ResetBody, ResetRequestBody
from modelpilot.auth.context import Principal
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
    await account.rename(db, user, data.name)
    return await service.me(db, user.user_id)


@post("/api/v1/auth/password", tags=["accounts"], status_code=200)
async def change_password(request: Request, db: Database, settings: Settings, user: Principal,
                          data: PasswordChangeBody) -> dict:
    ended = await account.change_password(db, _limits(request), user, data.current_password, data.new_password,
                                          ip=_ip(request, settings))
    return {"ok": True, "sessions_ended": ended}


@get("/api/v1/auth/sessions", tags=["accounts"])
async def list_sessions(db: Database, user: Principal) -> list[dict]:
    return await account.list_sessions(db, user)


@delete("/api/v1/auth/sessions", tags=["accounts"], status_code=200)
async def end_other_sessions(request: Request, db: Database, settings: Settings, user: Principal) -> dict:
    return {"sessions_ended": await account.end_other_sessions(db, user, ip=_ip(request, settings))}


@post("/api/v1/auth/password-reset", tags=["accounts"], status_code=202)
async def request_password_reset(request: Request, db: Database, settings: Settings,
                                 data: ResetRequestBody) -> dict:
    await reset.request_reset(db, settings, request.app.state["mailer"], _limits(request), data.email,
                              _ip(request, settings))
    return {"ok": True, "email_enabled": settings.smtp_configured}


@get("/api/v1/auth/password-reset/{token:str}", tags=["accounts"])
async def describe_password_reset(db: Database, token: str) -> dict:
    return await reset.describe_link(db, token)


@post("/api/v1/auth/password-reset/{token:str}", tags=["accounts"], status_code=200)
async def complete_password_reset(request: Request, db: Database, settings: Settings, token: str,
                                  data: ResetBody) -> Response:
    user_id, session = await reset.complete_reset(db, settings, _limits(request), token, data.password,
                                                  _ip(request, settings), request.headers.get("user-agent", ""))
    return Response(await service.me(db, user_id), cookies=[session_cookie(settings, session)])


ROUTES = [update_me, change_password, list_sessions, end_other_sessions, request_password_reset,
          describe_password_reset, complete_password_reset]
