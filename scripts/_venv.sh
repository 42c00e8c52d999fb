# Shared by scripts/run, scripts/test and scripts/bench: make .venv if missing, install the project.
# Usage: source scripts/_venv.sh [extras]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "creating .venv with $($PY --version)"
    "$PY" -m venv .venv
fi
STAMP=".venv/.installed-${1:-base}"
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    if [ -n "${1:-}" ]; then
        .venv/bin/python -m pip install --quiet -e ".[$1]"
    else
        .venv/bin/python -m pip install --quiet -e .
    fi
    touch "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
