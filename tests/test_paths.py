"""modelpilot.paths finds shipped files from the source tree and inside the frozen bundle."""

from __future__ import annotations

import sys
from pathlib import Path

from modelpilot import paths

REPO = Path(__file__).resolve().parent.parent


def test_from_source_files_resolve_inside_the_checkout() -> None:
    assert not paths.is_frozen()
    assert paths.bundle_root() == REPO
    assert sorted(p.name for p in paths.package_resource("migrations").glob("0001_*.sql")) == ["0001_foundation.sql"]
    assert paths.web_dir() == REPO / "web"
    assert paths.widget_bundle() == REPO / "modelpilot" / "static" / "widget" / "widget.min.js"
    assert paths.tokenizer_dir() == REPO / "modelpilot" / "rag" / "tokenizer"


def test_frozen_files_resolve_inside_the_unpacked_bundle(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.is_frozen()
    assert paths.package_resource("migrations") == tmp_path / "modelpilot" / "migrations"
    assert paths.web_dir() == tmp_path / "web"
    assert paths.widget_bundle() == tmp_path / "modelpilot" / "static" / "widget" / "widget.min.js"
