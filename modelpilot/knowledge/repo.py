"""Document and page rows. Every query names its workspace."""

from __future__ import annotations

from modelpilot.core.db import Connection, execute, fetch_all, fetch_one, fetch_value
from modelpilot.core.ids import utc_now_iso
from modelpilot.knowledge.entities import Document

DOC_COLUMNS = ("id, workspace_id, chatbot_id, source_type, title, source, content_type, mode, max_pages,"
               " refresh_hours, size_bytes, status, progress, chunk_count, error, generation, embed_model,"
               " embed_dim, created_at, updated_at, indexed_at, next_refresh_at")


async def insert_document(conn: Connection, workspace_id: str, doc: dict) -> None:
    values = {"mode": None, "max_pages": None, "refresh_hours": None, "content_type": "", "source": "",
              "body": None, "size_bytes": 0, **doc, "workspace_id": workspace_id}
    names = ["id", "workspace_id", "chatbot_id", "source_type", "title", "source", "content_type", "mode",
             "max_pages", "refresh_hours", "body", "size_bytes", "created_at", "updated_at"]
    await execute(conn, f"INSERT INTO documents ({', '.join(names)}) VALUES ({','.join('?' * len(names))})",
                  [values[n] for n in names])


async def count_documents(conn: Connection, workspace_id: str) -> int:
    return int(await fetch_value(conn, "SELECT COUNT(*) FROM documents WHERE workspace_id = ?", (workspace_id,)))


async def get_document(conn: Connection, workspace_id: str, document_id: str, chatbot_id: str | None = None,
                       with_body: bool = False) -> Document | None:
    columns = DOC_COLUMNS + (", body" if with_body else "")
    sql = f"SELECT {columns} FROM documents WHERE workspace_id = ? AND id = ?"
    params: list = [workspace_id, document_id]
    if chatbot_id is not None:
        sql += " AND chatbot_id = ?"
        params.append(chatbot_id)
    row = await fetch_one(conn, sql, params)
    return None if row is None else Document.from_row(row)


async def list_documents(conn: Connection, workspace_id: str, chatbot_id: str) -> list[Document]:
    rows = await fetch_all(conn, f"SELECT {DOC_COLUMNS} FROM documents WHERE workspace_id = ? AND chatbot_id = ?"
                                 " ORDER BY created_at DESC, id DESC", (workspace_id, chatbot_id))
    return [Document.from_row(row) for row in rows]


async def delete_document(conn: Connection, workspace_id: str, document_id: str) -> int:
    return await execute(conn, "DELETE FROM documents WHERE workspace_id = ? AND id = ?", (workspace_id, document_id))


async def delete_workspace_documents(conn: Connection, workspace_id: str) -> int:
    """Documents (pages by cascade) and their jobs."""
    await execute(conn, "DELETE FROM jobs WHERE workspace_id = ?", (workspace_id,))
    return await execute(conn, "DELETE FROM documents WHERE workspace_id = ?", (workspace_id,))


async def set_state(conn: Connection, workspace_id: str, document_id: str, *, status: str,
                    progress: float | None = None, error: str | None = None) -> None:
    await execute(conn, "UPDATE documents SET status = ?, progress = coalesce(?, progress), error = ?, updated_at = ?"
                        " WHERE workspace_id = ? AND id = ?",
                  (status, progress, error, utc_now_iso(), workspace_id, document_id))


async def set_progress(conn: Connection, workspace_id: str, document_id: str, progress: float) -> None:
    await execute(conn, "UPDATE documents SET progress = ?, updated_at = ? WHERE workspace_id = ? AND id = ?",
                  (round(progress, 3), utc_now_iso(), workspace_id, document_id))


async def mark_indexed(conn: Connection, workspace_id: str, document_id: str, *, title: str | None,
                       chunk_count: int, model: str, dim: int, next_refresh_at: str | None) -> None:
    now = utc_now_iso()
    # A title found in the content (a PDF's own title, a page's <title>) names the document only
    # at its first indexing: after that the title is the editors' and a re-index keeps it.
    await execute(conn, "UPDATE documents SET status = 'indexed', progress = 1, error = NULL, chunk_count = ?,"
                        " title = CASE WHEN indexed_at IS NULL THEN coalesce(?, title) ELSE title END, embed_model = ?, embed_dim = ?, indexed_at = ?, updated_at = ?,"
                        " next_refresh_at = ? WHERE workspace_id = ? AND id = ?",
                  (chunk_count, title, model, dim, now, now, next_refresh_at, workspace_id, document_id))


async def update_document(conn: Connection, workspace_id: str, document_id: str, *, title: str | None,
                          body: bytes | None) -> None:
    """A new title and/or new stored content (None leaves each as it is)."""
    await execute(conn, "UPDATE documents SET title = coalesce(?, title), body = coalesce(?, body),"
                        " size_bytes = coalesce(?, size_bytes), updated_at = ?"
                        " WHERE workspace_id = ? AND id = ?",
                  (title, body, len(body) if body is not None else None, utc_now_iso(), workspace_id,
                   document_id))


async def bump_generation(conn: Connection, workspace_id: str, document_id: str) -> int:
    await execute(conn, "UPDATE documents SET generation = generation + 1, status = 'queued', progress = 0,"
                        " error = NULL, updated_at = ? WHERE workspace_id = ? AND id = ?",
                  (utc_now_iso(), workspace_id, document_id))
    return await fetch_value(conn, "SELECT generation FROM documents WHERE workspace_id = ? AND id = ?",
                             (workspace_id, document_id))



async def page_hashes(conn: Connection, workspace_id: str, document_id: str) -> dict[str, str]:
    rows = await fetch_all(conn, "SELECT url, content_hash FROM document_pages WHERE workspace_id = ? AND document_id = ?",
                           (workspace_id, document_id))
    return {row["url"]: row["content_hash"] for row in rows}


async def upsert_page(conn: Connection, workspace_id: str, document_id: str, url: str, title: str,
                      content_hash: str) -> None:
    await execute(conn, "INSERT INTO document_pages (document_id, url, workspace_id, title, content_hash, fetched_at)"
                        " VALUES (?,?,?,?,?,?) ON CONFLICT (document_id, url) DO UPDATE SET title = excluded.title,"
                        " content_hash = excluded.content_hash, fetched_at = excluded.fetched_at",
                  (document_id, url, workspace_id, title, content_hash, utc_now_iso()))


async def delete_page(conn: Connection, workspace_id: str, document_id: str, url: str) -> None:
    await execute(conn, "DELETE FROM document_pages WHERE workspace_id = ? AND document_id = ? AND url = ?",
                  (workspace_id, document_id, url))


async def due_refreshes(conn: Connection, now: str, limit: int = 50) -> list[dict]:
    """Across workspaces on purpose: the scheduler serves every tenant; each row names its own."""
    return await fetch_all(conn, "SELECT id, workspace_id, refresh_hours FROM documents WHERE next_refresh_at <= ?"
                                 " AND status IN ('indexed', 'error') ORDER BY next_refresh_at LIMIT ?", (now, limit))


async def set_next_refresh(conn: Connection, workspace_id: str, document_id: str, when: str | None) -> None:
    await execute(conn, "UPDATE documents SET next_refresh_at = ? WHERE workspace_id = ? AND id = ?",
                  (when, workspace_id, document_id))


async def all_document_keys(conn: Connection) -> list[dict]:
    """Every document (all workspaces), for re-embedding after a model change."""
    return await fetch_all(conn, "SELECT id, workspace_id FROM documents")


async def unfinished_without_job(conn: Connection) -> list[dict]:
    """Documents waiting or processing with no job to finish them (all workspaces, start-up sweep)."""
    return await fetch_all(conn, "SELECT id, workspace_id, generation FROM documents d"
                                 " WHERE status IN ('queued', 'processing')"
                                 " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.ref_id = d.id"
                                 " AND j.workspace_id = d.workspace_id AND j.status IN ('queued', 'processing'))")


async def count_pending_documents(conn: Connection, workspace_id: str, chatbot_id: str) -> int:
    row = await fetch_one(conn, "SELECT COUNT(*) AS n FROM documents WHERE workspace_id = ? AND chatbot_id = ?"
                                " AND status IN ('queued', 'processing')", (workspace_id, chatbot_id))
    return int(row["n"])


async def set_embed_model(conn: Connection, workspace_id: str, model: str, dim: int) -> int:
    """After a workspace's re-embedding: every indexed document's vectors are this model's."""
    return await execute(conn, "UPDATE documents SET embed_model = ?, embed_dim = ? WHERE workspace_id = ?"
                               " AND embed_model IS NOT NULL", (model, dim, workspace_id))
