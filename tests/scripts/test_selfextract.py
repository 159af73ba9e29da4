"""packaging/selfextract.py: the one-file binary's stub unpacks a version once, into a private
cache, and runs it from there; every run below is the real stub in the real /bin/sh, with a small
program in place of PyInstaller's folder (tests/binary runs the real binary)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("selfextract", ROOT / "packaging" / "selfextract.py")
selfextract = importlib.util.module_from_spec(spec)
spec.loader.exec_module(selfextract)

pytestmark = pytest.mark.skipif(os.name == "nt", reason="the stub is a POSIX shell script")


def build(tmp_path: Path, said: str = "hello") -> tuple[Path, str]:
    """A one-file program whose folder holds an executable that prints its arguments, and a data file."""
    folder = tmp_path / f"folder-{said}"
    (folder / "_internal").mkdir(parents=True)
    program = folder / "modelpilot"
    program.write_text(f'#!/bin/sh\necho "{said} $*"\necho "from $(dirname "$0")" >&2\n'
                       'exit "${EXIT_WITH:-0}"\n')
    program.chmod(0o755)
    (folder / "_internal" / "data.txt").write_text("bundled data\n" * 1000)
    binary = tmp_path / f"modelpilot-{said}"
    identity = selfextract.write_self_extracting(folder, binary)
    return binary, identity


def run(binary: Path, cache: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {"PATH": os.environ["PATH"], "HOME": str(cache.parent), "MODELPILOT_BINARY_CACHE": str(cache),
                   "TMPDIR": str(cache.parent), **env}
    return subprocess.run([str(binary), *args], capture_output=True, text=True, env=environment, timeout=60)


def test_first_start_unpacks_the_version_and_later_starts_run_it_without_unpacking(tmp_path: Path):
    binary, identity = build(tmp_path)
    cache = tmp_path / "cache"
    first = run(binary, cache, "serve", "--port", "9")
    assert first.returncode == 0, first.stderr
    assert first.stdout == "hello serve --port 9\n"
    unpacked = cache / identity / "modelpilot"
    assert first.stderr.strip() == f"from {unpacked}"
    assert (unpacked / "_internal" / "data.txt").read_text().startswith("bundled data")
    assert sorted(p.name for p in cache.iterdir()) == [identity]  # nothing half-done left beside it
    assert oct(cache.stat().st_mode & 0o777) == "0o700"

    inode = (unpacked / "modelpilot").stat().st_ino
    again = run(binary, cache, "--version")
    assert again.stdout == "hello --version\n"
    assert (unpacked / "modelpilot").stat().st_ino == inode  # the same files: not unpacked again


def test_the_program_s_exit_status_and_arguments_pass_through(tmp_path: Path):
    binary, _ = build(tmp_path)
    result = run(binary, tmp_path / "cache", "a b", "--flag=it's", EXIT_WITH="3")
    assert result.returncode == 3
    assert result.stdout == "hello a b --flag=it's\n"


def test_a_start_cut_short_is_unpacked_again_and_its_leftovers_removed(tmp_path: Path):
    binary, identity = build(tmp_path)
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    (cache / identity / "modelpilot" / "_internal").mkdir(parents=True)  # no program: never finished
    dead = cache / f".unpacking-{identity}-999999999"  # a process that died while unpacking
    dead.mkdir()
    result = run(binary, cache)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello \n"
    assert sorted(p.name for p in cache.iterdir()) == [identity]


def test_a_new_version_unpacks_beside_the_old_and_week_old_versions_go(tmp_path: Path):
    cache = tmp_path / "cache"
    old, old_id = build(tmp_path, "old")
    new, new_id = build(tmp_path, "new")
    assert old_id != new_id
    assert run(old, cache).stdout == "old \n"
    stale = cache / "0123456789abcdef0123"  # a version last started eight days ago
    (stale / "modelpilot").mkdir(parents=True)
    week_and_a_day = time.time() - 8 * 86400
    os.utime(stale, (week_and_a_day, week_and_a_day))
    assert run(new, cache).stdout == "new \n"
    assert sorted(p.name for p in cache.iterdir()) == sorted([old_id, new_id])  # yesterday's stays
    assert run(old, cache).stdout == "old \n"


def test_a_cache_others_can_write_to_is_refused_and_the_run_cleans_up_after_itself(tmp_path: Path):
    binary, _ = build(tmp_path)
    cache = tmp_path / "shared"
    cache.mkdir()
    cache.chmod(0o777)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    result = run(binary, cache, "x", TMPDIR=str(scratch))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello x\n"
    assert "is not a private directory of this user" in result.stderr
    assert list(cache.iterdir()) == []  # nothing planted in (or read from) the shared directory
    assert list(scratch.iterdir()) == []  # this run's own unpacking is gone after it


def test_a_program_planted_in_a_shared_cache_is_never_run(tmp_path: Path):
    binary, identity = build(tmp_path)
    cache = tmp_path / "shared"
    planted = cache / identity / "modelpilot" / "modelpilot"  # the version's name is public: it is in the file
    planted.parent.mkdir(parents=True)
    planted.write_text('#!/bin/sh\necho planted\n')
    planted.chmod(0o755)
    cache.chmod(0o777)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    result = run(binary, cache, TMPDIR=str(scratch))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello \n"
    assert "is not a private directory of this user" in result.stderr


def test_concurrent_first_starts_all_run_and_leave_one_copy(tmp_path: Path):
    binary, identity = build(tmp_path)
    cache = tmp_path / "cache"
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda i: run(binary, cache, str(i)), range(4)))
    assert [r.stdout for r in results] == [f"hello {i}\n" for i in range(4)], [r.stderr for r in results]
    assert sorted(p.name for p in cache.iterdir()) == [identity]
    assert sorted(p.name for p in (cache / identity).iterdir()) == ["modelpilot"]


def test_the_default_cache_is_under_the_user_s_home(tmp_path: Path):
    binary, identity = build(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    result = subprocess.run([str(binary)], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (home / ".cache" / "modelpilot" / identity / "modelpilot" / "modelpilot").is_file()


def test_a_week_old_version_a_running_server_was_started_from_is_kept(tmp_path: Path):
    if not Path("/proc/self/exe").exists():
        pytest.skip("no /proc to tell which programs run")
    folder = tmp_path / "sleeper"
    folder.mkdir()
    (folder / "modelpilot").write_bytes(Path("/bin/sleep").read_bytes())  # a real program: /proc/<pid>/exe names it
    (folder / "modelpilot").chmod(0o755)
    old = tmp_path / "modelpilot-old"
    old_id = selfextract.write_self_extracting(folder, old)
    cache = tmp_path / "cache"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "MODELPILOT_BINARY_CACHE": str(cache)}
    server = subprocess.Popen([str(old), "30"], env=env)
    try:
        deadline = time.monotonic() + 10
        while not os.readlink(f"/proc/{server.pid}/exe").startswith(str(cache)):  # the stub exec'd it
            assert time.monotonic() < deadline
            time.sleep(0.05)
        eight_days_ago = time.time() - 8 * 86400
        os.utime(cache / old_id, (eight_days_ago, eight_days_ago))
        new, new_id = build(tmp_path, "new")
        assert run(new, cache).stdout == "new \n"
        assert sorted(p.name for p in cache.iterdir()) == sorted([old_id, new_id])
    finally:
        server.kill()
        server.wait()
    newer, newer_id = build(tmp_path, "newer")  # no longer running: the next new version removes it
    assert run(newer, cache).stdout == "newer \n"
    assert old_id not in [p.name for p in cache.iterdir()]


def test_the_program_runs_with_the_caller_s_umask_and_a_cache_path_may_have_spaces(tmp_path: Path):
    folder = tmp_path / "umask"
    folder.mkdir()
    (folder / "modelpilot").write_text('#!/bin/sh\numask\n')
    (folder / "modelpilot").chmod(0o755)
    binary = tmp_path / "modelpilot-umask"
    identity = selfextract.write_self_extracting(folder, binary)
    cache = tmp_path / "a cache"
    cache.mkdir(mode=0o700)
    stale = cache / "old version"  # a week-old version whose name has a space
    stale.mkdir()
    os.utime(stale, (time.time() - 8 * 86400,) * 2)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "MODELPILOT_BINARY_CACHE": str(cache)}
    result = subprocess.run(["/bin/sh", "-c", 'umask 022; exec "$0"', str(binary)], capture_output=True,
                            text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0022"  # files the server makes are as the caller's umask says
    assert oct((cache / identity).stat().st_mode & 0o777) == "0o700"  # while the unpacked copy is private
    assert sorted(p.name for p in cache.iterdir()) == [identity]
