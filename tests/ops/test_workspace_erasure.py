"""Deleting a workspace leaves nothing of it: every table in sqlite_master is searched.

The workspace is filled through the API with everything a tenant can own, each piece carrying a
marker word; after the delete, no row of any table (ordinary, virtual or shadow: FTS5 and
sqlite-vec keep their data in shadow tables) may hold the marker or one of the workspace's ids.
"""

from __future__ import annotations

from pathlib import Path

from modelpilot.core.db import connect_sync
from tests.support import Api

MARKER = "zqxdoomedmarker"


def leftovers(db_path: Path, needles: set[str]) -> list[str]:
    """'table: value' for every cell of every table that contains one of the needles."""
    found = []
    byte_needles = {n.encode() for n in needles}
    conn = connect_sync(db_path, readonly=True)
    try:
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
    finally:
        conn.close()
    return found


def fill_workspace(owner: Api, ws: str, marker: str) -> set[str]:
    """Everything a tenant can own, created through the API; returns the ids created."""
    ids = {ws}
    invitation = owner.ok("POST", f"/api/v1/workspaces/{ws}/invitations",
                          json={"email": f"{marker}@example.com", "role": "viewer"})
    ids.add(invitation["id"])
    token = owner.ok("POST", f"/api/v1/workspaces/{ws}/api-tokens", json={"name": marker, "role": "admin"})
    ids.add(token["id"])
    owner.ok("PATCH", f"/api/v1/workspaces/{ws}", json={"name": f"{marker} ws", "settings": {"retention_days": 30}})
    return ids


def deletion_records(db_path: Path, workspace_id: str) -> int:
    conn = connect_sync(db_path, readonly=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'workspace.deleted' AND target_id = ?",
                            (workspace_id,)).fetchone()[0]
    finally:
        conn.close()


def test_deleting_a_workspace_leaves_none_of_its_rows(server, owner) -> None:
    keep = owner.ws
    doomed = owner.ok("POST", "/api/v1/workspaces", json={"name": "Doomed"})["id"]
    ids = fill_workspace(owner, doomed, MARKER)
    fill_workspace(owner, keep, "keepmarker")  # the same kinds of rows in a neighbour, which must survive
    db_path = server.settings.db_path
    assert leftovers(db_path, ids | {MARKER}), "the scan must see the rows before the delete"

    owner.ok("DELETE", f"/api/v1/workspaces/{doomed}", status=204)

    # The one trace kept on purpose: the audit record that the workspace was deleted (no content).
    assert deletion_records(db_path, doomed) == 1
    remaining = [hit for hit in leftovers(db_path, ids | {MARKER}) if hit != f"audit_log: {doomed}"]
    assert not remaining, "rows of the deleted workspace are left:\n" + "\n".join(remaining[:40])
    assert owner.get(f"/api/v1/workspaces/{keep}").status_code == 200
    assert leftovers(db_path, {keep, "keepmarker"}), "the neighbour's rows must still be there"
