"""`modelpilot serve|migrate|create-admin|...` — the command line, from source and from the binary."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import socket
import sys
from dataclasses import replace
from typing import Callable

from modelpilot import __version__
from modelpilot.settings import Settings, SettingsError, add_setting_flags, settings_from_args

COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable]] = {}


def command(name: str, help: str, configure: Callable[[argparse.ArgumentParser], None] = lambda p: None):
    def register(func: Callable) -> Callable:
        COMMANDS[name] = (help, configure, func)
        return func

    return register


def _bind(settings: Settings) -> tuple[socket.socket, Settings]:
    """Bind the listening socket ourselves so that port 0 becomes a known, printed port."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock, replace(settings, port=sock.getsockname()[1])


@command("serve", "Start the server (the default when no command is given).")
def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from modelpilot.app import create_app
    from modelpilot.billing.plans import PlansError, load_catalog
    from modelpilot.core.http_server import uvicorn_config
    from modelpilot.core.instance import running_pid
    from modelpilot.core.logs import configure_logging
    from modelpilot.core.memory import freeze_heap, limit_malloc_arenas
    from modelpilot.providers.keys import KeyRingMismatch, check_key_ring

    limit_malloc_arenas()  # before the server's thread pools start
    pid = running_pid(settings.data_dir)
    if pid is not None:
        print(f"modelpilot: another server (pid {pid or '?'}) is already using {settings.data_dir}", file=sys.stderr)
        return 1
    try:
        load_catalog(settings)
    except PlansError as exc:
        print(f"modelpilot: plans: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    try:
        sock, settings = _bind(settings)
    except OSError as exc:
        print(f"modelpilot: cannot listen on {settings.host}:{settings.port}: {exc.strerror}", file=sys.stderr)
        return 1
    waiting = _setup_waiting(settings)
    try:
        check_key_ring(settings)
    except KeyRingMismatch as exc:
        print(f"modelpilot: {exc}", file=sys.stderr)
        return 1
    app = create_app(settings)
    config = uvicorn_config(app, settings)
    freeze_heap()  # every module and the app live as long as the server: collections skip them
    print(f"ModelPilot {__version__} on {settings.base_url}  (data in {settings.data_dir})", flush=True)
    if waiting:
        # The token is this run's: whoever else reaches the port first cannot claim the instance.
        token = app.state["setup_token"]
        print(f"First start: open {settings.base_url}/#/setup?token={token} in your browser to create the "
              "admin account (the token is needed unless the browser runs on this machine).", flush=True)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def _setup_waiting(settings: Settings) -> bool:
    from modelpilot.auth.service import instance_has_users_sync
    from modelpilot.core.migrate import migrate_database

    migrate_database(settings)
    return not instance_has_users_sync(settings)


@command("migrate", "Apply database migrations and exit.")
def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from modelpilot.core.migrate import migrate_database

    applied = migrate_database(settings)
    print("applied: " + ", ".join(applied) if applied else "database is up to date")
    return 0


def _configure_create_admin(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--email", required=True, help="the admin's email (login name)")
    parser.add_argument("--name", default="", help="display name (default: the email's local part)")
    parser.add_argument("--workspace-name", default="My workspace", help="name of the first workspace")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from standard input instead of prompting "
                             "(or set MODELPILOT_ADMIN_PASSWORD)")


@command("create-admin", "Create the instance owner and a first workspace (headless installs).",
         _configure_create_admin)
def cmd_create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from modelpilot.auth.service import create_owner_headless
    from modelpilot.core.errors import ApiError

    password = os.environ.get("MODELPILOT_ADMIN_PASSWORD", "")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not password:
        password = getpass.getpass("Password for the new admin: ")
    try:
        user = asyncio.run(create_owner_headless(settings, args.email, args.name, password, args.workspace_name))
    except ApiError as exc:
        print(f"modelpilot: {exc.message}", file=sys.stderr)
        return 1
    print(f"created admin {user['email']} with workspace {args.workspace_name!r}")
    return 0


def _configure_reset_password(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("email", help="the account's email (login name)")


@command("reset-password", "Print a one-time link that lets a user choose a new password (works "
         "without e-mail; the link expires in an hour).", _configure_reset_password)
def cmd_reset_password(settings: Settings, args: argparse.Namespace) -> int:
    from modelpilot.auth.reset import issue_link
    from modelpilot.core.database import open_database
    from modelpilot.core.migrate import migrate_database

    async def run() -> dict | None:
        migrate_database(settings)
        db = open_database(settings, readers=1)
        await db.open()
        try:
            return await issue_link(db, settings, args.email)
        finally:
            await db.close()

    link = asyncio.run(run())
    if link is None:
        print(f"modelpilot: no account with the email {args.email!r}", file=sys.stderr)
        return 1
    print(f"Password reset link for {link['email']} (works once, until {link['expires_at']}):")
    print(link["url"])
    if not settings.public_url:
        print("(set MODELPILOT_PUBLIC_URL if users reach the server under another address)", file=sys.stderr)
    return 0


def _configure_backup(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=None,
                        help="backup file (e.g. /backups/mp.db) or directory for a dated file "
                             "(default: DATA_DIR/backups or BACKUP_DIR)")


# On Postgres the database is the server's to back up, and it does that better than a copy could.
POSTGRES_BACKUPS = ("the database is on Postgres (MODELPILOT_DATABASE_URL), whose backups are Postgres's own: "
                    "pg_dump / pg_restore, or the managed service's snapshots and point-in-time recovery. "
                    "Keep MODELPILOT_SECRET_KEY with them, or the provider keys in them cannot be opened.")


@command("backup", "Take a consistent snapshot of the database (safe while the server runs).", _configure_backup)
def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from modelpilot.ops.backup import BackupError, create_backup

    if settings.backend == "postgres":
        print(f"modelpilot: backup: {POSTGRES_BACKUPS}", file=sys.stderr)
        return 2
    target = Path(args.path).expanduser() if args.path else settings.backups_path
    try:
        result = create_backup(settings.db_path, settings.data_dir, target)
    except (BackupError, OSError) as exc:
        print(f"modelpilot: backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"backup: {result.db_file} ({result.size_bytes} bytes, {result.seconds:.1f}s)")
    print(f"checksums: {result.checksum_file}")
    if result.key_file:
        print(f"secret key: {result.key_file} (mode 0600; guard it like the database)")
    elif settings.secret_key:
        print("secret key: comes from MODELPILOT_SECRET_KEY; keep it with the backup or provider keys are lost")
    return 0


def _configure_restore(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="the backup's .db file (its .sha256 and .secret.key beside it)")


@command("restore", "Replace the database with a backup (the server must be stopped).", _configure_restore)
def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from modelpilot.ops.backup import BackupError
    from modelpilot.ops.restore import restore_backup

    if settings.backend == "postgres":
        print(f"modelpilot: restore: {POSTGRES_BACKUPS}", file=sys.stderr)
        return 2
    try:
        result = restore_backup(Path(args.path).expanduser(), settings.db_path, settings.data_dir)
    except (BackupError, OSError) as exc:
        print(f"modelpilot: restore failed: {exc}", file=sys.stderr)
        return 1
    for path in result.moved_aside:
        print(f"moved aside: {path}")
    print(f"restored {args.path} to {result.db_path}; secret key {'restored' if result.key_restored else 'unchanged'}")
    print(f"integrity_check: {result.integrity}")
    return 0 if result.integrity == "ok" else 1


def _configure_copy_db(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", metavar="POSTGRES_URL",
                        help="the empty Postgres database to fill, postgresql://user:pass@host:5432/db "
                             "(shows in `ps`; --to-stdin keeps the password out of it)")
    target.add_argument("--to-stdin", action="store_true", help="read the target URL from standard input")


@command("copy-db", "Copy this instance's SQLite database into an empty Postgres database (stop the "
         "server first), then check it.", _configure_copy_db)
def cmd_copy_db(settings: Settings, args: argparse.Namespace) -> int:
    from modelpilot.core.instance import running_pid
    from modelpilot.core.pg import describe_url
    from modelpilot.ops.copy_db import CopyError, copy_database

    url = sys.stdin.readline().strip() if args.to_stdin else args.to.strip()
    if not url.startswith(("postgresql://", "postgres://")):
        print("modelpilot: copy-db: the target must be a postgresql://... URL", file=sys.stderr)
        return 2
    if settings.backend == "postgres":
        print("modelpilot: copy-db reads the SQLite database in the data directory; run it without "
              "MODELPILOT_DATABASE_URL (the target goes in --to)", file=sys.stderr)
        return 2
    pid = running_pid(settings.data_dir)
    if pid is not None:
        print(f"modelpilot: copy-db: a server (pid {pid or '?'}) is running on {settings.data_dir}; stop it "
              "first, or what it writes during the copy is lost", file=sys.stderr)
        return 1
    if not settings.db_path.exists():
        print(f"modelpilot: copy-db: no SQLite database at {settings.db_path}", file=sys.stderr)
        return 1
    print(f"copying {settings.db_path} to {describe_url(url)} ...", flush=True)
    try:
        report = copy_database(settings.db_path, url, progress=lambda line: print(line, flush=True))
    except CopyError as exc:
        print(f"modelpilot: copy-db: {exc}", file=sys.stderr)
        return 1
    print(f"copied {sum(n for _, n in report.counts)} rows in {len(report.counts)} tables (schema version "
          f"{report.schema_version}); row counts equal, {report.vectors_checked} sampled vector(s) identical")
    if settings.secret_key.strip():
        print("provider keys stay sealed with MODELPILOT_SECRET_KEY: give every node the same value")
    else:
        print(f"provider keys are sealed with {settings.data_dir / 'secret.key'}: set MODELPILOT_SECRET_KEY on "
              "every node to its contents (several lines: join them with commas)")
    return 0


def _configure_rotate_key(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--new-key-stdin", action="store_true",
                        help="read the new key (base64, 32 bytes) from standard input instead of generating one")


@command("rotate-key", "Seal every stored provider API key, webhook and identity secret, MCP server header and "
         "action header with a new secret key.",
         _configure_rotate_key)
def cmd_rotate_key(settings: Settings, args: argparse.Namespace) -> int:
    from modelpilot.core.crypto import CryptoError, decode_key
    from modelpilot.core.migrate import migrate_database
    from modelpilot.actions.service import reseal_headers_sync as reseal_action_headers_sync
    from modelpilot.chatbots.service import reseal_identity_secrets_sync
    from modelpilot.mcpservers.service import reseal_headers_sync
    from modelpilot.providers.keys import rotate_keys
    from modelpilot.webhooks.service import reseal_secrets_sync

    new_key = sys.stdin.readline().strip() if args.new_key_stdin else None
    try:
        if new_key:
            decode_key(new_key)
        migrate_database(settings)
        new_key, key_id, count = rotate_keys(settings, new_key, also=(
            reseal_secrets_sync, reseal_identity_secrets_sync, reseal_headers_sync, reseal_action_headers_sync))
    except CryptoError as exc:
        print(f"modelpilot: {exc}", file=sys.stderr)
        return 1
    print(f"re-sealed {count} provider key(s) and webhook secret(s) (bots' identity secrets included), MCP server "
          f"headers included, action headers included, with key {key_id}")
    if settings.secret_key.strip():
        print("MODELPILOT_SECRET_KEY is set: put the new key first in it (the old one may follow "
              "until every instance has restarted), then restart the server.")
        if not args.new_key_stdin:
            print(f"new key: {new_key}")
    else:
        print(f"the new key is in {settings.data_dir / 'secret.key'}; restart the server to use it.")
    return 0


def _configure_set_plan(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workspace", help="workspace id, or its exact name")
    parser.add_argument("plan", help="plan id from the plans file (free, starter, pro by default), "
                                     "or 'none' to remove the plan set by hand")


@command("set-plan", "Put a workspace on a plan by hand (limits apply even without Stripe).", _configure_set_plan)
def cmd_set_plan(settings: Settings, args: argparse.Namespace) -> int:
    from modelpilot.billing.checkout import check_plan_id, set_plan_by_hand
    from modelpilot.workspaces.service import find_workspace
    from modelpilot.billing.plans import PlansError
    from modelpilot.core.database import open_database
    from modelpilot.core.errors import ApiError
    from modelpilot.core.migrate import migrate_database

    async def run() -> dict:
        migrate_database(settings)
        db = open_database(settings, readers=1)
        await db.open()
        try:
            plan = None if args.plan == "none" else args.plan
            check_plan_id(settings, plan)
            workspace = await find_workspace(db, args.workspace)
            return await set_plan_by_hand(db, settings, workspace, plan)
        finally:
            await db.close()

    try:
        workspace = asyncio.run(run())
    except (ApiError, PlansError) as exc:
        print(f"modelpilot: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 1
    shown = "no plan set by hand" if args.plan == "none" else f"plan {args.plan!r}"
    print(f"workspace {workspace['name']!r} ({workspace['id']}) now has {shown}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modelpilot",
        description="ModelPilot: self-hosted AI chatbots in one executable. "
                    "Without a command, starts the server.",
    )
    parser.add_argument("--version", action="version", version=f"modelpilot {__version__}")
    add_setting_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, configure, _) in COMMANDS.items():
        child = sub.add_parser(name, help=help_text, description=help_text)
        add_setting_flags(child)
        configure(child)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
    except SettingsError as exc:
        print(f"modelpilot: {exc}", file=sys.stderr)
        return 2
    name = args.command or "serve"
    from modelpilot.core.pg import PostgresUnavailable

    try:
        return COMMANDS[name][2](settings, args)
    except PostgresUnavailable as exc:
        print(f"modelpilot: database: {exc}", file=sys.stderr)
        return 1
