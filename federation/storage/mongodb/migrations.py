"""One-off data migrations of the MongoDB store, run when it opens and recorded once done.

MongoDB has no schema version to bump (the indexes are set up by schema.py on every open);
the `migrations` collection holds one document per completed migration instead. Each
migration is idempotent, so two processes opening one database at once may both run it (the
later finds nothing left to change) and an interrupted run simply runs again on the next open.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable

from pymongo.asynchronous.database import AsyncDatabase

from federation.hosts import host_key
from federation.storage.mongodb.base import Document, bson_date
from federation.storage.mongodb.follows import FOLLOWS
from federation.storage.mongodb.hosts_policy import (
    BLOCKS,
    HOSTS,
    POLICY_VERSION,
    POLICY_VERSION_ID,
    SETTINGS,
)
from federation.storage.mongodb.objects import ACTIVITIES
from federation.storage.mongodb.publications import PUBLICATIONS, begun
from federation.storage.mongodb.queue import JOBS
from federation.storage.respell import stored_host, stored_hosts_json

MIGRATIONS = "migrations"
HOSTS_RESPELLED = "hosts_respelled"  # the counterpart of the SQLite store's migration v2
PUBLISHED_MARKERS = "published_markers"  # the counterpart of the SQLite store's migration v10
_MARKER = "published:"

Database = AsyncDatabase[Document]


async def migrate(db: Database) -> None:
    """Run, in order, every migration this database has not recorded as done."""
    done = {doc["_id"] async for doc in db[MIGRATIONS].find({}, {"_id": 1})}
    for name, run in STEPS:
        if name in done:
            continue
        await run(db)
        await db[MIGRATIONS].update_one(
            {"_id": name}, {"$setOnInsert": {"done_at": bson_date(time.time())}}, upsert=True
        )


async def respell_hosts(db: Database) -> None:
    """Every stored host in the one spelling of federation.hosts (A-labels, no trailing dot, no
    user information, the scheme's default port elided, IPv6 compressed), as the SQLite v2
    migration does: keys are recomputed from the URL they came from where the document keeps
    it; a key that names no host stays as it is."""
    await _respell_jobs(db)
    await _respell_follows(db)
    policy_changed = await _rekey(db, BLOCKS, replace=True)
    await _rekey(db, HOSTS, replace=False)
    policy_changed |= await _respell_allowlist(db)
    if policy_changed:  # running gateways re-read the domain policy when its version moves
        await db[POLICY_VERSION].update_one(
            {"_id": POLICY_VERSION_ID}, {"$inc": {"version": 1}}, upsert=True
        )


def _job_host(doc: Document) -> str | None:
    """The job's host in today's spelling; None to leave the job as it is."""
    host = doc.get("host")
    if doc.get("kind") != "deliver":
        return stored_host(host) if isinstance(host, str) else None
    try:
        payload = json.loads(doc.get("payload") or "")
    except (TypeError, ValueError):
        return None
    inbox = payload.get("inbox") if isinstance(payload, dict) else None
    return host_key(inbox) if isinstance(inbox, str) else None


async def _respell_jobs(db: Database) -> None:
    async for doc in db[JOBS].find({}, {"kind": 1, "payload": 1, "host": 1}):
        host = _job_host(doc)
        if host is not None and host != doc.get("host"):
            # Guarded by the old value: a write by a running worker meanwhile wins.
            await db[JOBS].update_one(
                {"_id": doc["_id"], "host": doc.get("host")}, {"$set": {"host": host}}
            )


async def _respell_follows(db: Database) -> None:
    async for doc in db[FOLLOWS].find({}, {"actor": 1, "domain": 1}):
        domain = host_key(doc["actor"])
        if domain and domain != doc.get("domain"):
            await db[FOLLOWS].update_one({"_id": doc["_id"]}, {"$set": {"domain": domain}})


async def _rekey(db: Database, collection: str, *, replace: bool) -> bool:
    """Move each document keyed by a host (_id) to the key's new spelling; whether any moved.
    When two spellings of one host both have a document, ``replace`` says whether the re-spelled
    one overwrites the one already in normal form (domain blocks: the entry is the same) or
    yields to it (host health: the record under the current key is the one in use)."""
    moved = False
    async for doc in db[collection].find():
        old = doc["_id"]
        new = stored_host(old) if isinstance(old, str) else old
        if new == old:
            continue
        fields = {k: v for k, v in doc.items() if k != "_id"}
        if replace:
            await db[collection].replace_one({"_id": new}, fields, upsert=True)
        else:
            await db[collection].update_one({"_id": new}, {"$setOnInsert": fields}, upsert=True)
        await db[collection].delete_one({"_id": old})
        moved = True
    return moved


async def _respell_allowlist(db: Database) -> bool:
    doc = await db[SETTINGS].find_one({"_id": "allowlist"})
    if doc is None or not isinstance(doc.get("value"), str):
        return False
    value = stored_hosts_json(doc["value"])
    if value == doc["value"]:
        return False
    await db[SETTINGS].update_one({"_id": "allowlist"}, {"$set": {"value": value}})
    return True


async def move_published_markers(db: Database) -> None:
    """The activity log's `published:{block id}` markers (meaning "published once") become
    generation 1 of the block's publication record; a record there already is kept."""
    pattern = {"_id": {"$regex": f"^{_MARKER}"}}
    async for doc in db[ACTIVITIES].find(pattern, {"created_at": 1}):
        block_id = doc["_id"].removeprefix(_MARKER)
        fields = begun(1, "", float(doc["created_at"]))
        await db[PUBLICATIONS].update_one({"_id": block_id}, {"$setOnInsert": fields}, upsert=True)
        await db[ACTIVITIES].delete_one({"_id": doc["_id"]})


STEPS: tuple[tuple[str, Callable[[Database], Awaitable[None]]], ...] = (
    (HOSTS_RESPELLED, respell_hosts),
    (PUBLISHED_MARKERS, move_published_markers),
)
