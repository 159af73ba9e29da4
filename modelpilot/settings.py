"""All configuration, read once from MODELPILOT_* environment variables and CLI flags.

Each setting is one dataclass field; its metadata gives the help text and the parser, so the
environment, the CLI flags and `--help` all come from this one list.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

ENV_PREFIX = "MODELPILOT_"


class SettingsError(ValueError):
    """An invalid setting; the message is one line naming the variable."""


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true/false")


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 65535:
        raise ValueError("expected a port number 0-65535")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("expected a positive whole number")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("expected a whole number, 0 or more")
    return value


def _url_or_empty(raw: str) -> str:
    raw = raw.strip().rstrip("/")
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("expected an http(s) URL such as https://chat.example.com")
    return raw


def _networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    items = [item.strip() for item in raw.split(",") if item.strip()]
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def _log_level(raw: str) -> str:
    value = raw.strip().lower()
    if value not in {"debug", "info", "warning", "error"}:
        raise ValueError("expected debug, info, warning or error")
    return value


def _log_format(raw: str) -> str:
    value = raw.strip().lower()
    if value not in {"text", "json"}:
        raise ValueError("expected text or json")
    return value


def _smtp_security(raw: str) -> str:
    value = raw.strip().lower()
    if value not in {"starttls", "tls", "none"}:
        raise ValueError("expected starttls, tls or none")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("expected a positive number")
    return value


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if not value >= 0:
        raise ValueError("expected a number, 0 or more")
    return value


def _price_map(raw: str) -> tuple:
    """"starter=price_123,pro=price_456" -> (("starter", "price_123"), ("pro", "price_456"))."""
    pairs = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        plan, sep, price = (piece.strip() for piece in item.partition("="))
        if not sep or not plan or not price:
            raise ValueError("expected plan=price_id pairs separated by commas")
        pairs.append((plan, price))
    return tuple(pairs)


def _database_url(raw: str) -> str:
    raw = raw.strip()
    if not raw:
        return ""
    scheme = urlsplit(raw).scheme
    if scheme not in {"postgresql", "postgres"}:
        raise ValueError("expected a postgresql://user:password@host:5432/database URL "
                         "(leave it empty for SQLite in the data directory)")
    return raw


def _seconds_list(raw: str) -> tuple:
    """"5,300,1800" -> (5.0, 300.0, 1800.0): a schedule of waits in seconds."""
    values = tuple(float(item) for item in raw.split(",") if item.strip())
    if not values or any(not value > 0 for value in values):
        raise ValueError("expected positive numbers of seconds separated by commas")
    return values


def setting(default: Any, help: str, parse: Callable[[str], Any] = str, flag: bool = True) -> Any:
    return field(default=default, metadata={"help": help, "parse": parse, "flag": flag})


def default_ingest_threads() -> int:
    """One knowledge embedding run per core, at most 4: each concurrent run holds a batch's
    activations (~40 MB), and past 4 they mostly queue for memory bandwidth."""
    return max(1, min(os.cpu_count() or 1, 4))


@dataclass(frozen=True)
class Settings:
    host: str = setting("127.0.0.1", "Address to listen on.")
    port: int = setting(8000, "Port to listen on (0 picks a free one).", _port)
    data_dir: Path = setting(Path("modelpilot-data" if getattr(sys, "frozen", False) else "data"),
                             "Directory for the database, key file and backups.", Path)
    secret_key: str = setting("", "Key that seals provider API keys (base64, 32 bytes). "
                              "If unset, one is generated into DATA_DIR/secret.key (mode 0600).")
    public_url: str = setting("", "Public base URL as users reach it, e.g. https://chat.example.com. "
                              "Sets Secure cookies on https and the origin allowed for the dashboard.", _url_or_empty)
    open_signup: bool = setting(False, "Let anyone create an account and workspace.", _bool)
    max_workspaces_per_user: int = setting(10, "Workspaces one user may create (each starts with its own free "
                                           "quota); the instance owner is exempt; 0 means no limit.",
                                           _non_negative_int)
    trusted_proxies: tuple = setting((), "Comma-separated proxy addresses/CIDRs whose "
                                     "X-Forwarded-For is believed.", _networks)
    log_level: str = setting("info", "Log level: debug, info, warning, error.", _log_level)
    log_format: str = setting("text", "Log format: text or json.", _log_format)
    max_body_bytes: int = setting(26_214_400, "Largest request body in bytes.", _positive_int)
    max_header_bytes: int = setting(32_768, "Largest request line plus headers in bytes (larger: 431).",
                                    _positive_int)
    header_timeout_seconds: float = setting(20.0, "Time a client has to send a request's line and headers "
                                            "(slower: 408, connection closed).", _positive_float)
    body_timeout_seconds: float = setting(60.0, "Longest pause allowed while a request body arrives "
                                          "(longer: 408, connection closed).", _positive_float)
    session_idle_hours: int = setting(168, "A session ends after this many hours without use.", _positive_int)
    session_max_hours: int = setting(720, "A session ends this many hours after login, used or not.", _positive_int)
    database_url: str = setting("", "Postgres (with pgvector) shared by any number of nodes, e.g. "
                                "postgresql://user:pass@db:5432/modelpilot; empty: SQLite in DATA_DIR.",
                                _database_url)
    node_id: str = setting("", "Name of this node in /healthz and logs (default: host name and process id).")
    db_readers: int = setting(4, "Read connections in the database pool.", _positive_int)
    metrics_token: str = setting("", "Bearer token that /metrics requires; empty leaves /metrics open "
                                 "(set it whenever the port is reachable by others).", flag=False)
    backup_interval_hours: int = setting(24, "Take a scheduled backup when the newest one is this many "
                                         "hours old; 0 turns scheduled backups off.", _non_negative_int)
    backup_keep: int = setting(7, "Scheduled backups to keep; older ones are deleted.", _positive_int)
    backup_dir: str = setting("", "Directory for scheduled backups (default DATA_DIR/backups).")
    ingest_allow_private: bool = setting(False, "Let URL sources reach private, loopback and link-local "
                                         "addresses (intranet docs). Off by default: it opens SSRF.", _bool)
    provider_allow_private: bool | None = setting(
        None, "Let LLM provider URLs (a workspace's api_base, a local Ollama) reach private, loopback and "
        "link-local addresses. Unset: true on a private instance, false when open signup is on. Set it false "
        "whenever people who are not the operator hold admin roles (an agency's clients).", _bool)
    outbound_allow_private: bool = setting(False, "Let outbound calls a workspace configures (webhooks, actions, "
                                           "MCP servers) reach private, loopback and link-local addresses. "
                                           "Off by default: it opens SSRF.", _bool)
    webhook_retry_seconds: tuple = setting((5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 50400.0),
                                           "Waits before each retry of a failed webhook delivery, in seconds "
                                           "(each varied by up to 10% so retries spread out); after the last "
                                           "one the delivery is given up.", _seconds_list)
    webhook_disable_after_seconds: float = setting(432000.0, "A webhook endpoint whose deliveries have all failed "
                                                   "for this long (default 5 days) is disabled, with a notice "
                                                   "in the dashboard.", _positive_float)
    webhook_concurrency: int = setting(4, "Webhook deliveries sent at once by this node.", _positive_int)
    webhook_timeout_seconds: float = setting(10.0, "Time a webhook receiver has to answer one delivery.",
                                             _positive_float)
    mcp_list_timeout_seconds: float = setting(10.0, "Time a remote MCP server has to list its tools (connecting "
                                              "included); a server slower than this is reported unavailable.",
                                              _positive_float)
    mcp_tools_cache_seconds: float = setting(60.0, "How long a remote MCP server's tool list is reused by chats "
                                             "before it is asked again (changing or deleting the server "
                                             "drops it at once); 0 asks every time.", _non_negative_float)
    max_upload_bytes: int = setting(20_000_000, "Largest uploaded knowledge file in bytes (larger: 413).",
                                    _positive_int)
    max_fetch_bytes: int = setting(10_000_000, "Largest web page or remote file fetched for knowledge, in bytes.",
                                   _positive_int)
    fetch_timeout_seconds: int = setting(20, "Time allowed for one knowledge URL fetch, redirects included.",
                                         _positive_int)
    ingest_concurrency: int = setting(2, "Knowledge documents indexed at once, each read in its own process; "
                                      "one workspace may use all but one of them, so others never wait "
                                      "behind it.", _positive_int)
    ingest_embed_threads: int = setting(default_ingest_threads(), "Knowledge batches embedded at once (default: one "
                                        "per core, at most 4), at low priority; while people chat, half of "
                                        "them (at least one), so chat keeps a core.", _positive_int)
    job_lease_seconds: float = setting(60.0, "How long a node's claim on a running job lasts without renewal (it renews "
                                       "every third of it); a job of a node that died is taken over once it "
                                       "expires.", _positive_float)
    ingest_read_seconds: float = setting(120.0, "Time one document (or crawled page) may take to be read before "
                                         "it is stopped and ends in error.", _positive_float)
    crawl_max_pages: int = setting(5000, "Upper limit on max_pages of a site or sitemap crawl.", _positive_int)
    vector_cache_mb: int = setting(256, "Memory for SQLite bots' vectors as matrices (exact search ~10x "
                                   "faster on large bots; least recently searched bots go first; 0 turns it "
                                   "off). About 1.5 MB per 1,000 chunks.", _non_negative_int)
    embedding_model: str = setting("builtin", "Embedding model: 'builtin' (shipped, offline) or a fastembed "
                                   "model name (downloaded once; needs internet).")
    llm_connect_timeout: float = setting(10.0, "Seconds to wait for an LLM provider to accept a request "
                                         "and start answering.", _positive_float)
    llm_idle_timeout: float = setting(60.0, "Seconds an LLM stream may stay silent before it is "
                                      "given up with a timeout error.", _positive_float)
    llm_preload: bool = setting(True, "Import the LLM library in the background after start-up when a "
                                "bot needs it (otherwise on its first chat).", _bool)
    llm_direct_openai: bool = setting(True, "Stream OpenAI and OpenAI-compatible models with the built-in "
                                      "lean client (false: through LiteLLM like other providers).", _bool)
    chat_history_tokens: int = setting(3000, "Token budget (roughly) for earlier turns sent with "
                                       "each chat message.", _positive_int)
    chat_max_message_chars: int = setting(4000, "Longest chat message accepted, in characters.", _positive_int)
    chat_tool_calls_per_conversation: int = setting(10, "Calls of one tool (HTTP action, MCP tool or built-in) "
                                                    "one conversation may make per hour; more are refused and "
                                                    "the model is told so.", _positive_int)
    chat_tool_confirm_minutes: int = setting(15, "Minutes an action that needs the visitor's approval waits for "
                                             "it; after that the approval is refused as expired.", _positive_int)
    api_messages_per_minute: int = setting(120, "Chat messages one API token may send per minute through the "
                                           "OpenAI-compatible /v1 API and the /mcp `ask` tool.", _positive_int)
    widget_ip_messages_per_minute: int = setting(20, "Widget chat messages one visitor address may send "
                                                 "per minute (all bots).", _positive_int)
    widget_session_messages_per_minute: int = setting(8, "Widget chat messages one visitor session may send "
                                                      "per minute.", _positive_int)
    widget_ip_requests_per_minute: int = setting(120, "Other widget API calls (config, history, feedback) "
                                                 "one visitor address may make per minute.", _positive_int)
    widget_daily_messages: int = setting(5000, "Widget chat messages one bot accepts per UTC day.", _positive_int)
    widget_max_message_chars: int = setting(2000, "Longest widget chat message, in characters.", _positive_int)
    handoff_notify_minutes: int = setting(5, "Minutes a conversation may wait for a person, unanswered, before "
                                          "members who opted in get an e-mail (0: at the next check).", _non_negative_int)
    handoff_notify_check_seconds: float = setting(60.0, "How often the waiting-conversation e-mail check runs.",
                                                  _positive_float)
    events_heartbeat_seconds: float = setting(15.0, "Seconds between heartbeat comments on idle live event "
                                              "streams (widget and inbox).", _positive_float)


    plans_file: str = setting("", "TOML file defining the plans (default DATA_DIR/plans.toml when it exists, "
                              "else the built-in free/starter/pro).")
    # Stripe secrets come from the environment only: a flag would show them in `ps` to every user.
    stripe_secret_key: str = setting("", "Stripe secret API key; without it billing is off (no limits "
                                     "unless a plan is set by hand with `modelpilot set-plan`).", flag=False)
    stripe_webhook_secret: str = setting("", "Signing secret of the Stripe webhook endpoint (whsec_...).",
                                         flag=False)
    stripe_prices: tuple = setting((), "Stripe price ids per plan, e.g. starter=price_123,pro=price_456 "
                                   "(overrides stripe_price_id in the plans file).", _price_map)
    stripe_api_base: str = setting("https://api.stripe.com", "Base URL of the Stripe API "
                                   "(point it at a stand-in for tests).", _url_or_empty)

    smtp_host: str = setting("", "SMTP server for e-mail (password resets, invitations); empty: no e-mail "
                             "is sent and links are shown or printed instead.")
    smtp_port: int = setting(587, "Port of the SMTP server (587 for STARTTLS, 465 for TLS).", _port)
    smtp_username: str = setting("", "SMTP user name, if the server wants a login.")
    # Like the Stripe secrets: environment only, never a flag that `ps` would show.
    smtp_password: str = setting("", "SMTP password.", flag=False)
    smtp_from: str = setting("", "Sender address of e-mails, e.g. 'ModelPilot <noreply@example.com>' "
                             "(default noreply@ the public URL's host).")
    smtp_security: str = setting("starttls", "SMTP transport security: starttls (required, not optional), "
                                 "tls (implicit, port 465) or none (a relay on this machine only).", _smtp_security)
    smtp_timeout_seconds: float = setting(20.0, "Seconds allowed for connecting to and talking with the "
                                          "SMTP server.", _positive_float)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "modelpilot.db"

    @property
    def backend(self) -> str:
        return "postgres" if self.database_url else "sqlite"

    @property
    def node_name(self) -> str:
        return self.node_id or f"{socket.gethostname()}-{os.getpid()}"

    @property
    def backups_path(self) -> Path:
        return Path(self.backup_dir).expanduser() if self.backup_dir else self.data_dir / "backups"

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url
        host = "127.0.0.1" if self.host in {"0.0.0.0", "::"} else self.host
        return f"http://{host}:{self.port}"

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host.strip())

    @property
    def mail_from(self) -> str:
        if self.smtp_from.strip():
            return self.smtp_from.strip()
        host = urlsplit(self.base_url).hostname or "localhost"
        return f"ModelPilot <noreply@{host}>"

    @property
    def providers_may_reach_private(self) -> bool:
        """provider_allow_private as set, else true unless open signup lets strangers be admins."""
        if self.provider_allow_private is None:
            return not self.open_signup
        return self.provider_allow_private

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")


def _parse(name: str, raw: str) -> Any:
    spec = {f.name: f for f in fields(Settings)}[name]
    try:
        return spec.metadata["parse"](raw)
    except (ValueError, TypeError) as exc:
        env = ENV_PREFIX + name.upper()
        raise SettingsError(f"{env} / --{name.replace('_', '-')}: invalid value {raw!r} ({exc})") from None


def load_settings(env: Mapping[str, str] | None = None, overrides: Mapping[str, str | None] | None = None) -> Settings:
    """Defaults, then MODELPILOT_* variables, then CLI flags (raw strings) win."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for spec in fields(Settings):
        raw = env.get(ENV_PREFIX + spec.name.upper())
        if overrides and overrides.get(spec.name) is not None:
            raw = overrides[spec.name]
        if raw is not None:
            values[spec.name] = _parse(spec.name, str(raw))
    settings = Settings(**values)
    return replace(settings, data_dir=Path(settings.data_dir).expanduser().resolve())


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """One --flag per setting, on the main parser and on each command."""
    group = parser.add_argument_group("settings (each also MODELPILOT_<NAME>)")
    for spec in fields(Settings):
        if not spec.metadata.get("flag", True):
            continue
        default = spec.default
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        group.add_argument(
            f"--{spec.name.replace('_', '-')}",
            dest=spec.name,
            metavar=spec.name.upper(),
            default=argparse.SUPPRESS,  # absent flags leave the environment's value alone
            help=f"{spec.metadata['help']} [env {ENV_PREFIX}{spec.name.upper()}; default {shown!s}]",
        )


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {spec.name: getattr(args, spec.name, None) for spec in fields(Settings)}
    return load_settings(overrides=overrides)
