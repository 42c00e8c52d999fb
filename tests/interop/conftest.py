"""Interop fixtures: a separate virtualenv holding peer implementations (bovine)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INTEROP_VENV = REPO / ".venv-interop"
BOVINE_REQUIREMENT = "bovine==0.5.19"


def _ensure_interop_venv() -> Path | None:
    python = INTEROP_VENV / "bin" / "python"
    probe = [str(python), "-c", "import bovine.crypto"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    steps = [
        [sys.executable, "-m", "venv", str(INTEROP_VENV)],
        [str(python), "-m", "pip", "install", "-q", BOVINE_REQUIREMENT],
    ]
    for step in steps:
        if subprocess.run(step, capture_output=True, timeout=600).returncode != 0:
            return None
    return python if subprocess.run(probe, capture_output=True).returncode == 0 else None


@pytest.fixture(scope="session")
def bovine_python() -> Path:
    """The interpreter of .venv-interop, with bovine installed (created on first use)."""
    python = _ensure_interop_venv()
    if python is None:
        pytest.fail(f"could not install {BOVINE_REQUIREMENT} into {INTEROP_VENV}; run scripts/test")
    return python
