"""Two (or three) ModelPilot nodes on one Postgres database, as a fleet behind a proxy runs.

Always on Postgres (a fresh database from tests/pg_support), whatever MP_TEST_BACKEND says: the
nodes share only the database URL and the secret key; each has its own data directory.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import threading

import pytest

from modelpilot.core import metrics
from modelpilot.core.database import connect_sync_for
from modelpilot.core.pg import connect_sync
from modelpilot.scheduler import runs_repo
from tests.knowledge.conftest import add_text, create_bot, docs_path, wait_done
from tests.knowledge.fixtures import Site
from tests.pg_support import drop_database, fresh_database
from tests.resilience.proc import ServerProcess
from tests.support import Api, LiveServer, eventually, make_settings, start_server
from tests.widget_support import HOST_PAGE_ORIGIN, make_bot

SECRET = base64.b64encode(bytes(range(32))).decode()
LEASE = 3.0


class Fleet:
    def __init__(self, tmp_path) -> None:
        self.tmp_path = tmp_path
        self.url = fresh_database()
        self.nodes: list[LiveServer] = []
        self.clients: list[Api] = []

    def start(self, name: str, **overrides) -> LiveServer:
        settings = make_settings(self.tmp_path / name, database_url=self.url, secret_key=SECRET, node_id=name,
                                 job_lease_seconds=LEASE, **overrides)
        live = start_server(settings)
        self.nodes.append(live)
        return live

    def client(self, live: LiveServer) -> Api:
        api = Api(live.url)
        self.clients.append(api)
        return api

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        conn = connect_sync(self.url)
        try:
            return [tuple(row) for row in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    def close(self) -> None:
        for api in self.clients:
            api.close()
        for live in self.nodes:
            live.stop()
        drop_database(self.url)


@pytest.fixture
def fleet(tmp_path):
    running = Fleet(tmp_path)
    yield running
    running.close()


@pytest.fixture
def pair(fleet):
    """Nodes A and B, and the owner logged in on each (one account, set up on A)."""
    a, b = fleet.start("node-a"), fleet.start("node-b")
    on_a, on_b = fleet.client(a), fleet.client(b)
    on_a.setup_owner()
    on_b.login("owner@example.com")
    return fleet, on_a, on_b


def jobs_run() -> float:
    """Ingestion job runs that ended ok in this process: both in-process nodes count into the
    one metrics registry."""
    value = metrics.REGISTRY.get_sample_value("modelpilot_jobs_finished_total",
                                              {"kind": "knowledge.ingest", "outcome": "ok"})
    return value or 0.0


def test_a_chat_on_one_node_is_in_the_other_nodes_logs(pair, fake_llm):
    fleet, on_a, on_b = pair
    bot = make_bot(on_a, fake_llm)
    events = on_a.chat(on_a.ws, bot["id"], "hello from node a", session_id="fleet-session-0001")
    assert events[-1].get("done"), events
    listed = on_b.ok("GET", f"/api/v1/workspaces/{on_b.ws}/conversations")
    conversations = listed["items"] if isinstance(listed, dict) else listed
    assert [c["session_id"] for c in conversations] == ["fleet-session-0001"]
    detail = on_b.ok("GET", f"/api/v1/workspaces/{on_b.ws}/conversations/{conversations[0]['id']}")
    assert [m["content"] for m in detail["messages"] if m["role"] == "user"] == ["hello from node a"]


def test_a_document_uploaded_on_one_node_is_indexed_exactly_once(pair):
    fleet, on_a, on_b = pair
    bot = create_bot(on_a)
    before = jobs_run()
    text = "\n\n".join(f"Section {i}. The harbour ledger lists copper lanterns and willow baskets, item {i}."
                       for i in range(60))
    doc = add_text(on_a, bot, "Inventory", text)
    done = wait_done(on_b, bot, doc["id"])
    assert done["status"] == "indexed" and done["chunk_count"] > 1, done
    # The worker counts the run just after the document shows indexed: wait for the count, then
    # check that only one node ran it.
    assert eventually(lambda: jobs_run() - before, timeout=30, what="the job run being counted") == 1
    chunks = fleet.rows("SELECT COUNT(*) FROM chunks WHERE document_id = ?", (doc["id"],))[0][0]
    vectors = fleet.rows("SELECT COUNT(*) FROM chunk_vectors v JOIN chunks c ON c.rowid = v.rowid"
                         " WHERE c.document_id = ?", (doc["id"],))[0][0]
    assert chunks == vectors == done["chunk_count"]
    assert fleet.rows("SELECT COUNT(*) FROM jobs") == [(0,)]


def test_failed_logins_spread_over_two_nodes_trip_at_the_count_of_one(pair):
    fleet, on_a, on_b = pair
    wrong = {"password": "not the passphrase at all"}

    def statuses(clients, email):
        return [clients[i % len(clients)].post("/api/v1/auth/login", json={"email": email, **wrong}).status_code
                for i in range(7)]

    one_node = statuses([on_a], "alone@example.com")
    two_nodes = statuses([on_a, on_b], "spread@example.com")
    assert one_node == [401] * 5 + [429, 429]
    assert two_nodes == one_node


def test_widget_visitor_limit_holds_across_nodes(fleet):
    a = fleet.start("node-a", widget_ip_requests_per_minute=4)
    b = fleet.start("node-b", widget_ip_requests_per_minute=4)
    owner = fleet.client(a)
    owner.setup_owner()
    bot = make_bot(owner, allowed_origins=[HOST_PAGE_ORIGIN])
    visitors = [fleet.client(a), fleet.client(b)]
    codes = [visitors[i % 2].get(f"/api/v1/widget/{bot['id']}/config", headers={"origin": HOST_PAGE_ORIGIN})
             .status_code for i in range(6)]
    assert codes == [200] * 4 + [429, 429]


def test_a_fleet_job_runs_once_per_slot_across_nodes(pair):
    fleet, on_a, on_b = pair
    runs: list[tuple[str, int]] = []
    lock = threading.Lock()
    schedulers = [live.app.state["scheduler"] for live in fleet.nodes]

    def job_for(scheduler):
        async def tick() -> None:
            with lock:
                runs.append((scheduler.node, scheduler.last_slot["test.fleet"]))
        return tick

    for scheduler in schedulers:
        scheduler.add_interval_job("test.fleet", job_for(scheduler), 1, once_per_fleet=True)
    try:
        eventually(lambda: len(runs), lambda count: count >= 4, timeout=60, what="four housekeeping slots run")
    finally:
        for scheduler in schedulers:
            scheduler.remove_job("test.fleet")
    with lock:
        seen = list(runs)
    per_slot = collections.Counter(slot for _, slot in seen)
    assert set(per_slot.values()) == {1}, seen
    # A node that comes later in a slot that has run does not run it again.
    latest = max(per_slot)
    conn = connect_sync_for(fleet.nodes[0].settings)
    try:
        assert runs_repo.last_run_sync(conn, "test.fleet")["slot"] >= latest
        assert not runs_repo.claim_slot_sync(conn, "test.fleet", latest, "node-late")
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_node_killed_mid_ingestion_leaves_the_job_to_the_other(fleet, tmp_path):
    site = Site()
    gate = threading.Event()
    arrived = threading.Event()

    def slow_page(handler):
        arrived.set()
        gate.wait(120)
        return 200, {"Content-Type": "text/html; charset=utf-8"}, (
            "<html><head><title>Tyres</title></head><body><h1>Tyres</h1>"
            + "".join(f"<p>Winter tyres need {i} millimetres of tread in the harbour town.</p>" for i in range(40))
            + "</body></html>").encode()

    site.routes["/tyres"] = slow_page
    killed = ServerProcess(tmp_path / "node-c", tmp_path / "node-c.log", MODELPILOT_DATABASE_URL=fleet.url,
                           MODELPILOT_SECRET_KEY=SECRET, MODELPILOT_NODE_ID="node-c",
                           MODELPILOT_JOB_LEASE_SECONDS=str(LEASE), MODELPILOT_INGEST_ALLOW_PRIVATE="1",
                           MODELPILOT_FETCH_TIMEOUT_SECONDS="120")
    try:
        on_c = Api(killed.start())
        on_c.setup_owner()
        bot = create_bot(on_c)
        doc = on_c.ok("POST", docs_path(on_c, bot) + "/url", 202, json={"url": f"{site.base}/tyres", "mode": "page"})
        assert arrived.wait(60), "node C never fetched the page"
        on_c.close()
        held = "SELECT status, claimed_by, lease_until FROM jobs WHERE ref_id = ?"
        first = fleet.rows(held, (doc["id"],))
        assert first[0][:2] == ("processing", "node-c")

        a = fleet.start("node-a", ingest_allow_private=True)
        on_a = fleet.client(a)
        on_a.login("owner@example.com")
        # Node A's start-up left node C's live job alone, and C's heartbeat keeps its lease fresh.
        eventually(lambda: fleet.rows(held, (doc["id"],))[0][2], lambda lease: lease > first[0][2], timeout=60,
                   interval=0.1, what="node C renewing its lease")
        assert fleet.rows(held, (doc["id"],))[0][:2] == ("processing", "node-c")

        killed.kill()
        gate.set()
        done = wait_done(on_a, bot, doc["id"], timeout=120)
        assert done["status"] == "indexed" and done["chunk_count"] > 0, done
        assert site.hits["/tyres"] == 2  # node C's fetch, cut off, and node A's
        assert fleet.rows("SELECT COUNT(*) FROM jobs") == [(0,)]
        assert fleet.rows("SELECT COUNT(*) FROM chunks WHERE document_id = ?", (doc["id"],)) == [(done["chunk_count"],)]
    finally:
        gate.set()
        killed.stop()
        site.close()


def test_an_event_published_on_one_node_reaches_a_subscriber_on_the_other(pair):
    fleet, _, _ = pair
    bus_a, bus_b = (live.app.state["events"] for live in fleet.nodes)
    ready = threading.Event()

    async def receive() -> tuple[dict, bool]:
        with bus_b.subscribe("inbox.ws-1") as wanted, bus_b.subscribe("inbox.ws-2") as other:
            ready.set()
            event = await asyncio.wait_for(wanted.get(), 30)
            return event, other.empty()

    received = asyncio.run_coroutine_threadsafe(receive(), bus_b.loop)
    assert ready.wait(10)
    asyncio.run_coroutine_threadsafe(bus_a.publish("inbox.ws-1", {"message_id": "m-1"}), bus_a.loop).result(10)
    event, other_topic_quiet = received.result(30)
    assert event == {"message_id": "m-1"} and other_topic_quiet
