"""Chatbot slugs: derived from the name, numbered when taken, settable with 400/409 naming
`slug`, unique per workspace only, kept across renames, and backfilled by migration 0016."""

from __future__ import annotations

from modelpilot.core.database import connect_sync_for
from modelpilot.core.migrate import migrate_database
from tests.support import Api

BOTS = "/api/v1/workspaces/{ws}/chatbots"


def test_slugs_are_derived_numbered_and_settable(owner: Api) -> None:
    path = BOTS.format(ws=owner.ws)
    made = [owner.create_bot(owner.ws, name=name) for name in ("Support Bot", "Support bot", "  Crème brûlée! ", "!!!")]
    assert [b["slug"] for b in made] == ["support-bot", "support-bot-2", "creme-brulee", "bot"]
    long = owner.create_bot(owner.ws, name="x" * 100)
    assert long["slug"] == "x" * 64
    assert owner.create_bot(owner.ws, name="x" * 100)["slug"] == "x" * 62 + "-2"
    chosen = owner.create_bot(owner.ws, name="Anything", slug="sales-2024")
    assert chosen["slug"] == "sales-2024"

    taken = owner.post(path, json={"name": "Again", "slug": "support-bot"})
    assert taken.status_code == 409
    assert taken.json()["error"]["details"][0]["field"] == "slug"
    for bad in ("Upper", "with space", "", "a" * 65, "under_score"):
        response = owner.post(path, json={"name": "Bad", "slug": bad})
        assert response.status_code == 400, bad
        assert response.json()["error"]["details"][0]["field"] == "slug"

    first = made[0]["id"]
    renamed = owner.ok("PATCH", f"{path}/{first}", json={"name": "Help desk"})
    assert renamed["slug"] == "support-bot"  # integrations calling it by slug keep working
    assert owner.ok("PATCH", f"{path}/{first}", json={"slug": "help-desk"})["slug"] == "help-desk"
    assert owner.ok("PATCH", f"{path}/{first}", json={"slug": "help-desk"})["slug"] == "help-desk"  # its own
    clash = owner.patch(f"{path}/{first}", json={"slug": "sales-2024"})
    assert clash.status_code == 409 and clash.json()["error"]["details"][0]["field"] == "slug"
    assert owner.patch(f"{path}/{first}", json={"slug": "No!"}).status_code == 400
    assert owner.create_bot(owner.ws, name="Support Bot")["slug"] == "support-bot"  # freed by the change


def test_slugs_are_unique_per_workspace_only(server_factory) -> None:
    live = server_factory(open_signup=True)
    with Api(live.url) as a, Api(live.url) as b:
        a.setup_owner("a@example.com", "A")
        b.signup("b@example.com", "B")
        assert a.create_bot(a.ws, name="FAQ")["slug"] == b.create_bot(b.ws, name="FAQ")["slug"] == "faq"
        assert b.create_bot(b.ws, name="Other", slug="faq-2")["slug"] == "faq-2"
        assert a.create_bot(a.ws, name="Other", slug="faq-2")["slug"] == "faq-2"


def _forget_slugs(conn) -> None:
    """The database as it was before migration 0016 (and the later ones, which run again after it:
    the migrator applies only versions above the highest recorded one)."""
    conn.execute("DROP INDEX chatbots_workspace_slug")
    conn.execute("ALTER TABLE chatbots DROP COLUMN slug")
    conn.execute("ALTER TABLE messages DROP COLUMN weak_reasons")  # 0017 (SQLite) / 0018 (Postgres)
    conn.execute("DELETE FROM schema_version WHERE version >= 16")


def test_migration_backfills_existing_bots(server_factory) -> None:
    live = server_factory(open_signup=True)
    with Api(live.url) as a, Api(live.url) as b:
        a.setup_owner("a@example.com", "A")
        b.signup("b@example.com", "B")
        names = ["FAQ", "FAQ", "faq 2", "  Héllo,  World!! ", "???", "y" * 100]
        made = [a.create_bot(a.ws, name=name, model="builtin/extractive") for name in names]
        other = b.create_bot(b.ws, name="FAQ", model="builtin/extractive")
    live.stop()
    conn = connect_sync_for(live.settings)
    try:
        _forget_slugs(conn)
        if hasattr(conn, "commit"):
            conn.commit()
    finally:
        conn.close()
    assert migrate_database(live.settings)[0] == "0016_chatbot_slug"
    conn = connect_sync_for(live.settings, readonly=True)
    try:
        slugs = {row[0]: row[1] for row in conn.execute("SELECT id, slug FROM chatbots").fetchall()}
    finally:
        conn.close()
    ours = [slugs[bot["id"]] for bot in made]
    assert ours[:2] == ["faq", "faq-2"]
    assert ours[2] == "faq-2-" + made[2]["id"][-8:].lower()  # "faq 2" met the numbered one
    assert ours[3:] == ["h-llo-world", "bot", "y" * 64]
    assert slugs[other["id"]] == "faq"
