"""Provider keys at rest: AES-256-GCM with key ids, the generated key file, and rotate-key."""

from __future__ import annotations

import os
import stat

import pytest

from modelpilot.cli import main
from modelpilot.core.crypto import CryptoError, load_key_ring, new_key_text, parse_ring
from modelpilot.core.database import connect_sync_for
from tests.support import Api, database_args, make_settings, start_server


def test_seal_and_open_bind_the_value_to_its_row():
    ring = parse_ring(new_key_text())
    sealed = ring.seal("sk-abc", aad="ws1/openai")
    assert sealed.startswith(f"v1.{ring.current_id}.") and "sk-abc" not in sealed
    assert ring.open(sealed, aad="ws1/openai") == "sk-abc"
    assert ring.seal("sk-abc", aad="ws1/openai") != sealed  # fresh nonce each time
    with pytest.raises(CryptoError):
        ring.open(sealed, aad="ws2/openai")
    with pytest.raises(CryptoError):
        parse_ring(new_key_text()).open(sealed, aad="ws1/openai")
    with pytest.raises(CryptoError):
        parse_ring("too-short")


def test_key_file_is_generated_once_with_mode_0600(tmp_path):
    ring = load_key_ring("", tmp_path)
    key_file = tmp_path / "secret.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert load_key_ring("", tmp_path).current_id == ring.current_id
    explicit = new_key_text()
    assert load_key_ring(explicit, tmp_path).current_id == parse_ring(explicit).current_id


def _sealed_keys(settings) -> list[str]:
    conn = connect_sync_for(settings, readonly=True)
    try:
        return [row[0] for row in conn.execute("SELECT sealed_key FROM providers ORDER BY provider")]
    finally:
        conn.close()


def test_rotate_key_reseals_every_key_and_chat_still_works(tmp_path, fake_llm, capsys):
    data_dir = tmp_path / "data"
    live = start_server(make_settings(data_dir))
    api = Api(live.url)
    api.setup_owner()
    api.add_provider(api.ws, "openai", "sk-rotate-0123456789abcdef", fake_llm.url)
    api.add_provider(api.ws, "groq", "gsk-rotate-0123456789abcdef")
    before = _sealed_keys(live.settings)
    old_id = load_key_ring("", data_dir).current_id
    assert main(["rotate-key", "--data-dir", str(data_dir), *database_args(live.settings)]) == 0
    assert "re-sealed 2 provider key(s)" in capsys.readouterr().out
    new_id = load_key_ring("", data_dir).current_id
    after = _sealed_keys(live.settings)
    assert new_id != old_id and all(s.startswith(f"v1.{new_id}.") for s in after) and after != before
    assert len((data_dir / "secret.key").read_text().split()) == 1  # the old key is gone
    bot = api.create_bot(api.ws, model="gpt-4o-mini")
    assert api.chat(api.ws, bot["id"], "still there?")[-1]["done"] is True  # the running server reloads the ring
    api.close()
    live.stop()


def test_rotate_key_with_an_environment_secret(tmp_path, monkeypatch, capsys):
    old, new = new_key_text(), new_key_text()
    settings = make_settings(tmp_path, secret_key=old)
    monkeypatch.setenv("MODELPILOT_SECRET_KEY", old)
    live = start_server(settings)
    api = Api(live.url)
    api.setup_owner()
    api.add_provider(api.ws, "anthropic", "sk-ant-0123456789abcdef")
    api.close()
    live.stop()
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(new + "\n"))
    assert main(["rotate-key", "--data-dir", str(tmp_path), "--new-key-stdin", *database_args(settings)]) == 0
    assert "MODELPILOT_SECRET_KEY" in capsys.readouterr().out
    [sealed] = _sealed_keys(settings)
    assert parse_ring(new).open(sealed, aad=f"{api.ws}/anthropic") == "sk-ant-0123456789abcdef"
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("not-a-key\n"))
    assert main(["rotate-key", "--data-dir", str(tmp_path), "--new-key-stdin", *database_args(settings)]) == 1
