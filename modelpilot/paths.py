"""Where bundled files live, from a source checkout and from the PyInstaller binary alike."""

from __future__ import annotations

import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def bundle_root() -> Path:
    """The directory that holds `modelpilot/`, `web/` and `widget/`.

    Frozen, PyInstaller unpacks data files under sys._MEIPASS; from source it is the repo root.
    """
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root)
    return PACKAGE_DIR.parent


def resource(*parts: str) -> Path:
    """A file shipped with the program, e.g. resource("web", "index.html")."""
    return bundle_root().joinpath(*parts)


def package_resource(*parts: str) -> Path:
    """A file inside the modelpilot package, e.g. package_resource("migrations")."""
    return bundle_root().joinpath("modelpilot", *parts)


def widget_source_dir() -> Path:
    """Readable widget source (widget/*.js, *.css); present in a source checkout."""
    return resource("widget")


def widget_build_dir() -> Path:
    """Where `python -m modelpilot.widget.build` writes the minified files the server sends."""
    return package_resource("static", "widget")
