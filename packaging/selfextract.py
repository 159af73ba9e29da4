"""Make the one-file binary from PyInstaller's one-folder build: a POSIX shell stub with the
folder appended as a gzip'd tar, unpacked once per version into a private cache and run from there.

Why not PyInstaller's own one-file mode: its bootloader unpacks the whole bundle (~260 MB) into a
fresh temporary directory at every start and deletes it at exit; on a server's disk that was most
of every start (`modelpilot --version` took 2.8 s, 1.7 s of it the kernel writing and discarding
files). Here only the first start of a version unpacks; later ones exec the unpacked program at
once (one process: no bootloader parent beside it either).

    python packaging/selfextract.py dist/modelpilot-files dist/modelpilot

The stub needs only sh, tail, gzip, tar, mkdir and mv, present on every Linux and macOS system.
Where it unpacks: $MODELPILOT_BINARY_CACHE, else $XDG_CACHE_HOME/modelpilot, else
~/.cache/modelpilot, else /tmp/modelpilot-<uid>; a directory it does not own, or that others can
write to, is refused (then it unpacks into a fresh private temporary directory, removed at exit).
Versions not started for a week are removed when another version unpacks (not one a running
process was started from).
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import tarfile
from pathlib import Path

PROGRAM = "modelpilot"

STUB = r"""#!/bin/sh
# ModelPilot, one file: a shell stub and, after it, the program as a gzip'd tar. The first start of
# this version unpacks it into a private cache (see packaging/selfextract.py); later starts run it
# from there at once. MODELPILOT_BINARY_CACHE chooses the cache directory.
ID=@ID@
SKIP=@SKIP@
self="$0"
case "$self" in */*) ;; *) self=$(command -v -- "$self") ;; esac
umask_was=$(umask)
umask 077  # what it unpacks is this user's alone; the program runs with the caller's umask
private() { [ -d "$1" ] && [ -O "$1" ] && [ -z "$(find "$1" -maxdepth 0 \( -perm -020 -o -perm -002 \) 2>/dev/null)" ]; }
in_use() {  # a running process's program lies under $1 (where /proc tells)
  for exe in /proc/[0-9]*/exe; do
    case $(readlink "$exe" 2>/dev/null) in "$1"/*) return 0 ;; esac
  done
  return 1
}
unpack() { tail -c +"$SKIP" "$self" | gzip -dc | tar -xf - -C "$1"; }
if [ -n "$MODELPILOT_BINARY_CACHE" ]; then cache=$MODELPILOT_BINARY_CACHE
elif [ -n "$XDG_CACHE_HOME" ]; then cache=$XDG_CACHE_HOME/modelpilot
elif [ -n "$HOME" ] && [ -d "$HOME" ] && [ -w "$HOME" ]; then cache=$HOME/.cache/modelpilot
else cache=${TMPDIR:-/tmp}/modelpilot-$(id -u)
fi
dir=$cache/$ID
mkdir -p "$cache" 2>/dev/null
# Whatever lies in a directory others can write to (or this user does not own) may have been
# planted there: it is neither run nor written to.
if ! private "$cache"; then
  echo "modelpilot: $cache is not a private directory of this user; unpacking for this run only" >&2
  work=$(mktemp -d "${TMPDIR:-/tmp}/modelpilot.XXXXXX") && unpack "$work" || exit 70
  trap 'rm -rf "$work"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  umask "$umask_was"
  "$work/@PROGRAM@/@PROGRAM@" "$@"
  exit $?
fi
if [ ! -x "$dir/@PROGRAM@/@PROGRAM@" ]; then
  work=$cache/.unpacking-$ID-$$
  rm -rf "$work" && mkdir "$work" && unpack "$work" || { rm -rf "$work"; echo "modelpilot: could not unpack into $cache" >&2; exit 70; }
  # The folder appears whole or not at all: a start cut short leaves only a .unpacking-* folder.
  if [ -d "$dir" ] && [ ! -x "$dir/@PROGRAM@/@PROGRAM@" ]; then  # damaged since: set aside, then replaced
    mv "$dir" "$cache/.unpacking-$ID-damaged$$" 2>/dev/null && rm -rf "$cache/.unpacking-$ID-damaged$$"
  fi
  if [ ! -d "$dir" ]; then mv "$work" "$dir" 2>/dev/null; fi
  rm -rf "$work" "$dir/.unpacking-$ID-$$"
  for old in "$cache"/.unpacking-*; do
    pid=${old##*-}; [ -d "$old" ] && ! kill -0 "$pid" 2>/dev/null && rm -rf "$old"
  done
  # Other versions not started for a week, unless a running server was started from one.
  find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$ID" ! -name '.*' -mtime +6 2>/dev/null |
    while IFS= read -r old; do in_use "$old" || rm -rf "$old"; done
fi
touch "$dir" 2>/dev/null
umask "$umask_was"
exec "$dir/@PROGRAM@/@PROGRAM@" "$@"
"""


def payload(folder: Path) -> bytes:
    """The folder as a gzip'd tar whose one top-level entry is named PROGRAM."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as archive:
        archive.add(folder, arcname=PROGRAM)
    return buffer.getvalue()


def stub(identity: str) -> bytes:
    """The shell stub; SKIP is the 1-based offset of the payload, for `tail -c +SKIP`."""
    text = STUB.replace("@ID@", identity).replace("@PROGRAM@", PROGRAM)
    width = len("@SKIP@")  # a fixed-width number keeps the stub's length known before it is filled in
    length = len(text.encode())
    return text.replace("@SKIP@", str(length + 1).rjust(width, "0")).encode()


def write_self_extracting(folder: Path, out: Path) -> str:
    data = payload(folder)
    identity = hashlib.sha256(data).hexdigest()[:20]
    head = stub(identity)
    assert len(head) == len(stub("0" * 20))
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(head)
        handle.write(data)
    os.chmod(tmp, 0o755)
    os.replace(tmp, out)
    return identity


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.split("\n\n")[2], file=sys.stderr)
        return 2
    folder, out = Path(argv[0]), Path(argv[1])
    if not (folder / PROGRAM).is_file():
        print(f"selfextract: {folder / PROGRAM} is missing (PyInstaller's one-folder build)", file=sys.stderr)
        return 1
    identity = write_self_extracting(folder, out)
    print(f"selfextract: {out} ({out.stat().st_size / 1e6:.1f} MB, version {identity})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
