"""Old stored host keys in today's spelling, for both adapters' one-off host migrations.

Before federation.hosts owned host identity, hosts were stored as ``[user@]host[:port]`` in
lower case (Unicode labels, trailing dots and default ports kept). These turn such a key into
the one spelling of federation.hosts; a key that names no host stays as it is.
"""

from __future__ import annotations

import json

from federation.errors import HostError
from federation.hosts import normalise_host


def stored_host(key: str) -> str:
    """An old host key (``[user@]host[:port]``, lower case) in today's spelling."""
    try:
        return normalise_host(key.rpartition("@")[2])
    except HostError:
        return key


def stored_hosts_json(value: str) -> str:
    """A JSON list of old host keys (the allowlist setting), re-spelled, deduplicated, sorted."""
    try:
        entries = json.loads(value)
    except ValueError:
        return value
    if not isinstance(entries, list):
        return value
    return json.dumps(sorted({stored_host(e) for e in entries if isinstance(e, str)}))
