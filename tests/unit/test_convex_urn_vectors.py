"""The URN vectors the Convex side is tested against (tests/convex/vectors/urns.json) say what
federation/urn.py really answers, so the two implementations cannot drift apart unnoticed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from federation.errors import UrnError
from federation.urn import normalise

VECTORS = json.loads(
    (Path(__file__).parents[1] / "convex" / "vectors" / "urns.json").read_text("utf-8")
)["vectors"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["urn"][:40])
def test_vector_matches_the_gateway(vector: dict[str, str]) -> None:
    if "normal" in vector:
        assert normalise(vector["urn"]) == vector["normal"]
    else:
        with pytest.raises(UrnError) as refused:
            normalise(vector["urn"])
        assert str(refused.value) == vector["error"]
