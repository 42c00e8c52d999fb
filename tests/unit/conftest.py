"""Fixtures shared by the unit tests of the signed HTTP client (tests/support/transport.py)."""

from tests.support.transport import hosts, key, make_transport, rsa_key, serve

__all__ = ["hosts", "key", "make_transport", "rsa_key", "serve"]
