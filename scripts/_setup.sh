# Shared set-up for scripts/serve, scripts/test, scripts/bench and scripts/build-binary.
# Sourced, not executed. Creates .venv from the lock files and skips the install when the
# locks have not changed since the last successful one, so repeated runs start at once.
#
# Everything the set-up installs comes from a lock pinned by hash: requirements-build.lock
# (pip and setuptools, the build backend of the editable install), then the runtime or dev
# lock. Nothing is taken from what `python -m venv` happens to leave in a new venv (Python
# 3.11's ensurepip gives setuptools 65 without `wheel`, 3.12+ gives no setuptools at all).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCK="${MP_LOCK:-$ROOT/requirements.lock}"
VENV="${MP_VENV:-$ROOT/.venv}"
BUILD_LOCK="$ROOT/requirements-build.lock"
MP_MIN_PYTHON="3.11"
MP_TESTED_PYTHONS="3.11, 3.12 and 3.13"

# Prints why "$1" cannot host the venv, or nothing when it can.
python_problem() {
  local py="$1"
  if ! command -v "$py" >/dev/null 2>&1; then echo "was not found"; return; fi
  if ! "$py" -c 'import sys' >/dev/null 2>&1; then echo "does not run"; return; fi
  if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "is Python $("$py" -c 'import platform; print(platform.python_version())'), older than $MP_MIN_PYTHON"
    return
  fi
  # Debian's python3 without python3-venv has no ensurepip; pip needs ssl for the registry.
  local missing
  missing="$("$py" -c '
import importlib.util
print(" ".join(m for m in ("venv", "ensurepip", "ssl", "ctypes", "zlib") if importlib.util.find_spec(m) is None))' 2>/dev/null || echo "?")"
  if [ -n "$missing" ]; then echo "lacks the standard modules: $missing"; fi
}

# "3.12.1 at /path/to/python3.12": the interpreter itself, not a pyenv shim or alias.
python_identity() { "$1" -c 'import platform, sys; print(platform.python_version(), "at", sys.executable)'; }

find_python() {
  local problem
  if [ -n "${PYTHON:-}" ]; then
    problem="$(python_problem "$PYTHON")"
    if [ -n "$problem" ]; then
      echo "PYTHON=$PYTHON cannot be used: it $problem." >&2
      echo "Point PYTHON at Python $MP_TESTED_PYTHONS (e.g. PYTHON=/usr/bin/python3.12), or unset it." >&2
      return 1
    fi
    echo "$PYTHON"; return 0
  fi
  local candidate
  for candidate in python3.13 python3.12 python3.11 python3; do
    if [ -z "$(python_problem "$candidate")" ]; then echo "$candidate"; return 0; fi
  done
  {
    echo "ModelPilot needs Python $MP_MIN_PYTHON or newer (tested with $MP_TESTED_PYTHONS), with venv and ssl."
    for candidate in python3.13 python3.12 python3.11 python3; do
      problem="$(python_problem "$candidate")"
      [ "$problem" = "was not found" ] || echo "  $candidate $problem"
    done
    echo "Install one (Debian/Ubuntu: apt install python3 python3-venv; macOS: brew install python@3.12;"
    echo "or pyenv install 3.12), or set PYTHON=/path/to/python3."
  } >&2
  return 1
}

# Prints why the existing venv must be rebuilt, or nothing when it can be used as it is.
venv_problem() {
  [ -e "$VENV" ] || return 0
  if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    echo "its Python no longer runs"; return
  fi
  local have; have="$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  if ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "it was made with Python $have, older than $MP_MIN_PYTHON"; return
  fi
  if [ -n "${PYTHON:-}" ]; then
    local want; want="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)"
    if [ -n "$want" ] && [ "$want" != "$have" ]; then
      echo "it was made with Python $have and PYTHON asks for $want"; return
    fi
  fi
}

create_venv() {
  local py; py="$(find_python)"
  echo "Using Python $(python_identity "$py")${PYTHON:+ (from PYTHON)}" >&2
  echo "Creating $VENV ..." >&2
  "$py" -m venv "$VENV"
}

ensure_venv() {
  # Two scripts started at once (serve and test) must not install into one venv together.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$VENV.lock"
    flock 9
  fi
  _ensure_venv_locked
  if command -v flock >/dev/null 2>&1; then exec 9>&-; fi  # released before serve/pytest runs
}

_ensure_venv_locked() {
  local problem; problem="$(venv_problem)"
  if [ -n "$problem" ]; then
    # Only ever remove something that is a venv (pyvenv.cfg), never an arbitrary folder.
    if [ ! -f "$VENV/pyvenv.cfg" ]; then
      echo "$VENV exists but is not a virtual environment; move it away and run again." >&2
      return 1
    fi
    echo "Rebuilding $VENV: $problem." >&2
    rm -rf "$VENV"
  fi
  [ -x "$VENV/bin/python" ] || create_venv
  local stamp="$VENV/.installed-$(basename "$LOCK")"
  local want; want="$(cat "$BUILD_LOCK" "$LOCK" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
  # The dev lock pins a superset of the runtime lock (same versions), so a venv set up for the
  # tests serves as it is: switching between ./scripts/test and ./scripts/serve costs nothing.
  local dev_lock="$ROOT/requirements-dev.lock" dev_stamp="$VENV/.installed-requirements-dev.lock"
  if [ "$LOCK" != "$dev_lock" ] && [ -f "$dev_stamp" ] &&
     [ "$(cat "$dev_stamp")" = "$(cat "$BUILD_LOCK" "$dev_lock" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)" ]; then
    stamp="$dev_stamp"; want="$(cat "$dev_stamp")"
  fi
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    install_locked "$stamp" "$want"
  fi
  build_widget
}

# The widget the server sends is built from widget/ (minified); cheap, so every time.
build_widget() { "$VENV/bin/python" -m modelpilot.widget.build --quiet; }

install_locked() {
  local stamp="$1" want="$2"
  local pip=("$VENV/bin/python" -m pip --disable-pip-version-check)
  rm -f "$VENV"/.installed-*  # a half-finished install must not pass for a finished one
  echo "Installing dependencies from $(basename "$LOCK") (first run only; a few minutes) ..." >&2
  "${pip[@]}" install --quiet --require-hashes --no-deps -r "$BUILD_LOCK" >&2
  "${pip[@]}" install --quiet --require-hashes --no-deps -r "$LOCK" >&2
  # setuptools warns that an editable install is editable; nothing a user can act on.
  PYTHONWARNINGS=ignore "${pip[@]}" install --quiet --no-deps --no-build-isolation -e "$ROOT" >&2
  echo "$want" > "$stamp"
}
