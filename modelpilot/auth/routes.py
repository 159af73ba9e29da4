"""Account routes: first-run setup, signup, login, logout, me, accepting invitations."""

from __future__ import annotations

import hmac

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie

from modelpilot.auth import service
from modelpilot.auth.context import SESSION_COOKIE, optional_principal
from modelpilot.auth.schemas import AcceptInvitationBody, LoginBody, SetupBody, SignupBody
from modelpilot.core.access import Principal
from modelpilot.core.clientip import client_ip, is_local_request
from modelpilot.core.db import Database
from modelpilot.core.errors import ApiError
from modelpilot.settings import Settings
from modelpilot.workspaces import service as workspaces


def session_cookie(settings: Settings, token: str) -> Cookie:
    return Cookie(key=SESSION_COOKIE, value=token, httponly=True, samesite="lax", path="/",
                  secure=settings.secure_cookies, max_age=service.session_seconds(settings))


def cleared_cookie(settings: Settings) -> Cookie:
    return Cookie(key=SESSION_COOKIE, value="", httponly=True, samesite="lax", path="/",
                  secure=settings.secure_cookies, max_age=0)


def _limits(request: Request) -> service.AuthLimits:
    return request.app.state["auth_limits"]


def _ip(request: Request, settings: Settings) -> str:
    return client_ip(request, settings.trusted_proxies)


async def _logged_in(db: Database, settings: Settings, user: dict, token: str, status: int = 200) -> Response:
    body = await service.me(db, user["id"])
    return Response(body, status_code=status, cookies=[session_cookie(settings, token)])


async def _account_then_login(request: Request, db: Database, settings: Settings, data: SignupBody,
                              first_run: bool) -> Response:
    account = service.NewAccount(data.email, data.password, data.name, data.workspace_name)
    user = await service.create_account(db, account, first_run=first_run, ip=_ip(request, settings))
    async with db.write() as conn:
        token = await service.start_session_in(conn, settings, user["id"], request.headers.get("user-agent", ""))
    return await _logged_in(db, settings, user, token, status=201)


def setup_token_required(request: Request, settings: Settings) -> bool:
    """Whoever reaches a fresh public instance first would own it; the token printed at start
    proves access to the server's console. Requests from this machine itself may skip it."""
    return not is_local_request(request.scope, settings.trusted_proxies)


def check_setup_token(request: Request, settings: Settings, given: str | None) -> None:
    if not setup_token_required(request, settings):
        return
    if not given:
        raise ApiError(403, "setup_token_required", "First-run setup from another machine needs the setup "
                       "token that the server printed when it started (open the link it printed).",
                       [{"field": "setup_token", "message": "is required: the server printed it when it started"}])
    if not hmac.compare_digest(given.strip().encode(), request.app.state["setup_token"].encode()):
        raise ApiError(403, "setup_token_invalid", "That setup token is wrong; use the one the server printed "
                       "when it last started.",
                       [{"field": "setup_token", "message": "is wrong: use the one printed when the server last started"}])


@get("/api/v1/auth/setup", tags=["accounts"])
async def setup_status(request: Request, db: Database, settings: Settings) -> dict:
    needed = await service.setup_needed(db)
    return {"needed": needed, "token_required": needed and setup_token_required(request, settings)}


@post("/api/v1/auth/setup", tags=["accounts"])
async def setup(request: Request, db: Database, settings: Settings, data: SetupBody) -> Response:
    if await service.setup_needed(db):  # once set up, the answer is "setup_done" for everyone
        check_setup_token(request, settings, data.setup_token)
    return await _account_then_login(request, db, settings, data, first_run=True)


@post("/api/v1/auth/signup", tags=["accounts"])
async def signup(request: Request, db: Database, settings: Settings, data: SignupBody) -> Response:
    if not settings.open_signup:
        raise ApiError(403, "signup_closed", "Sign-up is closed on this instance; ask an admin for an invitation.")
    limits = _limits(request)
    wait = await limits.throttle.take((limits.signups_per_ip, _ip(request, settings)))
    if wait:
        raise service.too_many(wait, "sign-ups from this address")
    return await _account_then_login(request, db, settings, data, first_run=False)


@post("/api/v1/auth/login", tags=["accounts"])
async def login(request: Request, db: Database, settings: Settings, data: LoginBody) -> Response:
    user, token = await service.login(db, settings, _limits(request), data.email, data.password,
                                      _ip(request, settings), request.headers.get("user-agent", ""))
    return await _logged_in(db, settings, user, token)


@post("/api/v1/auth/logout", tags=["accounts"], status_code=200)
async def logout(request: Request, db: Database, settings: Settings) -> Response:
    principal = await optional_principal(request)
    if principal is not None:
        await service.logout(db, principal)
    return Response({"ok": True}, cookies=[cleared_cookie(settings)])


@get("/api/v1/auth/me", tags=["accounts"])
async def me(db: Database, user: Principal) -> dict:
    return await service.me(db, user.user_id)


@get("/api/v1/invitations/{token:str}", tags=["accounts"])
async def invitation_info(db: Database, token: str) -> dict:
    return await workspaces.describe_invitation(db, token)


@post("/api/v1/invitations/{token:str}/accept", tags=["accounts"], status_code=200)
async def accept_invitation(request: Request, db: Database, settings: Settings, token: str,
                            data: AcceptInvitationBody | None = None) -> Response:
    principal = await optional_principal(request)
    ip = _ip(request, settings)
    if principal is not None and principal.is_user:
        await workspaces.accept_invitation(db, token, principal.user_id, principal.email or "", ip=ip,
                                           settings=settings)
        return Response(await service.me(db, principal.user_id))
    data = data or AcceptInvitationBody()
    if not data.email or not data.password:
        raise ApiError(401, "unauthorized", "Log in, or send email, password and name to create an account.",
                       [{"field": "email", "message": "required when not logged in"}])
    user = await service.accept_invitation_as_new_user(db, settings, token, data.email, data.password,
                                                      data.name or "", ip)
    async with db.write() as conn:
        session = await service.start_session_in(conn, settings, user["id"], request.headers.get("user-agent", ""))
    return await _logged_in(db, settings, user, session, status=201)


ROUTES = [setup_status, setup, signup, login, logout, me, invitation_info, accept_invitation]
