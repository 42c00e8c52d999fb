"""Session-wide fixtures shared by every test folder."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.support.mongo import MongoServer, shared_server, stop_shared_server

# In CI the property tests and fuzzers replay the same examples every run, so a landing is
# judged on the code, not on the draw; locally they explore new examples each time.
# No deadline anywhere: a slow example on a busy machine is not a failure (timing belongs in
# scripts/bench, never in a test).
settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
settings.register_profile("local", deadline=None)
# Under scripts/mutation the same examples are replayed for every mutant (a score is judged on
# the tests, not on the draw) and a slow example is not a failure: mutants run on a busy machine.
settings.register_profile("mutation", derandomize=True, deadline=None, max_examples=25)
if os.environ.get("FEDERATION_MUTATION"):
    settings.load_profile("mutation")
elif os.environ.get("CI"):
    settings.load_profile("ci")
else:
    settings.load_profile("local")


@pytest.fixture(autouse=True)
def _empty_trust_boundary_caches() -> None:
    """Under scripts/mutation each test starts with the memoised trust-boundary functions
    empty: mutmut runs a mutant only against the tests it saw reach the function, and with a
    warm cache only the first test that asks for a key family (say) would reach it."""
    if os.environ.get("FEDERATION_MUTATION"):
        from federation import hosts
        from federation.signatures import cavage, rfc9421_signing

        cavage._family.cache_clear()
        rfc9421_signing._sf_string.cache_clear()
        hosts._parse.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def _stop_mongo_server_at_the_end() -> Iterator[None]:
    """The MongoDB test server starts lazily (first use); this stops it when the session ends."""
    yield
    stop_shared_server()


@pytest.fixture(scope="session")
def mongo_server() -> MongoServer:
    """A MongoDB-wire server (mongoeco, or FEDERATION_TEST_MONGODB_URL); skips if there is none."""
    return shared_server()
