"""Fixtures shared by integration test modules."""

from tests.support.forwarding import author_and_carrier

__all__ = ["author_and_carrier"]
