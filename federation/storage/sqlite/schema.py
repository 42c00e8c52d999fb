"""Connection set-up and schema migrations for the SQLite store.

The schema version lives in ``PRAGMA user_version``; MIGRATIONS[n] takes the file from
version n to n + 1, each in its own transaction, so an interrupted upgrade resumes cleanly.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from federation.errors import ConfigError
from federation.hosts import host_key
from federation.storage.respell import stored_host, stored_hosts_json

MEMORY = ":memory:"
SYNCHRONOUS_MODES = frozenset({"NORMAL", "FULL", "EXTRA"})
BUSY_TIMEOUT_MS = 5000
CACHE_KIB = 16 * 1024

_V1 = (
    """CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reuse the id of a pruned job
        kind TEXT NOT NULL,
        dedupe_key TEXT NOT NULL,
        payload TEXT NOT NULL,
        host TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'queued',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        lease_owner TEXT,
        lease_until REAL NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    ) STRICT""",
    "CREATE UNIQUE INDEX jobs_dedupe ON jobs(dedupe_key)",
    # claim and next_due_at walk this in next_attempt_at order; the lease, host and kind
    # filters are read from the index itself, so skipped jobs cost no table lookups.
    "CREATE INDEX jobs_claim ON jobs(state, next_attempt_at, lease_until, id, host, kind)",
    "CREATE INDEX jobs_host ON jobs(host, state)",
    # Only leased jobs (a handful in flight) land here: next_due_at reads their expiries.
    "CREATE INDEX jobs_leased ON jobs(lease_until) WHERE state = 'queued' AND lease_until > 0",
    """CREATE TABLE follows (
        direction TEXT NOT NULL,
        actor TEXT NOT NULL,
        domain TEXT NOT NULL,
        inbox TEXT NOT NULL,
        shared_inbox TEXT,
        state TEXT NOT NULL,
        follow_id TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (direction, actor)
    ) STRICT, WITHOUT ROWID""",
    "CREATE INDEX follows_state ON follows(direction, state)",
    "CREATE INDEX follows_domain ON follows(domain)",
    """CREATE TABLE cached_objects (
        urn TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        domain TEXT NOT NULL,
        state TEXT NOT NULL,
        block TEXT,
        etag TEXT,
        last_modified TEXT,
        fetched_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        error TEXT
    ) STRICT""",
    "CREATE INDEX cached_objects_url ON cached_objects(url)",
    "CREATE INDEX cached_objects_domain ON cached_objects(domain)",
    """CREATE TABLE activities (
        id TEXT PRIMARY KEY, body BLOB NOT NULL, created_at REAL NOT NULL
    ) STRICT""",
    """CREATE TABLE remote_keys (
        key_id TEXT PRIMARY KEY, owner TEXT NOT NULL, public_key_pem TEXT NOT NULL,
        fetched_at REAL NOT NULL
    ) STRICT""",
    """CREATE TABLE host_health (
        host TEXT PRIMARY KEY,
        consecutive_failures INTEGER NOT NULL,
        failure_days TEXT NOT NULL,
        last_failure_at REAL NOT NULL,
        last_success_at REAL NOT NULL,
        circuit_open_until REAL NOT NULL,
        unavailable INTEGER NOT NULL,
        signature_scheme TEXT
    ) STRICT""",
    """CREATE TABLE domain_blocks (
        domain TEXT PRIMARY KEY, reason TEXT NOT NULL, created_at REAL NOT NULL
    ) STRICT""",
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT",
)

# v2: every stored host in the one spelling of federation.hosts (A-labels, no trailing dot, no
# user information, the scheme's default port elided, IPv6 compressed). Keys are recomputed
# from the URL they came from where the row keeps it; a key that names no host stays as it is.
_V2 = (
    "UPDATE jobs SET host = host_key(json_extract(payload, '$.inbox'))"
    " WHERE kind = 'deliver' AND json_valid(payload)"
    " AND json_extract(payload, '$.inbox') IS NOT NULL",
    "UPDATE jobs SET host = stored_host(host) WHERE kind != 'deliver'",
    "UPDATE follows SET domain = host_key(actor) WHERE host_key(actor) != ''",
    "UPDATE OR REPLACE domain_blocks SET domain = stored_host(domain)",
    # Two spellings of one host may both have a record: keep the one already in normal form.
    "UPDATE OR IGNORE host_health SET host = stored_host(host)",
    "DELETE FROM host_health WHERE host != stored_host(host)",
    "UPDATE settings SET value = stored_hosts_json(value) WHERE key = 'allowlist'",
)

# v3: the origin-signed copy of a cached remote block (FEP-8b32), served to peers as a mirror.
_V3 = ("ALTER TABLE cached_objects ADD COLUMN signed TEXT",)

# v4: delivery attempts per host and minute (ports.DeliveryStats), for the admin health view.
_V4 = (
    """CREATE TABLE delivery_counts (
        host TEXT NOT NULL,
        minute INTEGER NOT NULL,
        delivered INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        PRIMARY KEY (host, minute)
    ) STRICT, WITHOUT ROWID""",
    "CREATE INDEX delivery_counts_minute ON delivery_counts(minute)",
)

# v5: the domain policy's version (ports.PolicyStore.policy_version), bumped by triggers in the
# same transaction as every write of blocks or settings, whichever process or statement makes it.
_POLICY_TABLES = ("domain_blocks", "settings")
_V5 = (
    "CREATE TABLE policy_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)"
    " STRICT",
    "INSERT INTO policy_version (id, version) VALUES (1, 0)",
    *(
        f"CREATE TRIGGER {table}_{event.lower()}_bumps_policy AFTER {event} ON {table}"  # noqa: S608 (constants only)
        " BEGIN UPDATE policy_version SET version = version + 1; END"
        for table in _POLICY_TABLES
        for event in ("INSERT", "UPDATE", "DELETE")
    ),
)

# v6: hosts an admin paused delivery to (ports.HostPauses).
_V6 = (
    "CREATE TABLE host_pauses (host TEXT PRIMARY KEY, reason TEXT NOT NULL,"
    " paused_at REAL NOT NULL) STRICT",
)

# v7: a domain block's severity (records.Severity); every earlier block was a suspension.
_V7 = ("ALTER TABLE domain_blocks ADD COLUMN severity TEXT NOT NULL DEFAULT 'suspend'",)

# v8: blocklist subscriptions (ports.SubscriptionStore) and which of them hold which entry;
# by_admin tells an admin's entry (never touched by a subscription) from a subscribed one.
_V8 = (
    "ALTER TABLE domain_blocks ADD COLUMN by_admin INTEGER NOT NULL DEFAULT 1",
    """CREATE TABLE blocklist_subscriptions (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        format TEXT,
        max_shrink REAL NOT NULL,
        created_at REAL NOT NULL,
        etag TEXT,
        last_modified TEXT,
        next_fetch_at REAL NOT NULL,
        listed INTEGER NOT NULL,
        history TEXT NOT NULL
    ) STRICT""",
    """CREATE TABLE block_holders (
        domain TEXT NOT NULL,
        subscription_id TEXT NOT NULL,
        severity TEXT NOT NULL,
        reason TEXT NOT NULL,
        PRIMARY KEY (domain, subscription_id)
    ) STRICT, WITHOUT ROWID""",
    "CREATE INDEX block_holders_subscription ON block_holders(subscription_id)",
)

# v9: runner heartbeats (job_ports.Liveness): a stopped process's jobs move within seconds.
_V9 = (
    "CREATE TABLE runners (owner TEXT PRIMARY KEY, beat_at REAL NOT NULL) STRICT, WITHOUT ROWID",
    "CREATE INDEX runners_beat ON runners(beat_at)",
)

# v10: which blocks are federated (ports.Publications), in place of the activity log's
# `published:{block id}` markers; a marker meant "published once", so it becomes generation 1.
_V10 = (
    """CREATE TABLE publications (
        block_id TEXT PRIMARY KEY,
        generation INTEGER NOT NULL,
        started_by TEXT NOT NULL,
        published_at REAL NOT NULL,
        withdrawn_at REAL
    ) STRICT, WITHOUT ROWID""",
    "INSERT INTO publications (block_id, generation, started_by, published_at)"
    " SELECT substr(id, 11), 1, '', created_at FROM activities WHERE id LIKE 'published:%'",
    "DELETE FROM activities WHERE id LIKE 'published:%'",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9, _V10)
SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: str, synchronous: str) -> sqlite3.Connection:
    """Open, configure and migrate the database; ConfigError (naming the path) if unusable."""
    if path != MEMORY:
        _prepare_location(Path(path))
    conn: sqlite3.Connection | None = None
    try:
        # Autocommit mode: multi-statement writes say BEGIN IMMEDIATE / COMMIT themselves.
        conn = sqlite3.connect(path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        _configure(conn, synchronous, in_memory=path == MEMORY)
        migrate(conn)
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise ConfigError(f"cannot open the SQLite store {path}: {exc}") from None
    except ConfigError as exc:
        if conn is not None:
            conn.close()
        raise ConfigError(f"SQLite store {path}: {exc}") from None
    return conn


def _prepare_location(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the folder of the SQLite store {path}: {exc.strerror}"
        ) from None
    if path.is_dir():
        raise ConfigError(f"the SQLite store path {path} is a directory, not a file")


def _configure(conn: sqlite3.Connection, synchronous: str, *, in_memory: bool) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if not in_memory and str(mode).lower() != "wal":
        raise ConfigError(f"could not switch to WAL mode (journal_mode is {mode})")
    # synchronous was checked against SYNCHRONOUS_MODES: pragmas take no parameters.
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    # 16 MiB page cache (default 2 MiB): a 100k-job enqueue updates four indexes at random
    # places, and spilling their pages mid-transaction made it about 25% slower.
    conn.execute(f"PRAGMA cache_size = {-CACHE_KIB}")


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> None:
    """Apply the migrations the file lacks, each in its own transaction."""
    if schema_version(conn) > SCHEMA_VERSION:
        raise ConfigError(
            f"schema version {schema_version(conn)} is newer than this gateway"
            f" supports ({SCHEMA_VERSION})"
        )
    _register_host_functions(conn)
    for target, statements in enumerate(MIGRATIONS, start=1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated meanwhile.
            if schema_version(conn) < target:
                for statement in statements:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _register_host_functions(conn: sqlite3.Connection) -> None:
    """The SQL names migrations use for federation.hosts (host spelling is not SQL's job)."""
    conn.create_function("host_key", 1, host_key, deterministic=True)
    conn.create_function("stored_host", 1, stored_host, deterministic=True)
    conn.create_function("stored_hosts_json", 1, stored_hosts_json, deterministic=True)
