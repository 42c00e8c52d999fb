"""Label values with bounded cardinality.

A metric label taken from a peer's input could take any value, and every distinct value is a new
time series in Prometheus: a peer inventing activity types or hosts would grow the scraper's
memory without end. So every label value either comes from a fixed set of our own (job kinds,
outcomes, route templates), or passes through one of the rules here:

- activity types: the ActivityStreams types we know, anything else is "other";
- remote hosts: only on outbound metrics (deliveries), whose targets are hosts we follow or
  that follow us (or asked to, for the Accept/Reject we answer), and at most MAX_HOSTS distinct
  ones per process; later hosts count as "other". Inbound metrics carry no host label at all:
  anyone can send us a request from any host.
"""

from __future__ import annotations

OTHER = "other"
MAX_HOSTS = 100

ACTIVITY_TYPES = frozenset(
    {
        "Accept",
        "Add",
        "Announce",
        "Block",
        "Create",
        "Delete",
        "Flag",
        "Follow",
        "Like",
        "Move",
        "Reject",
        "Remove",
        "Undo",
        "Update",
    }
)


def activity_type(value: object) -> str:
    """A known activity type, or "other" (never the peer's own string)."""
    return value if isinstance(value, str) and value in ACTIVITY_TYPES else OTHER


class HostLabels:
    """The first `limit` distinct hosts keep their name as a label; the rest are "other"."""

    def __init__(self, limit: int = MAX_HOSTS) -> None:
        self._limit = limit
        self._seen: set[str] = set()

    def __call__(self, host: str) -> str:
        if host in self._seen:
            return host
        if not host or len(self._seen) >= self._limit:
            return OTHER
        self._seen.add(host)
        return host
