"""create_app(settings) -> Litestar: the whole server, wired from its domains."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin

from modelpilot import __version__
from modelpilot.analytics import routes as analytics_routes
from modelpilot.auth import routes as auth_routes
from modelpilot.auth.service import AuthLimits
from modelpilot.auth.context import SESSION_COOKIE, provide_access, provide_principal, provide_user
from modelpilot.core.clientip import client_ip_of_scope
from modelpilot.billing import routes as billing_routes
from modelpilot.billing.plans import load_catalog
from modelpilot.chat import routes as chat_routes
from modelpilot.chatbots import routes as chatbot_routes
from modelpilot.core.csrf import csrf_middleware_factory
from modelpilot.core.db import Database
from modelpilot.core.errors import EXCEPTION_HANDLERS
from modelpilot.core.instance import InstanceLock
from modelpilot.core.migrate import apply_migrations
from modelpilot.core.observe import observe_middleware
from modelpilot.core.secheaders import security_headers_middleware
from modelpilot.ops import routes as ops_routes
from modelpilot.ops.jobs import register_ops_jobs
from modelpilot.knowledge import routes as knowledge_routes
from modelpilot.knowledge.lifecycle import start_knowledge, stop_knowledge
from modelpilot.providers import routes as provider_routes
from modelpilot.providers.direct import close_shared_client
from modelpilot.providers.llm import preload_litellm
from modelpilot.scheduler.lifecycle import Scheduler
from modelpilot.scheduler.worker import JobWorker
from modelpilot.settings import Settings
from modelpilot.widget import routes as widget_routes
from modelpilot.workspaces import routes as workspace_routes
from modelpilot import web_routes

log = logging.getLogger("modelpilot.app")

# Paths whose unsafe requests carry no cookie authority (public widget, Stripe's webhook).
CSRF_EXEMPT = ("/api/v1/widget/", "/api/v1/billing/stripe/webhook")


@get("/healthz", tags=["public"])
async def healthz(db: Database) -> dict:
    async with db.read() as conn:
        await conn.execute("SELECT 1")
    return {"status": "ok", "version": __version__, "db": "ok"}


def _lifespan(settings: Settings):
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        apply_migrations(settings.db_path)
        db = Database(settings.db_path, readers=settings.db_readers)
        await db.open()
        app.state["db"] = db
        app.state["auth_limits"] = AuthLimits()
        scheduler = Scheduler()
        scheduler.start()
        app.state["scheduler"] = scheduler
        worker = JobWorker(db, slots=settings.ingest_concurrency)
        app.state["worker"] = worker
        app.state["knowledge"] = await start_knowledge(db, settings, scheduler, worker)
        await worker.start()
        register_ops_jobs(scheduler, db, settings)
        preload = asyncio.create_task(preload_litellm(delay=1.0)) if settings.llm_preload else None
        try:
            yield
        finally:
            if preload is not None:
                preload.cancel()
            await worker.stop()
            await stop_knowledge(app.state["knowledge"])
            scheduler.shutdown()
            await close_shared_client()
            await db.close()
            log.info("database closed cleanly")

    return lifespan


def _instance_lock(settings: Settings):
    """Entered first, left last: held while the server runs (the kernel drops it if the process
    dies), so `modelpilot restore` refuses to swap the database under a live server."""

    @asynccontextmanager
    async def hold(app: Litestar) -> AsyncIterator[None]:
        with InstanceLock(settings.data_dir):
            yield

    return hold


def _provide_state(key: str):
    def provider(state: State) -> Any:
        return state[key]

    return Provide(provider, sync_to_thread=False)


def create_app(settings: Settings) -> Litestar:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    load_catalog(settings)  # a broken plans file stops start-up with its reason, not a later 500
    route_handlers = [
        healthz,
        *auth_routes.ROUTES,
        *workspace_routes.ROUTES,
        *ops_routes.ROUTES,
        *provider_routes.ROUTES,
        *chatbot_routes.ROUTES,
        *chat_routes.ROUTES,
        *analytics_routes.ROUTES,
        *widget_routes.ROUTES,
        *knowledge_routes.ROUTES,
        *billing_routes.ROUTES,
        *web_routes.ROUTES,
    ]
    app = Litestar(
        route_handlers=route_handlers,
        lifespan=[_instance_lock(settings), _lifespan(settings)],
        dependencies={
            "db": _provide_state("db"),
            "settings": _provide_state("settings"),
            "knowledge": _provide_state("knowledge"),
            "principal": Provide(provide_principal),
            "user": Provide(provide_user),
            "access": Provide(provide_access),
        },
        middleware=[csrf_middleware_factory(SESSION_COOKIE, settings.public_url, CSRF_EXEMPT)],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="ModelPilot API",
            version=__version__,
            path="/schema",
            # JSON only: the HTML viewers load scripts from a CDN, and nothing here may.
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])],
        ),
        logging_config=None,  # cli.configure_logging owns the log format
        debug=False,
    )
    app.state["settings"] = settings
    _wrap_outermost(app, settings)
    return app


def _wrap_outermost(app: Litestar, settings: Settings) -> None:
    """Request id, access log, metrics and security headers around everything, router included.

    Litestar's `middleware=` runs only for matched routes; wrapping the app's ASGI handler also
    sees 404s and 405s.
    """
    observed = observe_middleware(app.asgi_handler, lambda scope: client_ip_of_scope(scope, settings.trusted_proxies))
    app.asgi_handler = security_headers_middleware(observed, hsts=settings.secure_cookies)
