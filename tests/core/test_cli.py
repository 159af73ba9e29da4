"""The command line: help, settings validation, migrate, create-admin."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from modelpilot.core.db import connect_sync
from tests.pg_support import BACKEND
from modelpilot.settings import SettingsError, load_settings
from tests.support import PASSWORD


def run_cli(*args: str, env: dict | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPILOT_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "modelpilot", *args], capture_output=True, text=True,
                          env=full_env, input=stdin, timeout=120)


def test_help_documents_every_setting() -> None:
    for args in (["--help"], ["serve", "--help"]):
        out = run_cli(*args).stdout
        for flag in ("--host", "--port", "--data-dir", "--secret-key", "--public-url", "--open-signup",
                     "--trusted-proxies", "--log-level", "--max-body-bytes"):
            assert flag in out
        assert "MODELPILOT_PORT" in out


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"MODELPILOT_PORT": "eighty"}, "MODELPILOT_PORT"),
        ({"MODELPILOT_PORT": "70000"}, "MODELPILOT_PORT"),
        ({"MODELPILOT_OPEN_SIGNUP": "maybe"}, "MODELPILOT_OPEN_SIGNUP"),
        ({"MODELPILOT_PUBLIC_URL": "chat.example.com"}, "MODELPILOT_PUBLIC_URL"),
        ({"MODELPILOT_TRUSTED_PROXIES": "10.0.0.0/33"}, "MODELPILOT_TRUSTED_PROXIES"),
        ({"MODELPILOT_LOG_LEVEL": "loud"}, "MODELPILOT_LOG_LEVEL"),
        ({"MODELPILOT_MAX_BODY_BYTES": "-1"}, "MODELPILOT_MAX_BODY_BYTES"),
    ],
)
def test_invalid_setting_stops_with_one_clear_line(tmp_path, env, needle) -> None:
    result = run_cli("serve", "--data-dir", str(tmp_path), env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr


def test_flags_override_environment() -> None:
    settings = load_settings(env={"MODELPILOT_PORT": "9000", "MODELPILOT_HOST": "0.0.0.0"}, overrides={"port": "9100"})
    assert settings.port == 9100 and settings.host == "0.0.0.0"
    assert settings.base_url == "http://127.0.0.1:9100"
    with pytest.raises(SettingsError, match="--port"):
        load_settings(env={}, overrides={"port": "x"})


def test_migrate_is_idempotent(tmp_path) -> None:
    first = run_cli("migrate", "--data-dir", str(tmp_path))
    assert first.returncode == 0 and "0001_foundation" in first.stdout
    second = run_cli("migrate", "--data-dir", str(tmp_path))
    assert second.returncode == 0 and "up to date" in second.stdout


def test_create_admin_headless_then_refuses_duplicates(tmp_path) -> None:
    ok = run_cli("create-admin", "--email", "root@example.com", "--password-stdin", "--data-dir", str(tmp_path),
                 stdin=PASSWORD + "\n")
    assert ok.returncode == 0, ok.stderr
    conn = connect_sync(tmp_path / "modelpilot.db")
    assert conn.execute("SELECT email, is_owner FROM users").fetchall()[0][:] == ("root@example.com", 1)
    assert conn.execute("SELECT role FROM memberships").fetchone()[0] == "admin"
    conn.close()
    dup = run_cli("create-admin", "--email", "root@example.com", "--data-dir", str(tmp_path),
                  env={"MODELPILOT_ADMIN_PASSWORD": PASSWORD})
    assert dup.returncode == 1 and "exists" in dup.stderr
    weak = run_cli("create-admin", "--email", "two@example.com", "--data-dir", str(tmp_path),
                   env={"MODELPILOT_ADMIN_PASSWORD": "password"})
    assert weak.returncode == 1 and "password" in weak.stderr


def test_healthz_and_openapi(api) -> None:
    health = api.ok("GET", "/healthz")
    assert health == {"status": "ok", "version": "0.1.0", "db": "ok", "backend": BACKEND, "node": health["node"]}
    assert health["node"]
    schema = api.ok("GET", "/schema/openapi.json")
    assert "/api/v1/auth/login" in schema["paths"]
    assert api.get("/schema").status_code == 200
    missing = api.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
