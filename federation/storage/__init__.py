"""Storage adapters implementing federation.ports.Store.

Only app.py should name a concrete adapter; services depend on the protocols in ports.py.
"""

from federation.storage.sqlite import SqliteStore

__all__ = ["SqliteStore"]
