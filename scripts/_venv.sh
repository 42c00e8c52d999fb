# Shared by scripts/run, scripts/test and scripts/bench: make .venv if missing and install exactly
# the locked dependencies (uv.lock, every file checked against its hash) plus the project itself.
# Usage: source scripts/_venv.sh [extra]      (extra: "test", or "" for none)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
EXTRA="${1:-}"

# uv itself, pinned by version and hash, in its own venv (uv sync would prune it from .venv).
UV="$ROOT/.venv-uv/bin/uv"
UV_STAMP="$ROOT/.venv-uv/.installed-$(sha256sum scripts/uv-requirements.txt | cut -c1-16)"
if [ ! -f "$UV_STAMP" ]; then
    echo "installing uv (scripts/uv-requirements.txt) into .venv-uv"
    "$PY" -m venv --clear .venv-uv
    .venv-uv/bin/python -m pip install --quiet --require-hashes -r scripts/uv-requirements.txt
    touch "$UV_STAMP"
fi

if [ ! -x .venv/bin/python ]; then
    echo "creating .venv with $($PY --version)"
    "$PY" -m venv .venv
fi
# Re-sync whenever the lock, pyproject.toml or the extra changes: the stamp holds their hash.
WANT="$(cat uv.lock pyproject.toml | sha256sum | cut -c1-16)-${EXTRA:-base}"
STAMP=".venv/.synced"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$WANT" ]; then
    # --locked: stop (with uv's message) if pyproject.toml changed without `uv lock`.
    # The test extra syncs exactly (removes what the lock no longer lists); without an extra,
    # --inexact keeps the test tools, so scripts/run after scripts/test does not uninstall them.
    if [ -n "$EXTRA" ]; then
        SYNC=(--extra "$EXTRA")
    else
        SYNC=(--inexact)
    fi
    if ! UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT="$ROOT/.venv" \
        "$UV" sync --quiet --locked --python .venv/bin/python "${SYNC[@]}"; then
        echo "_venv.sh: if pyproject.toml changed, run .venv-uv/bin/uv lock (README: Dependencies)" >&2
        exit 1
    fi
    echo "$WANT" > "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
