# Shared set-up for scripts/serve, scripts/test, scripts/bench and scripts/build-binary.
# Sourced, not executed. Creates .venv from the lock file and skips the install when the
# lock has not changed since the last successful one, so repeated runs start at once.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCK="${MP_LOCK:-$ROOT/requirements.lock}"
VENV="${MP_VENV:-$ROOT/.venv}"

find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "ModelPilot needs Python 3.11 or newer on PATH (or set PYTHON=/path/to/python3)." >&2
  return 1
}

ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    local py; py="$(find_python)"
    echo "Creating $VENV with $py" >&2
    "$py" -m venv "$VENV"
  fi
  local stamp="$VENV/.installed-$(basename "$LOCK")"
  local want; want="$(cat "$LOCK" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
  # The dev lock pins a superset of the runtime lock (same versions), so a venv set up for the
  # tests serves as it is: switching between ./scripts/test and ./scripts/serve costs nothing.
  local dev_lock="$ROOT/requirements-dev.lock" dev_stamp="$VENV/.installed-requirements-dev.lock"
  if [ "$LOCK" != "$dev_lock" ] && [ -f "$dev_stamp" ] &&
     [ "$(cat "$dev_stamp")" = "$(cat "$dev_lock" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)" ]; then
    stamp="$dev_stamp"; want="$(cat "$dev_stamp")"
  fi
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "Installing dependencies from $(basename "$LOCK") ..." >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      --require-hashes --no-deps -r "$LOCK" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      --no-deps --no-build-isolation -e "$ROOT" >&2
    echo "$want" > "$stamp"
  fi
  # The widget the server sends is built from widget/ (minified); cheap, so every time.
  "$VENV/bin/python" -m modelpilot.widget.build --quiet
}
