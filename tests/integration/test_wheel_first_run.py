"""A server install, as the README describes it: the built wheel in a fresh venv, its dependencies
from uv.lock with every hash checked, `federation init`, then `federation serve` to a healthy
/healthz. Runs from a temporary folder, so nothing comes from the source tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from federation import DISTRIBUTION
from federation.processes import wait_ready
from tests.support.cluster import free_port, stop

ROOT = Path(__file__).resolve().parents[2]
UV = ROOT / ".venv-uv" / "bin" / "uv"

pytestmark = pytest.mark.integration


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


def install_from_lock(tmp: Path) -> Path:
    """Build the wheel, make a venv with the interpreter running the tests, and install the
    locked dependencies (pip --require-hashes), then the wheel: the README's server commands."""
    assert UV.exists(), "no .venv-uv: scripts/_venv.sh installs uv (run scripts/test)"
    dist = tmp / "dist"
    run(UV, "build", "--wheel", "--out-dir", dist, str(ROOT), cwd=tmp)
    wheels = list(dist.glob("*.whl"))
    assert [w.name.split("-")[0] for w in wheels] == [DISTRIBUTION.replace("-", "_")]
    requirements = tmp / "requirements.txt"
    run(UV, "export", "--project", ROOT, "--frozen", "--no-emit-project", "--no-dev",
        "--format", "requirements-txt", "--output-file", requirements, cwd=tmp)  # fmt: skip
    assert "--hash=sha256:" in requirements.read_text()
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-deps"]
    run(*pip, "--require-hashes", "-r", requirements, cwd=tmp)
    run(*pip, wheels[0], cwd=tmp)
    return venv


def test_the_wheel_installs_from_the_lock_and_an_init_instance_serves(tmp_path: Path) -> None:
    venv = install_from_lock(tmp_path)
    federation = venv / "bin" / "federation"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEDERATION_", "PYTHON"))}
    where = run(venv / "bin" / "python", "-c", "import federation; print(federation.__file__)",
                cwd=tmp_path, env=env)  # fmt: skip
    assert where.startswith(str(venv)), where  # the installed wheel, not the source tree

    out = run(federation, "init", "--domain", "blocks.example.org", "--dir", "site",
              cwd=tmp_path, env=env)  # fmt: skip
    instance = tmp_path / "site" / "instance.toml"
    assert f"wrote {Path('site') / 'instance.toml'}" in out
    assert f"federation serve --instance {Path('site') / 'instance.toml'}" in out
    assert (tmp_path / "site" / "keys" / "rsa.pem").exists()

    port = free_port()
    log = tmp_path / "serve.log"
    # The loopback override: the file's listen address, with a free port for this test.
    serve_env = {**env, "FEDERATION_LISTEN_HOST": "127.0.0.1", "FEDERATION_LISTEN_PORT": str(port)}
    with open(log, "ab") as out_file:
        gateway = subprocess.Popen(
            [str(federation), "serve", "--instance", str(instance)],
            cwd=tmp_path,
            env=serve_env,
            stdout=out_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz", gateway, 60, log=log)
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/actor", headers={"Accept": "application/activity+json"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            actor = json.loads(resp.read())
        assert actor["id"] == "https://blocks.example.org/actor"  # init's https domain
    finally:
        stop(gateway, 15)
