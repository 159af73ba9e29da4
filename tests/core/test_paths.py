"""modelpilot.paths finds shipped files from the source tree and inside the frozen bundle."""

from __future__ import annotations

import sys
from pathlib import Path

from modelpilot import paths

REPO = Path(__file__).resolve().parents[2]


def test_from_source_files_resolve_inside_the_checkout() -> None:
    assert paths.bundle_root() == REPO
    assert paths.resource("web") == REPO / "web"
    assert sorted(p.name for p in paths.package_resource("migrations").glob("0001_*.sql")) == ["0001_foundation.sql"]


def test_frozen_files_resolve_inside_the_unpacked_bundle(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.bundle_root() == tmp_path
    assert paths.package_resource("migrations") == tmp_path / "modelpilot" / "migrations"
    assert paths.resource("web", "index.html") == tmp_path / "web" / "index.html"
