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
from modelpilot.actions import routes as action_routes
from modelpilot.actions import service as action_service
from modelpilot.actions.http import close_clients as close_action_clients
from modelpilot.analytics import routes as analytics_routes
from modelpilot.auth import account_routes
from modelpilot.auth import routes as auth_routes
from modelpilot.auth.account import AccountLimits
from modelpilot.auth.service import AuthLimits
from modelpilot.auth.context import SESSION_COOKIE, provide_access, provide_principal, provide_user
from modelpilot.billing.checkout import refuse_delete_while_subscribed
from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.clientip import client_ip_of_scope
from modelpilot.billing import routes as billing_routes
from modelpilot.billing.plans import load_catalog
from modelpilot.billing.service import TenantLookups
from modelpilot.chat import contact_links, inbox_routes
from modelpilot.chat.handoff_notify import register_handoff_jobs
from modelpilot.chat.sse import detach_live_streams
from modelpilot.chat import routes as chat_routes
from modelpilot.chatbots import routes as chatbot_routes
from modelpilot.chatbots.service import any_bot_needs_litellm, count_bots_in, get_bot
from modelpilot.contacts import routes as contact_routes
from modelpilot.contacts.service import ContactConversations, purge_workspace_contacts
from modelpilot.core.body_type import json_body_middleware
from modelpilot.core.csrf import csrf_middleware_factory
from modelpilot.core.database import open_database
from modelpilot.core.db import Database
from modelpilot.core.errors import EXCEPTION_HANDLERS
from modelpilot.core.events import event_bus_for
from modelpilot.core.hostcheck import host_guard_middleware
from modelpilot.core.instance import InstanceLock
from modelpilot.core.mail import MailConfig, Mailer
from modelpilot.core.migrate import migrate_database
from modelpilot.core.observe import observe_middleware
from modelpilot.core.private import secure_data_dir
from modelpilot.core.ratelimit import DatabaseThrottle, throttle_for
from modelpilot.core.secheaders import security_headers_middleware
from modelpilot.core.tokens import API_TOKEN_PREFIX, new_secret
from modelpilot.evals import routes as eval_routes
from modelpilot.evals.runner import Evals
from modelpilot.openif import routes as openif_routes
from modelpilot.openif.mcp_server import McpEndpoint, mcp_endpoint
from modelpilot.ops import routes as ops_routes
from modelpilot.ops.jobs import register_ops_jobs
from modelpilot.insights import routes as insight_routes
from modelpilot.knowledge import embedding_routes
from modelpilot.knowledge import routes as knowledge_routes
from modelpilot.knowledge.lifecycle import start_knowledge, stop_knowledge
from modelpilot.knowledge.service import count_documents_in, purge_workspace
from modelpilot.mcpservers import routes as mcp_server_routes
from modelpilot.mcpservers import service as mcp_service
from modelpilot.providers import routes as provider_routes
from modelpilot.providers.direct import close_shared_client
from modelpilot.providers.keys import check_key_ring
from modelpilot.providers.llm import preload_litellm
from modelpilot.scheduler.lifecycle import Scheduler
from modelpilot.scheduler.worker import JobWorker
from modelpilot.settings import Settings
from modelpilot.webhooks import routes as webhook_routes
from modelpilot.webhooks.delivery import start_webhooks, stop_webhooks
from modelpilot.widget import routes as widget_routes
from modelpilot.workspaces import routes as workspace_routes
from modelpilot.workspaces import service as workspace_service
from modelpilot.workspaces.service import WorkspaceHooks
from modelpilot import web_routes

log = logging.getLogger("modelpilot.app")

# Paths whose unsafe requests carry no cookie authority (public widget, Stripe's webhook).
CSRF_EXEMPT = ("/api/v1/widget/", "/api/v1/billing/stripe/webhook")
# Paths that hand out sessions: checked for a cross-site origin even without a cookie.
CSRF_SESSION_ROUTES = ("/api/v1/auth/", "/api/v1/invitations/")


@get("/healthz", tags=["public"])
async def healthz(db: Database, settings: Settings) -> dict:
    async with db.read() as conn:
        await conn.execute("SELECT 1")
    return {"status": "ok", "version": __version__, "db": "ok", "backend": db.backend, "node": settings.node_name}


def _lifespan(settings: Settings):
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        migrate_database(settings)
        check_key_ring(settings)  # the CLI says it in one line first; this guards other starters
        db = open_database(settings)
        await db.open()
        app.state["db"] = db
        events = app.state["events"] = event_bus_for(settings)
        await events.start()
        # One SQLite node counts throttles in memory; a Postgres fleet in the database, so a limit
        # holds across every node.
        throttle = app.state["throttle"] = throttle_for(db)
        app.state["auth_limits"] = AuthLimits(throttle)
        app.state["account_limits"] = AccountLimits(throttle)
        mcp = app.state["mcp"] = McpEndpoint()  # the MCP SDK loads on the first /mcp request
        scheduler = Scheduler(db, settings.node_name)
        scheduler.start()
        app.state["scheduler"] = scheduler
        worker = JobWorker(db, slots=settings.ingest_concurrency, node=settings.node_name,
                           lease_seconds=settings.job_lease_seconds)
        app.state["worker"] = worker
        # Test sets run after knowledge changes: knowledge tells evals of each one (evals asks
        # knowledge, so the hook is wired here rather than imported by knowledge).
        evals = app.state["evals"] = Evals(db, settings)
        app.state["knowledge"] = await start_knowledge(db, settings, scheduler, worker,
                                                       on_change=evals.knowledge_changed)
        await worker.start()
        await evals.start()
        webhooks = app.state["webhooks"] = await start_webhooks(db, settings, scheduler)
        register_ops_jobs(scheduler, db, settings)
        register_handoff_jobs(scheduler, db, settings, app.state["mailer"])
        if isinstance(throttle, DatabaseThrottle):
            scheduler.add_interval_job("ratelimit.sweep", throttle.sweep, DatabaseThrottle.SWEEP_SECONDS,
                                       once_per_fleet=True)
        preload = asyncio.create_task(preload_litellm(1.0, lambda: any_bot_needs_litellm(db, settings))) \
            if settings.llm_preload else None
        try:
            yield
        finally:
            if preload is not None:
                preload.cancel()
            await mcp.stop()
            await stop_webhooks(webhooks)
            await evals.stop()
            await worker.stop()
            await stop_knowledge(app.state["knowledge"])
            scheduler.shutdown()
            await close_shared_client()
            await close_action_clients()
            await app.state["mailer"].drain()
            await events.stop()
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


# In this order, in the deletion's transaction: a live subscription refuses before anything is
# purged; then the tenant's vectors go, which no foreign key can cascade into; then its contacts
# (people's details: deleted by name, not left to the cascade alone).
WORKSPACE_HOOKS = WorkspaceHooks(before_delete=(refuse_delete_while_subscribed, purge_workspace,
                                                purge_workspace_contacts))
# Chat's side of a contact (contacts cannot import chat: chat imports contacts for a turn's Visitor).
CONTACT_CONVERSATIONS = ContactConversations(
    counts=contact_links.conversation_counts_in, listed=contact_links.contact_conversations_in,
    erase=contact_links.erase_contact_conversations_in, link=contact_links.link_session_in)
# Billing's questions to the domains that own the counted rows (billing imports none of them).
TENANT_LOOKUPS = TenantLookups(
    counters={"chatbots": count_bots_in, "documents": count_documents_in,
              "members": workspace_service.count_members_in},
    workspace_exists=workspace_service.workspace_exists_in,
)


async def check_tool_refs(db: Database, workspace_id: str, bot_id: str | None, tools: list[dict]) -> list[tuple]:
    """A bot's picked tools, asked of the domains that own them (chatbots imports neither). A pick
    the bot already had stays valid after its MCP server is deleted (the chat reports the tool as
    unavailable), so a bot whose server went can still be saved."""
    problems = await action_service.tool_ref_problems(db, workspace_id, bot_id, tools)
    picks = [(i, t["server_id"]) for i, t in enumerate(tools) if t["type"] == "mcp"]
    if picks:
        known = await mcp_service.existing_server_ids(db, workspace_id, [sid for _, sid in picks])
        had = (await get_bot(db, workspace_id, bot_id)).tools if bot_id else []
        problems += [(f"tools[{i}]", "names an MCP server this workspace does not have") for i, sid in picks
                     if sid not in known and tools[i] not in had]
    return problems


async def provide_workspace(db: Database, access: WorkspaceAccess) -> dict:
    """The workspace of the path, for routes of domains that must not import workspaces (billing)."""
    return await workspace_service.get_workspace(db, access)


def _provide_state(key: str):
    def provider(state: State) -> Any:
        return state[key]

    return Provide(provider, sync_to_thread=False)


def create_app(settings: Settings) -> Litestar:
    secure_data_dir(settings.data_dir)
    load_catalog(settings)  # a broken plans file stops start-up with its reason, not a later 500
    route_handlers = [
        healthz,
        *auth_routes.ROUTES,
        *account_routes.ROUTES,
        *workspace_routes.ROUTES,
        *ops_routes.ROUTES,
        *provider_routes.ROUTES,
        *chatbot_routes.ROUTES,
        *action_routes.ROUTES,
        *chat_routes.ROUTES,
        *inbox_routes.ROUTES,
        *analytics_routes.ROUTES,
        *insight_routes.ROUTES,
        *widget_routes.ROUTES,
        *knowledge_routes.ROUTES,
        *embedding_routes.ROUTES,
        *eval_routes.ROUTES,
        *billing_routes.ROUTES,
        *webhook_routes.ROUTES,
        *mcp_server_routes.ROUTES,
        *contact_routes.ROUTES,
        *openif_routes.ROUTES,
        mcp_endpoint,
        *web_routes.ROUTES,
    ]
    app = Litestar(
        route_handlers=route_handlers,
        lifespan=[_instance_lock(settings), _lifespan(settings)],
        dependencies={
            "db": _provide_state("db"),
            "settings": _provide_state("settings"),
            "knowledge": _provide_state("knowledge"),
            "evals": _provide_state("evals"),
            "mailer": _provide_state("mailer"),
            "event_bus": _provide_state("events"),
            "principal": Provide(provide_principal),
            "user": Provide(provide_user),
            "access": Provide(provide_access),
            "workspace": Provide(provide_workspace),
            "workspace_hooks": Provide(lambda: WORKSPACE_HOOKS, sync_to_thread=False),
            "tenant_lookups": Provide(lambda: TENANT_LOOKUPS, sync_to_thread=False),
            "throttle": _provide_state("throttle"),
            "tool_ref_check": Provide(lambda: check_tool_refs, sync_to_thread=False),
            "contact_conversations": Provide(lambda: CONTACT_CONVERSATIONS, sync_to_thread=False),
        },
        middleware=[
            csrf_middleware_factory(SESSION_COOKIE, settings.public_url, CSRF_EXEMPT,
                                    session_prefixes=CSRF_SESSION_ROUTES, token_prefix=API_TOKEN_PREFIX),
            json_body_middleware,
        ],
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
    app.state["mailer"] = Mailer(mail_config(settings))
    # First-run setup from anywhere but this machine needs this; `modelpilot serve` prints it.
    app.state["setup_token"] = new_secret(24)
    _wrap_outermost(app, settings)
    return app


def mail_config(settings: Settings) -> MailConfig | None:
    """The SMTP settings as core/mail wants them; None (mail off) without an SMTP host."""
    if not settings.smtp_configured:
        return None
    return MailConfig(host=settings.smtp_host.strip(), port=settings.smtp_port, sender=settings.mail_from,
                      username=settings.smtp_username, password=settings.smtp_password,
                      security=settings.smtp_security, timeout=settings.smtp_timeout_seconds)


def _wrap_outermost(app: Litestar, settings: Settings) -> None:
    """Request id, access log, metrics and security headers around everything, router included.

    Litestar's `middleware=` runs only for matched routes; wrapping the app's ASGI handler also
    sees 404s and 405s.
    """
    guarded = host_guard_middleware(app.asgi_handler, settings.public_url)
    observed = observe_middleware(guarded, lambda scope: client_ip_of_scope(scope, settings.trusted_proxies))
    secured = security_headers_middleware(observed, hsts=settings.secure_cookies)
    # Outermost: a live event stream's frames are written here, after all of the above returned.
    app.asgi_handler = detach_live_streams(secured)
