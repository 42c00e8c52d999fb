"""The embedded SQLite store: the default adapter, one file per instance.

Durability: the database runs in WAL mode. With ``synchronous=NORMAL`` (the default) a commit
is durable against a crash or ``kill -9`` of the process, because the WAL is written before
COMMIT returns; after a power loss or OS crash the last few transactions may roll back (the
file stays consistent). ``synchronous=FULL`` fsyncs the WAL on every commit, so commits also
survive power loss, at the price of one fsync per write transaction.
"""

from federation.storage.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
