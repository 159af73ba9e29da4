"""Deleting a workspace leaves nothing of it: every table is searched (SQLite: sqlite_master;
Postgres: every base table of the public schema, from information_schema).

The workspace is filled through the API with everything a tenant can own, each piece carrying a
marker word; after the delete, no row of any table (ordinary, virtual or shadow: FTS5 and
sqlite-vec keep their data in shadow tables; on Postgres the vectors, tsvectors and byte columns
as text) may hold the marker, one of the workspace's ids or one of its vectors.
"""

from __future__ import annotations


from modelpilot.core.database import connect_sync_for
from tests.pg_support import BACKEND
from tests.support import Api, eventually

MARKER = "zqxdoomedmarker"


def leftovers(settings, needles: set[str], blobs: list = ()) -> list[str]:
    """'table: value' for every cell of every table that contains one of the needles."""
    conn = connect_sync_for(settings, readonly=True)
    try:
        if BACKEND == "postgres":
            return _postgres_leftovers(conn, needles | {str(b) for b in blobs})
        return _sqlite_leftovers(conn, needles, blobs)
    finally:
        conn.close()


def _sqlite_leftovers(conn, needles: set[str], blobs: list[bytes]) -> list[str]:
    found = []
    byte_needles = {n.encode() for n in needles} | set(blobs)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        try:
            rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
        except Exception as exc:  # a virtual table that cannot be scanned whole must say so
            found.append(f"{table}: cannot be scanned ({exc})")
            continue
        for row in rows:
            for cell in tuple(row):
                if isinstance(cell, str) and any(n in cell for n in needles):
                    found.append(f"{table}: {cell[:120]}")
                elif isinstance(cell, bytes) and any(n in cell for n in byte_needles):
                    found.append(f"{table}: <blob holding an id or the marker>")
    return found


def _postgres_leftovers(conn, needles: set[str]) -> list[str]:
    """Every base table of the public schema, each row as its JSON text: tsvectors and pgvector
    vectors as their text forms, byte columns as hex (so the needles are looked for in hex too)."""
    found = []
    needles = needles | {n.encode().hex() for n in needles if not n.startswith("[")}
    tables = [r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables"
                                         " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")]
    assert "chunk_vectors" in tables and "messages" in tables
    for table in tables:
        for (row,) in conn.execute(f'SELECT row_to_json(t)::text FROM "{table}" AS t').fetchall():
            if any(n in row for n in needles):
                found.append(f"{table}: {_first_hit(row, needles)}")
    return found


def _first_hit(row: str, needles: set[str]) -> str:
    """The one value the tests allow (the audit record's target id) is reported as it is."""
    hits = [n for n in needles if n in row]
    if '"action":"workspace.deleted"' in row and len(hits) == 1:
        return hits[0]
    return row[:120]


def fill_workspace(owner: Api, ws: str, marker: str, fake_llm_url: str) -> set[str]:
    """Everything a tenant can own, created through the API; returns the ids created."""
    ids = {ws}
    invitation = owner.ok("POST", f"/api/v1/workspaces/{ws}/invitations",
                          json={"email": f"{marker}@example.com", "role": "viewer"})
    ids.add(invitation["id"])
    token = owner.ok("POST", f"/api/v1/workspaces/{ws}/api-tokens", json={"name": marker, "role": "admin"})
    ids.add(token["id"])
    owner.ok("PATCH", f"/api/v1/workspaces/{ws}", json={"name": f"{marker} ws", "settings": {"retention_days": 30}})
    owner.add_provider(ws, "openai", api_key=f"sk-{marker}-0123456789", api_base=fake_llm_url)
    mcp = owner.ok("POST", f"/api/v1/workspaces/{ws}/mcp-servers", 201, json={
        "name": f"{marker} tools", "url": f"https://{marker}.example.com/mcp", "headers": {"X-Key": marker}})
    ids.add(mcp["id"])
    bot = owner.create_bot(ws, name=f"{marker} bot", system_prompt=marker, published=True)
    ids.add(bot["id"])
    ids |= add_documents(owner, ws, bot["id"], marker)
    done = owner.chat(ws, bot["id"], f"Tell me about {marker}", session_id=f"{marker}-session")[-1]
    assert done.get("done"), done
    ids |= {done["conversation_id"], done["message_id"]}
    return ids


def add_documents(owner: Api, ws: str, bot_id: str, marker: str) -> set[str]:
    docs = f"/api/v1/workspaces/{ws}/chatbots/{bot_id}/documents"
    doc = owner.ok("POST", docs + "/text", 202, json={"title": f"{marker} doc", "text": f"The {marker} opens at nine."})
    faq = owner.ok("POST", docs + "/faq", 202, json={"items": [{"question": f"{marker}?", "answer": "Yes."}]})
    for document in (doc, faq):
        wait_indexed(owner, f"{docs}/{document['id']}")
    return {doc["id"], faq["id"]}


def wait_indexed(owner: Api, path: str) -> None:
    eventually(lambda: owner.ok("GET", path), lambda doc: doc["status"] == "indexed", timeout=90, interval=0.1,
               what="indexing")


def vector_bytes(settings, bot_ids: set[str]) -> list:
    """Those bots' vectors (SQLite: raw float32 bytes; Postgres: pgvector's text form), to look for
    them in every cell afterwards."""
    conn = connect_sync_for(settings, readonly=True)
    try:
        return [row[0] for bot in bot_ids for row in conn.execute(
            "SELECT v.embedding FROM chunk_vectors v JOIN chunks c ON c.rowid = v.rowid WHERE c.chatbot_id = ?",
            (bot,))]
    finally:
        conn.close()


def vector_count(settings, bot_ids: set[str]) -> int:
    conn = connect_sync_for(settings, readonly=True)
    try:
        return sum(conn.execute("SELECT COUNT(*) FROM chunk_vectors WHERE chatbot_id = ?", (bot,)).fetchone()[0]
                   for bot in bot_ids)
    finally:
        conn.close()


def deletion_records(settings, workspace_id: str) -> int:
    conn = connect_sync_for(settings, readonly=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'workspace.deleted' AND target_id = ?",
                            (workspace_id,)).fetchone()[0]
    finally:
        conn.close()


def test_deleting_a_workspace_leaves_none_of_its_rows(server, owner, fake_llm) -> None:
    keep = owner.ws
    doomed = owner.ok("POST", "/api/v1/workspaces", json={"name": "Doomed"})["id"]
    ids = fill_workspace(owner, doomed, MARKER, fake_llm.url)
    fill_workspace(owner, keep, "keepmarker", fake_llm.url)  # the same kinds of rows in a neighbour, which must survive
    db_path = server.settings
    assert leftovers(db_path, ids | {MARKER}), "the scan must see the rows before the delete"
    assert vector_count(db_path, ids) > 0
    vectors = vector_bytes(db_path, ids)
    assert vectors and leftovers(db_path, set(), vectors)

    owner.ok("DELETE", f"/api/v1/workspaces/{doomed}", status=204)

    # The one trace kept on purpose: the audit record that the workspace was deleted (no content).
    assert deletion_records(db_path, doomed) == 1
    remaining = [hit for hit in leftovers(db_path, ids | {MARKER}, vectors) if hit != f"audit_log: {doomed}"]
    assert not remaining, "rows of the deleted workspace are left:\n" + "\n".join(remaining[:40])
    assert vector_count(db_path, ids) == 0
    assert owner.get(f"/api/v1/workspaces/{keep}").status_code == 200
    assert leftovers(db_path, {keep, "keepmarker"}), "the neighbour's rows must still be there"
