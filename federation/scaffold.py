"""`federation init`: a new instance file with safe defaults, and its keys.

Safe means what a server on the internet needs: https, tokens that nobody else has, no private
addresses allowed for peers, no plain-http peers, follows waiting for an admin, and the
gateway and its backend listening on loopback only (a TLS reverse proxy faces the internet).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from federation.config import load_settings
from federation.errors import ConfigError
from federation.hosts import Host
from federation.keys import load_or_create_keys

INSTANCE_FILE = "instance.toml"
TOKEN_BYTES = 32  # 256 bits, as hex: 64 characters

_TEMPLATE = """\
# Instance "{name}", written by `federation init`. Every field can be overridden by an
# environment variable FEDERATION_<FIELD> (e.g. FEDERATION_LISTEN_PORT=8080).
name = "{name}"
domain = "{domain}"          # the public host peers reach, through a TLS reverse proxy
scheme = "https"
mode = "approval"            # a follow waits for an admin: federation admin follows ...

# Loopback only: the reverse proxy forwards https://{domain} to 127.0.0.1:8000.
listen_host = "127.0.0.1"
listen_port = 8000

# The reference backend (`federation backend serve`); point backend_url at your own backend
# (docs/backend-contract.md) instead if you have one. The tokens are random: keep this file
# private (it is written with mode 0600).
backend_url = "http://127.0.0.1:9000"
backend_listen_port = 9000
backend_public_url = "https://{domain}/kb"
backend_token = "{backend_token}"
admin_token = "{admin_token}"

# Relative paths are relative to this file.
store = "data/gateway.sqlite3"
backend_store = "data/backend.sqlite3"
key_dir = "keys"
"""


@dataclass(frozen=True)
class NewInstance:
    path: Path
    key_dir: Path
    domain: str


def instance_name(domain: str) -> str:
    """The first label of the host, e.g. "blocks" for blocks.example.org."""
    return Host.parse(domain).name.split(".")[0]


def write_instance(domain: str, directory: Path) -> NewInstance:
    """Write ``directory/instance.toml`` and its keys; never overwrite an existing file."""
    host = _public_host(domain)
    path = directory / INSTANCE_FILE
    if path.exists():
        raise ConfigError(f"{path} exists already: init never overwrites an instance file")
    text = _TEMPLATE.format(
        name=instance_name(str(host)),
        domain=str(host),
        backend_token=secrets.token_hex(TOKEN_BYTES),
        admin_token=secrets.token_hex(TOKEN_BYTES),
    )
    directory.mkdir(parents=True, exist_ok=True)
    # 0600 from the start: the file holds the tokens, so it is never readable by others.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    settings = load_settings(path)  # the file we wrote must load: fail here, not at serve
    load_or_create_keys(settings.key_dir)
    return NewInstance(path=path, key_dir=settings.key_dir, domain=settings.domain)


def _public_host(domain: str) -> Host:
    try:
        host = Host.canonical(domain.strip().lower())
    except ValueError as exc:
        raise ConfigError(f"--domain: {exc}") from None
    if host.is_ip or "." not in host.name:
        raise ConfigError(
            f"--domain {domain!r}: give the public DNS name peers will use"
            " (e.g. blocks.example.org); for a local federation on 127.0.0.1 use `federation dev`"
        )
    return host


def next_steps(new: NewInstance) -> str:
    f = new.path
    return f"""\
wrote {f} (mode 0600: it holds the backend and admin tokens)
created keys in {new.key_dir} (back them up: peers trust this instance by them)

next steps:
  1. point DNS for {new.domain} at this server and put a TLS reverse proxy in front of
     127.0.0.1:8000 (docker/Caddyfile in the source is one), with /kb/ going to 127.0.0.1:9000
  2. federation backend serve --instance {f}   # the reference backend, or set backend_url
  3. federation serve --instance {f}
  4. curl https://{new.domain}/healthz
  5. federation admin --instance {f} --help    # follows, peers, the queue
"""
