"""SqliteStore: every storage port over one SQLite connection (see the package docstring)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from federation.errors import ConfigError
from federation.storage.sqlite.follows import SqliteFollows
from federation.storage.sqlite.hosts_policy import SqliteHostStore, SqlitePolicyStore
from federation.storage.sqlite.liveness import SqliteLiveness
from federation.storage.sqlite.objects import SqliteActivityLog, SqliteKeyCache, SqliteObjectCache
from federation.storage.sqlite.pauses import SqliteHostPauses
from federation.storage.sqlite.publications import SqlitePublications
from federation.storage.sqlite.queue import SqliteJobQueue
from federation.storage.sqlite.queue_admin import SqliteJobAdmin
from federation.storage.sqlite.schema import SYNCHRONOUS_MODES, connect
from federation.storage.sqlite.stats import SqliteDeliveryStats
from federation.storage.sqlite.subscriptions import SqliteSubscriptions

if TYPE_CHECKING:
    from federation.ports import Store


class SqliteStore(
    SqliteFollows,
    SqliteJobQueue,
    SqliteJobAdmin,
    SqliteLiveness,
    SqliteObjectCache,
    SqliteActivityLog,
    SqlitePublications,
    SqliteKeyCache,
    SqliteHostStore,
    SqliteHostPauses,
    SqliteDeliveryStats,
    SqlitePolicyStore,
    SqliteSubscriptions,
):
    """The embedded store. ``path`` may be ":memory:" (a private, non-durable database)."""

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL") -> None:
        super().__init__()
        mode = synchronous.upper()
        if mode not in SYNCHRONOUS_MODES:
            allowed = ", ".join(sorted(SYNCHRONOUS_MODES))
            raise ConfigError(f"sqlite synchronous must be one of {allowed}, not {synchronous!r}")
        self.path = str(path)
        self.synchronous = mode

    async def open(self) -> None:
        """Connect, apply pragmas and migrations. Idempotent. Raises ConfigError naming the
        path when the file cannot be opened or is not a usable database."""
        if self._conn is None:
            self._conn = connect(self.path, self.synchronous)

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


if TYPE_CHECKING:

    def _conforms(store: SqliteStore) -> Store:
        return store  # mypy fails here if SqliteStore stops implementing every port
