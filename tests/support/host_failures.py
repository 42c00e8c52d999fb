"""One worker process recording delivery failures for one host in a MongoDB store.

Run as ``python -m tests.support.host_failures URL HOST COUNT``: it opens the store, prints
``ready``, waits for a line on stdin (so that every worker starts at once), records COUNT
failures one after another, prints the consecutive_failures the store returned for each as
one JSON list, and exits.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from federation.delivery.hosthealth import utc_day
from federation.records import HostFailure
from federation.storage.mongodb import MongoStore
from tests.support.mongo import NO_TTL

# High enough that neither verdict fires: the counters are what is measured.
NEVER = 1_000_000


async def main(url: str, host: str, count: int) -> None:
    store = MongoStore(url, retention=NO_TTL)
    await store.open()
    try:
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        seen = []
        for _ in range(count):
            now = time.time()
            failure = HostFailure(
                at=now,
                day=utc_day(now),
                breaker_threshold=NEVER,
                breaker_open_seconds=60.0,
                unavailable_after_days=NEVER,
            )
            seen.append((await store.record_failure(host, failure)).consecutive_failures)
        print(json.dumps(seen), flush=True)
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
