"""The rules of DESIGN.md / ARCHITECTURE.md, checked against the source on every run.

Each allowlist entry names a known exception and why it is one; a new exception needs a line
here and a reason a reviewer can accept. Entries that no longer match fail too, so the lists
only shrink.
"""

from __future__ import annotations

import ast

import pytest

from tests.architecture import codemap

MODULES = codemap.modules()
KERNEL = {"core", "settings", "paths", "modelpilot"}  # what core may import

# Third-party libraries that belong to exactly one domain.
OWNED_LIBRARIES = {"litellm": {"providers"}, "fastembed": {"rag"}, "onnxruntime": {"rag"}, "stripe": {"billing"}}

# Module-level cycles (lazy imports count) that are known and tolerated, with the reason.
CYCLE_ALLOWLIST: dict[tuple[str, ...], str] = {}

# Modules outside repos that hold SQL, and why.
SQL_ALLOWLIST = {
    "modelpilot.core.db": "the database kernel: connection pragmas and the writer's transactions",
    "modelpilot.core.pg": "the Postgres kernel: the writer's transaction and its fleet-wide lock",
    "modelpilot.core.migrate": "applies the plain-SQL migrations and keeps schema_version",
    "modelpilot.core.audit": "the audit log is a kernel table every domain writes through this one function",
    "modelpilot.core.fulltext": "FTS5 segment merges after bulk deletes, for every FTS table",
    "modelpilot.scheduler.jobs": "the durable job queue is the scheduler's own table (its repo in all but name)",
    "modelpilot.ops.backup": "integrity_check of a backup copy, a file that is not the live database",
    "modelpilot.app": "/healthz runs SELECT 1 to prove the database answers",
    "modelpilot.core.events": "LISTEN/NOTIFY (pg_notify) are the live-event bus's transport, not data",
}

# Repo functions whose second parameter is not workspace_id, and why that is safe.
NO_WORKSPACE_ALLOWLIST = {
    "modelpilot.auth.repo": "users and sessions belong to the instance, not to a workspace",
    "modelpilot.auth.account_repo": "a user's own account (name, password, resets): the instance's, not a workspace's",
    "modelpilot.workspaces.repo.count_workspaces_created_by": "the per-user workspace limit spans workspaces",
    "modelpilot.billing.repo.workspace_of_customer": "Stripe webhooks name a customer; this finds its workspace",
    "modelpilot.billing.repo.record_event": "Stripe event ids are global; recorded once per event",
    "modelpilot.billing.repo.finish_event": "Stripe event ids are global",
    "modelpilot.workspaces.repo.find_workspaces": "the instance owner's CLI looks a workspace up by id or name",
    "modelpilot.chatbots.repo.workspace_of_bot_sync": "the public widget names only a bot; this finds its workspace",
    "modelpilot.knowledge.repo.due_refreshes": "the scheduler scans every workspace for due re-crawls",
    "modelpilot.knowledge.repo.all_document_keys": "start-up re-indexing scans every workspace",
    "modelpilot.knowledge.repo.unfinished_without_job": "crash recovery scans every workspace",
    "modelpilot.rag.store.recreate_vector_table": "rebuilds the one vector table of the instance (model change)",
    "modelpilot.rag.store.embedding_index": "which model made the instance's vectors: one row for the instance",
    "modelpilot.rag.store.set_embedding_index": "as embedding_index",
    "modelpilot.rag.store.delete_all_chunks": "a model change re-embeds every workspace's documents",
    "modelpilot.rag.store.vector_knn": "called with a chatbot id its caller resolved inside the workspace; vec0 "
                                       "partitions by chatbot and holds no workspace column",
    "modelpilot.rag.store.keyword_query": "builds an FTS query string; runs nothing",
    "modelpilot.rag.store.keyword_search": "as vector_knn: a chatbot id already resolved inside the workspace",
    "modelpilot.rag.store.similarities": "rescoring rowids that came from a workspace-filtered search",
    "modelpilot.workspaces.repo.retention_policies": "the retention job visits every workspace",
    "modelpilot.workspaces.repo.workspaces_of_user": "a user's memberships span workspaces",
    "modelpilot.workspaces.repo.find_invitation_by_hash": "an invitation link is found by its secret token",
    "modelpilot.ops.repo.postgres_database_bytes": "the size of the whole instance's database, for /metrics",
    "modelpilot.workspaces.repo.find_api_token_by_hash": "an API token is found by its secret, then gives the workspace",
    "modelpilot.core.counters_repo": "throttle counters (rate_hits) are keyed by address or session, not by workspace",
    "modelpilot.ops.copy_repo": "copy-db moves the whole instance, every workspace's rows alike",
    "modelpilot.providers.repo.all_sealed_keys_sync": "rotating the secret key re-seals every workspace's keys",
    "modelpilot.providers.repo.sample_sealed_key_sync": "start-up checks the key ring against any one sealed key",
    "modelpilot.scheduler.runs_repo": "a housekeeping slot is claimed once for the whole fleet",
    "modelpilot.webhooks.repo.all_sealed_secrets_sync": "rotating the secret key re-seals every workspace's "
                                                        "endpoint secrets",
    "modelpilot.actions.repo.all_sealed_headers_sync": "rotating the secret key re-seals every workspace's "
                                                       "action headers",
    "modelpilot.chatbots.repo.all_sealed_identity_secrets_sync": "rotating the secret key re-seals every "
                                                                 "workspace's bot identity secrets",
    "modelpilot.webhooks.repo.prune_settled_sync": "housekeeping prunes settled deliveries across every workspace",
    "modelpilot.chatbots.repo.models_in_use": "start-up asks whether any bot of the instance needs LiteLLM",
    "modelpilot.mcpservers.repo.all_sealed_headers_sync": "rotating the secret key re-seals every workspace's "
                                                          "MCP server headers",
    "modelpilot.chat.handoff_repo.waiting_unnotified": "the waiting-mail job scans every workspace; each row's "
                                                       "workspace scopes the claim and the recipients after it",
}

# Module-level calls that run when a module is imported, and why that is not a hidden registration.
IMPORT_CALL_ALLOWLIST = {
    "modelpilot.core.metrics": "prometheus_client.disable_created_metrics(): a library switch, registers nothing of ours",
    "modelpilot.knowledge.extract_pdf": "quiets pypdf's logger (it warns on every malformed PDF)",
}
# The clients behind providers.stream.open_stream(): no other domain reaches them (litellm itself
# is OWNED_LIBRARIES'). app.py, the composition root, closes the shared HTTP client at shutdown.
PROVIDER_CLIENTS = {"direct", "extractive", "sse_decoder"}
PROVIDER_CLIENT_ALLOWLIST = {
    ("modelpilot.app", "direct"): "the composition root closes the shared HTTP client at shutdown",
}


def _domain_of(import_name: str) -> str | None:
    parts = import_name.split(".")
    return parts[1] if parts[0] == "modelpilot" and len(parts) > 1 else None


def test_no_package_depends_on_itself_through_others():
    graph: dict[str, set[str]] = {}
    for name, targets in codemap.internal_edges().items():
        source = MODULES[name].domain
        graph.setdefault(source, set()).update(MODULES[t].domain for t in targets if MODULES[t].domain != source)
    assert codemap.cycles(graph) == [], "package cycle (lazy imports count)"


def test_no_module_cycles_beyond_the_allowlist():
    found = {tuple(cycle) for cycle in codemap.cycles(codemap.internal_edges())}
    assert found - set(CYCLE_ALLOWLIST) == set(), "new import cycle"
    assert set(CYCLE_ALLOWLIST) - found == set(), "allowlisted cycle is gone: drop it from the list"


def test_core_imports_no_domain():
    bad = [(m.name, name, line) for m in MODULES.values() if m.domain == "core"
           for name, line in m.imports if _domain_of(name) and _domain_of(name) not in KERNEL]
    assert bad == []


def test_libraries_stay_in_their_domain():
    bad = [(m.name, name, line) for m in MODULES.values() for name, line in m.imports
           if name.split(".")[0] in OWNED_LIBRARIES and m.domain not in OWNED_LIBRARIES[name.split(".")[0]]]
    assert bad == []


def test_layers_point_one_way():
    """routes -> service -> repo; a domain reaches another domain's data only through its service."""
    bad = []
    for module in MODULES.values():
        for name, line in module.imports:
            parts = name.split(".")
            if parts[0] != "modelpilot" or len(parts) < 3:
                continue
            is_repo = parts[2] == "repo" or parts[2].endswith("_repo")
            if is_repo and parts[1] != module.domain:
                bad.append((module.name, name, line, "another domain's repo"))
            if module.leaf.endswith("routes") and is_repo:
                bad.append((module.name, name, line, "a route reaching a repo"))
            if _is_sql_home(module) and parts[2] in ("service", "routes"):
                bad.append((module.name, name, line, "a repo reaching up"))
    assert bad == []


def _is_sql_home(module: codemap.Module) -> bool:
    return module.leaf == "repo" or module.leaf.endswith("_repo") or module.name == "modelpilot.rag.store"


def test_sql_lives_in_repos():
    holders = {m.name for m in MODULES.values() if not _is_sql_home(m) and codemap.sql_strings(m)}
    unexpected = {name: codemap.sql_strings(MODULES[name])[:3] for name in holders - set(SQL_ALLOWLIST)}
    assert unexpected == {}, "SQL outside a repo: move it into the domain's repo.py"
    assert set(SQL_ALLOWLIST) - holders == set(), "allowlisted module holds no SQL any more: drop it from the list"


def _repo_functions():
    """Public functions of repo modules: async ones, and the blocking *_sync ones run_write calls."""
    for module in MODULES.values():
        if not _is_sql_home(module):
            continue
        for node in module.tree.body:
            if isinstance(node, (ast.AsyncFunctionDef, ast.FunctionDef)) and not node.name.startswith("_"):
                yield module, node


def _missing_workspace(functions) -> set[str]:
    missing = set()
    for module, node in functions:
        params = [a.arg for a in node.args.args]
        if params and params[0] in ("conn", "db") and params[1:2] != ["workspace_id"]:
            missing.add(f"{module.name}.{node.name}")
    return missing


def test_repo_functions_take_the_workspace_after_the_connection():
    missing = _missing_workspace(_repo_functions())
    allowed = {name for name in missing if name in NO_WORKSPACE_ALLOWLIST
               or name.rsplit(".", 1)[0] in NO_WORKSPACE_ALLOWLIST}
    assert missing - allowed == set(), "repo function without workspace_id: add it, or allowlist it with a reason"
    stale = {entry for entry in NO_WORKSPACE_ALLOWLIST
             if entry not in missing and not any(name.startswith(entry + ".") for name in missing)}
    assert stale == set(), "allowlisted function takes workspace_id now (or is gone): drop it from the list"


def test_repos_import_only_the_kernel_and_their_own_domain():
    """DESIGN.md: routes -> service -> repo -> core. A repo that imports another domain (even its
    entities) would tie that domain's schema to this one's."""
    bad = _repo_imports_beyond_core(MODULES.values())
    assert bad == []


def _repo_imports_beyond_core(modules) -> list:
    return [(m.name, name, line) for m in modules if _is_sql_home(m) for name, line in m.imports
            if _domain_of(name) and _domain_of(name) not in KERNEL | {m.domain}]


def _import_time_calls(module: codemap.Module) -> list[tuple[int, str]]:
    """Calls made by importing the module: top-level call statements, and decorators taken from
    another project module (how a hook would register itself). `if __name__ == "__main__"` is not import."""
    imported = set()  # the local names that project imports bind
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("modelpilot"):
            imported.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            imported.update(alias.asname or alias.name.split(".")[0] for alias in node.names
                            if alias.name.startswith("modelpilot"))
    found = []

    def visit(body):
        for node in body:
            if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                found.append((node.lineno, ast.unparse(node.value)[:60]))
            for decorator in getattr(node, "decorator_list", []):
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                root = target
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Name) and root.id in imported:
                    found.append((node.lineno, "@" + ast.unparse(target)))
            for block in ("body", "orelse", "finalbody"):
                if isinstance(node, (ast.If, ast.Try, ast.With)):
                    visit(getattr(node, block, []))
    visit(module.tree.body)
    return found


def test_nothing_registers_itself_by_being_imported():
    """Hooks are wired in app.py, in order, never by importing a module (issue 15, item 2)."""
    calls = {m.name: _import_time_calls(m) for m in MODULES.values() if _import_time_calls(m)}
    assert set(calls) - set(IMPORT_CALL_ALLOWLIST) == set(), calls
    assert set(IMPORT_CALL_ALLOWLIST) - set(calls) == set(), "allowlisted module calls nothing at import any more"


def _provider_internals_used(modules) -> set[tuple[str, str]]:
    used = set()
    for module in modules:
        if module.domain == "providers":
            continue
        for name, _ in module.imports:
            parts = name.split(".")
            if parts[:2] == ["modelpilot", "providers"] and len(parts) > 2 and parts[2] in PROVIDER_CLIENTS:
                used.add((module.name, parts[2]))
    return used


def test_answers_stream_through_the_one_provider_entry_point():
    """Chat (and whatever comes next: tools, actions) asks providers.stream.open_stream(); the
    clients behind it are providers' own (issue 15, item 5)."""
    used = _provider_internals_used(MODULES.values())
    assert used - set(PROVIDER_CLIENT_ALLOWLIST) == set()
    assert set(PROVIDER_CLIENT_ALLOWLIST) - used == set(), "allowlisted import is gone: drop it from the list"


@pytest.mark.parametrize("rule", ["cycle", "sql", "layer", "workspace", "repo-imports", "import-calls", "provider"])
def test_the_checks_catch_what_they_claim(rule):
    """Each check fails on a planted violation, so a passing run means something."""
    if rule == "cycle":
        assert codemap.cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    elif rule == "sql":
        planted = codemap.Module("modelpilot.chat.service", MODULES["modelpilot.chat.service"].path,
                                 ast.parse('q = f"SELECT id FROM messages WHERE workspace_id = ? AND x = {y}"'))
        assert codemap.sql_strings(planted) and not codemap.sql_strings(
            codemap.Module("m", planted.path, ast.parse('"""Select a plan; delete it from the list."""')))
    elif rule == "layer":
        planted = codemap.Module("modelpilot.chat.routes", MODULES["modelpilot.chat.routes"].path, ast.parse(
            "from modelpilot.knowledge import repo"))
        assert codemap._imports(planted) == [("modelpilot.knowledge", 1), ("modelpilot.knowledge.repo", 1)]
    elif rule == "workspace":
        planted = _planted("modelpilot.chat.repo", "async def messages_of(conn, conversation_id): ...\n"
                                                   "def save_sync(conn, row): ...\n"
                                                   "async def fine(conn, workspace_id, x): ...")
        assert _missing_workspace(_repo_functions_of(planted)) == {"modelpilot.chat.repo.messages_of",
                                                                  "modelpilot.chat.repo.save_sync"}
    elif rule == "repo-imports":
        planted = _planted("modelpilot.chat.repo", "from modelpilot.chatbots.entities import Bot\n"
                                                   "from modelpilot.chat.entities import Message\n"
                                                   "from modelpilot.core.db import Connection")
        assert [name for _, name, _ in _repo_imports_beyond_core([planted])] == [
            "modelpilot.chatbots.entities", "modelpilot.chatbots.entities.Bot"]
    elif rule == "import-calls":
        planted = _planted("modelpilot.knowledge.service", "from modelpilot.workspaces import service as ws\n"
                                                           "ws.on_workspace_delete(purge)\n"
                                                           "@ws.on_workspace_delete\nasync def purge(conn, w): ...\n"
                                                           "@dataclass\nclass A: ...\n"
                                                           "if __name__ == '__main__':\n    main()")
        assert [text for _, text in _import_time_calls(planted)] == ["ws.on_workspace_delete(purge)",
                                                                     "@ws.on_workspace_delete"]
    else:
        planted = _planted("modelpilot.chat.turns", "from modelpilot.providers.direct import stream_direct\n"
                                                    "from modelpilot.providers.stream import open_stream")
        assert _provider_internals_used([planted]) == {("modelpilot.chat.turns", "direct")}


def _planted(name: str, source: str) -> codemap.Module:
    module = codemap.Module(name, MODULES[name].path, ast.parse(source))
    module.imports = codemap._imports(module)
    return module


def _repo_functions_of(module: codemap.Module):
    for node in module.tree.body:
        if isinstance(node, (ast.AsyncFunctionDef, ast.FunctionDef)) and not node.name.startswith("_"):
            yield module, node


# Which domain owns each table: only that domain's repo (or rag/store.py for rag) names it.
TABLE_OWNERS = {
    "users": "auth", "sessions": "auth", "password_resets": "auth",
    "workspaces": "workspaces", "memberships": "workspaces", "invitations": "workspaces",
    "api_tokens": "workspaces",
    "providers": "providers", "chatbots": "chatbots",
    "conversations": "chat", "messages": "chat", "messages_fts": "chat", "usage_events": "chat",
    "conversation_events": "chat", "saved_replies": "chat",
    "documents": "knowledge", "document_pages": "knowledge",
    "chunks": "rag", "chunk_fts": "rag", "chunk_vectors": "rag", "embedding_index": "rag",
    "vector_generations": "rag", "workspace_embeddings": "rag",
    "message_reservations": "billing", "billing_accounts": "billing", "stripe_events": "billing",
    "widget_daily_usage": "widget",
    "webhook_endpoints": "webhooks", "webhook_deliveries": "webhooks", "webhook_attempts": "webhooks",
    "actions": "actions", "tool_calls": "chat", "tool_confirmations": "chat",
    "mcp_servers": "mcpservers",
    "contacts": "contacts", "contact_sessions": "contacts",
    "eval_sets": "evals", "eval_runs": "evals",
}
# (repo module, table): why that repo may name another domain's table.
FOREIGN_TABLE_ALLOWLIST = {
    ("modelpilot.billing.repo", "usage_events"): "the usage ledger chat writes in each turn's transaction is "
                                                 "what the monthly quota counts",
    ("modelpilot.analytics.repo", "messages"): "analytics is a read model: it aggregates chat's rows in SQL",
    ("modelpilot.analytics.repo", "chatbots"): "display join: the bot's name beside its figures",
    ("modelpilot.analytics.repo", "conversation_events"): "analytics is a read model: handoff requests per day/bot",
    ("modelpilot.analytics.repo", "conversations"): "analytics is a read model: time to the first human reply",
    ("modelpilot.analytics.repo", "tool_calls"): "analytics is a read model: calls and failures per tool",
    ("modelpilot.chat.log_repo", "chatbots"): "display join: the bot's name beside each conversation",
    ("modelpilot.chat.repo", "chatbots"): "display join: the bot's name beside each conversation",
    ("modelpilot.chat.handoff_repo", "chatbots"): "display join: the bot's name beside each inbox row",
    ("modelpilot.chat.repo", "contacts"): "display join: the contact's name and e-mail beside each conversation",
    ("modelpilot.chat.handoff_repo", "contacts"): "display join: the contact's name and e-mail on an inbox row",
    ("modelpilot.chat.handoff_repo", "users"): "display join: the assignee's name (or e-mail) on a conversation",
    ("modelpilot.rag.store", "documents"): "display join: a citation's document title and source",
    ("modelpilot.workspaces.repo", "users"): "display join: a member's name and email in the member list",
}


def test_repos_name_only_their_own_domains_tables():
    """A domain reaches another domain's rows through its service, never through SQL of its own."""
    crossing = set()
    for module in MODULES.values():
        if not _is_sql_home(module):
            continue
        for table in codemap.tables_named(module):
            owner = TABLE_OWNERS.get(table)
            if owner is not None and owner != module.domain:
                crossing.add((module.name, table))
    unexpected = sorted(crossing - set(FOREIGN_TABLE_ALLOWLIST))
    assert unexpected == [], "a repo naming another domain's table: ask that domain's service instead"
    assert set(FOREIGN_TABLE_ALLOWLIST) - crossing == set(), "allowlisted crossing is gone: drop it from the list"
