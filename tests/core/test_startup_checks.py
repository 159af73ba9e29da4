"""`modelpilot serve` on a database it cannot use stops with one clear line: a malformed URL, a
Postgres that does not answer, one where pgvector cannot be enabled, and stored provider keys
sealed with another secret key than this node's (on either backend)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from modelpilot.core.crypto import KEY_FILE_NAME, new_key_text, write_key_file
from modelpilot.providers.keys import KeyRingMismatch, check_key_ring
from tests import pg_support
from tests.support import Api, free_port, make_settings, start_server


def serve(data_dir: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m modelpilot serve`, expected to stop by itself (the timeout fails the test)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPILOT_")}
    full_env.update(env)
    return subprocess.run([sys.executable, "-m", "modelpilot", "serve", "--host", "127.0.0.1", "--port", "0",
                           "--data-dir", str(data_dir)], capture_output=True, text=True, env=full_env, timeout=120)


def one_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "ModelPilot" not in result.stdout
    return lines[0]


def test_a_malformed_database_url_is_a_settings_error(tmp_path):
    result = serve(tmp_path, {"MODELPILOT_DATABASE_URL": "mysql://user@db/modelpilot"})
    assert result.returncode == 2
    assert "MODELPILOT_DATABASE_URL" in one_line(result)


@pytest.mark.parametrize("where", ["closed port", "socket dir without a server"])
def test_a_postgres_that_does_not_answer_stops_start_up(tmp_path, where):
    if where == "closed port":
        url = f"postgresql://modelpilot:hunter2@127.0.0.1:{free_port()}/modelpilot"
    else:
        (tmp_path / "sockets").mkdir()
        url = f"postgresql://modelpilot:hunter2@/modelpilot?host={tmp_path / 'sockets'}"
    result = serve(tmp_path / "data", {"MODELPILOT_DATABASE_URL": url})
    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith("modelpilot: database: cannot connect to postgresql://modelpilot@"), line
    assert "hunter2" not in line


def test_a_database_where_pgvector_cannot_be_enabled_stops_start_up(tmp_path):
    """pgvector is installed on the server but not enabled in this database, and the user (not a
    superuser; pgvector is not a trusted extension) may not enable it."""
    admin_url = pg_support.server_uri()
    name = f"mp_novector_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = 'mp_plain'").fetchone():
            admin.execute("CREATE ROLE mp_plain LOGIN")
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name} OWNER mp_plain")
    base, _, query = admin_url.partition("?")
    url = f"postgresql://mp_plain@/{name}?{query}"
    try:
        result = serve(tmp_path, {"MODELPILOT_DATABASE_URL": url})
        assert result.returncode == 1
        line = one_line(result)
        assert "pgvector is not enabled" in line and "CREATE EXTENSION vector" in line, line
        with psycopg.connect(url) as conn:  # nothing was half-applied
            assert conn.execute("SELECT to_regclass('schema_version')").fetchone()[0] is None
    finally:
        pg_support.drop_database(url)


def _store_a_provider_key(settings) -> str:
    live = start_server(settings)
    try:
        api = Api(live.url)
        api.setup_owner()
        api.add_provider(api.ws, "groq", "gsk-startup-0123456789abcdef")
        api.close()
    finally:
        live.stop()
    return api.ws


def test_a_node_with_another_secret_key_refuses_to_start_on_postgres(tmp_path):
    url = pg_support.fresh_database()
    try:
        first_key, other_key = new_key_text(), new_key_text()
        first = make_settings(tmp_path / "node-a", database_url=url, secret_key=first_key)
        _store_a_provider_key(first)
        result = serve(tmp_path / "node-b", {"MODELPILOT_DATABASE_URL": url, "MODELPILOT_SECRET_KEY": other_key})
        assert result.returncode == 1
        line = one_line(result)
        assert "MODELPILOT_SECRET_KEY differs from the secret key that sealed the stored provider keys" in line
        assert other_key not in line and first_key not in line
        # A node without any secret key (a key file of its own) is refused too; the right key passes.
        with pytest.raises(KeyRingMismatch, match="key file"):
            check_key_ring(make_settings(tmp_path / "node-c", database_url=url))
        check_key_ring(make_settings(tmp_path / "node-d", database_url=url, secret_key=first_key))
    finally:
        pg_support.drop_database(url)


def test_a_replaced_key_file_refuses_start_up_on_sqlite(tmp_path):
    data_dir = tmp_path / "data"
    settings = make_settings(data_dir, database_url="")
    _store_a_provider_key(settings)
    key_file = data_dir / KEY_FILE_NAME
    original = key_file.read_text()
    write_key_file(key_file, [new_key_text()])
    result = serve(data_dir, {})
    assert result.returncode == 1
    line = one_line(result)
    assert str(key_file) in line and "differs from the secret key that sealed the stored provider keys" in line
    with pytest.raises(RuntimeError, match="did not start"):  # the app's own start-up check
        start_server(settings)
    key_file.write_text(original)
    check_key_ring(settings)


def test_no_stored_keys_no_check(tmp_path):
    settings = make_settings(tmp_path / "data", database_url="")
    start_server(settings).stop()
    check_key_ring(settings)  # an empty providers table opens with any key
    write_key_file(tmp_path / "data" / KEY_FILE_NAME, [new_key_text()])
    check_key_ring(settings)
