"""The MongoDB store: every storage port on PyMongo's async API, shareable by many processes.

Select it with ``store = "mongodb://host:27017/dbname"`` in the instance file. Durability is
the server's: PyMongo's default write concern is the deployment's (``w: majority`` on a
replica set since MongoDB 5.0), so an acknowledged write survives a gateway crash.
"""

from federation.storage.mongodb.schema import Retention
from federation.storage.mongodb.store import MongoStore

__all__ = ["MongoStore", "Retention"]
