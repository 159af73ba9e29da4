"""scripts/_setup.sh: which Python it takes, what it says, and when it rebuilds a venv.

The functions run in a real bash against real interpreters (pyenv's, where the machine has
them); only the slow install from the lock is replaced, since CI runs the real one from a fresh
clone (.ci/run).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "scripts" / "_setup.sh"


def pythons(version: str) -> list[str]:
    found = sorted(glob.glob(f"{os.path.expanduser('~')}/.pyenv/versions/{version}.*/bin/python{version}"))
    found += [p for p in [shutil.which(f"python{version}")] if p]
    usable = [p for p in found if subprocess.run([p, "-c", "pass"], capture_output=True).returncode == 0]
    return usable[:1]


def python_of(version: str) -> str:
    found = pythons(version)
    if not found:
        pytest.skip(f"no Python {version} on this machine")
    return found[0]


def run(script: str, tmp_path: Path, path_dirs: list[Path] | None = None, **env: str) -> subprocess.CompletedProcess:
    base = {"HOME": os.environ.get("HOME", "/root"), "MP_VENV": str(tmp_path / "venv")}
    base["PATH"] = ":".join(str(d) for d in path_dirs) if path_dirs is not None else os.environ["PATH"]
    body = f"source {SETUP}\n" \
           "install_locked() { echo \"installed into $VENV\" >&2; echo \"$2\" > \"$1\"; }\n" \
           "build_widget() { :; }\n" + script
    return subprocess.run(["/bin/bash", "-c", body], capture_output=True, text=True, env={**base, **env}, timeout=600)


TOOLS = ("dirname", "basename", "cat", "cut", "rm", "sha256sum", "ls", "env")


def bin_dir(tmp_path: Path, **links: str) -> Path:
    """The only folder on PATH: the tools the script uses, plus name -> real interpreter or script body."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for tool in TOOLS:
        links.setdefault(tool, shutil.which(tool))
    for name, target in links.items():
        entry = folder / name
        if target.startswith("/"):
            entry.symlink_to(target)
        else:
            entry.write_text(f"#!/bin/sh\n{target}\n")
            entry.chmod(0o755)
    return folder


def test_takes_the_newest_working_python_and_says_which(tmp_path):
    good = sys.executable  # the Python running the tests: >= 3.11 with venv and ssl
    folder = bin_dir(tmp_path, **{"python3.13": "echo 'pyenv: python3.13: command not found' >&2; exit 127",
                                  "python3.12": good})
    result = run("find_python", tmp_path, [folder])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "python3.12"
    created = run("ensure_venv", tmp_path, [folder])
    assert created.returncode == 0, created.stderr
    version = ".".join(map(str, sys.version_info[:3]))
    assert f"Using Python {version} at {folder}/python3.12" in created.stderr
    assert (tmp_path / "venv" / "bin" / "python").exists()


def test_with_no_usable_python_it_says_what_to_install(tmp_path):
    folder = bin_dir(tmp_path, **{"python3.13": "exit 127", "python3": "exit 1"})
    result = run("find_python", tmp_path, [folder])
    assert result.returncode == 1
    assert "needs Python 3.11 or newer" in result.stderr and "python3-venv" in result.stderr
    assert "python3.13 does not run" in result.stderr


def test_an_older_python_is_refused_with_its_version(tmp_path):
    old = python_of("3.10")
    folder = bin_dir(tmp_path, python3=old)
    result = run("find_python", tmp_path, [folder])
    assert result.returncode == 1 and "older than 3.11" in result.stderr
    named = run("find_python", tmp_path, [folder], PYTHON=old)
    assert named.returncode == 1
    assert f"PYTHON={old} cannot be used" in named.stderr and "older than 3.11" in named.stderr


def test_python_named_but_missing_is_an_error_not_a_silent_fallback(tmp_path):
    result = run("find_python", tmp_path, None, PYTHON="/nonexistent/python3.12")
    assert result.returncode == 1 and result.stdout == ""
    assert "PYTHON=/nonexistent/python3.12 cannot be used: it was not found." in result.stderr


def test_a_venv_of_another_python_is_rebuilt_with_the_one_asked_for(tmp_path):
    first, second = python_of("3.11"), python_of("3.12")
    subprocess.run([first, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    (tmp_path / "venv" / ".installed-requirements.lock").write_text("stale")
    result = run("ensure_venv && \"$VENV/bin/python\" -c 'import sys; print(sys.version_info[:2])'",
                 tmp_path, None, PYTHON=second)
    assert result.returncode == 0, result.stderr
    assert "made with Python 3.11 and PYTHON asks for 3.12" in result.stderr
    assert result.stdout.strip() == "(3, 12)"
    assert "installed into" in result.stderr  # the new venv was installed, not the stale stamp trusted


def test_a_venv_whose_python_no_longer_runs_is_rebuilt(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /gone\n")
    (venv / "bin" / "python").write_text("#!/bin/sh\nexit 1\n")
    (venv / "bin" / "python").chmod(0o755)
    result = run("ensure_venv", tmp_path, None, PYTHON=sys.executable)
    assert result.returncode == 0, result.stderr
    assert "its Python no longer runs" in result.stderr
    assert subprocess.run([str(venv / "bin" / "python"), "-c", "pass"]).returncode == 0


def test_a_second_run_with_the_same_locks_installs_nothing(tmp_path):
    first = run("ensure_venv", tmp_path, None, PYTHON=sys.executable)
    assert first.returncode == 0 and "installed into" in first.stderr, first.stderr
    second = run("ensure_venv", tmp_path, None, PYTHON=sys.executable)
    assert second.returncode == 0 and second.stderr == "", second.stderr


def test_a_folder_that_is_not_a_venv_is_never_removed(tmp_path):
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "keep.txt").write_text("mine")
    result = run("ensure_venv", tmp_path, None, PYTHON=sys.executable)
    assert result.returncode == 1 and "is not a virtual environment" in result.stderr
    assert (tmp_path / "venv" / "keep.txt").exists()
