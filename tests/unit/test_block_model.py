"""One block model for the backend contract and the activities: every rule that either former
model held now holds wherever a block enters the gateway, whether a backend event or page, a
notification to the backend, or a peer's object."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from federation import activities
from federation.activities import InvalidObject, block_to_object, object_to_block
from federation.activities.block import Block, Visibility
from federation.backend import contract
from federation.backend.contract import BlockEvent, BlockPage, InboundNotification
from federation.urn import BlockUrn
from tests.support.blocks import block_fields as fields


def test_the_contract_names_the_activities_models() -> None:
    assert contract.BackendBlock is Block
    assert contract.RemoteBlock is activities.RemoteBlock
    assert contract.Visibility is Visibility


def event(block: dict[str, Any]) -> BlockEvent:
    return BlockEvent.model_validate(
        {"event_id": "e", "type": "created", "block_id": block["id"], "block": block}
    )


# --- rules the activities' model had, now held by the contract too --------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"title": "t" * 1001},
        {"content": "a" * (256 * 1024 + 1)},
        {"kind": "k" * 1001},
        {"author": "a" * 1001},
        {"url": "u" * 1001},
        {"references": ["r"] * 1001},
        {"references": ["urn:block:bad host:x"]},
        {"id": "é" * 200},  # 200 characters, but 1200 once percent-encoded into a URN
        {"created_at": 1735689600},  # a number is no RFC 3339 time (AwareDatetime took it)
        {"created_at": "2025-01-01T00:00Z"},  # RFC 3339 needs the seconds
    ],
)
def test_backend_events_and_pages_hold_the_size_and_format_rules(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        event(fields(**changes))
    with pytest.raises(ValidationError):
        BlockPage.model_validate({"items": [fields(**changes)]})


def test_backend_references_are_normalised_and_times_read_in_utc() -> None:
    got = event(
        fields(references=["URN:Block:Beta.Example:x%2fy"], created_at="2025-01-01T02:00:00+02:00")
    )
    assert got.block is not None
    assert got.block.references == ["urn:block:beta.example:x%2Fy"]
    assert got.block.model_dump(mode="json")["created_at"] == "2025-01-01T00:00:00Z"


def test_a_backend_block_is_frozen() -> None:
    block = contract.BackendBlock.model_validate(fields())
    with pytest.raises(ValidationError):
        block.title = "changed"  # type: ignore[misc]


def remote(urn: str, **overrides: Any) -> dict[str, Any]:
    name = BlockUrn.parse(urn)
    names = {"urn": urn, "origin": name.authority, "object_url": name.to_url("https")}
    return {**fields(id=name.local_id), **names, **overrides}


@pytest.mark.parametrize(
    "overrides",
    [
        {"object_url": "https://beta.test/blocks/other"},
        {"origin": "gamma.test"},
        {"references": ["local-id"]},  # a remote block's references are all URNs
    ],
)
def test_notifications_to_the_backend_carry_consistent_remote_blocks(
    overrides: dict[str, Any],
) -> None:
    urn = "urn:block:beta.test:b1"
    ok = {"id": "n", "type": "remote_block.upsert", "urn": urn, "block": remote(urn)}
    InboundNotification.model_validate(ok)
    with pytest.raises(ValidationError):
        InboundNotification.model_validate({**ok, "block": remote(urn, **overrides)})


# --- rules the contract's model had, now held by the activities too -------------------------


def peer_object(**changes: Any) -> tuple[dict[str, Any], str]:
    block = Block.model_validate(fields(id=changes.pop("id", "b1")))
    obj = block_to_object(
        block, base_url="https://beta.test", authority="beta.test", scheme="https"
    )
    obj.update(changes)
    return obj, obj["id"]


def test_a_peers_block_id_is_at_most_200_characters() -> None:
    obj, url = peer_object(id="x" * 200)
    assert object_to_block(obj, expected_url=url).id == "x" * 200
    long_id = BlockUrn("beta.test", "x" * 201)
    obj, _ = peer_object()
    obj.update(id=long_id.to_url("https"), urn=str(long_id))
    with pytest.raises(InvalidObject):
        object_to_block(obj, expected_url=long_id.to_url("https"))


def test_a_peers_embargoed_block_needs_its_date() -> None:
    obj, url = peer_object(visibility="embargoed")
    with pytest.raises(InvalidObject, match="embargo_until is required"):
        object_to_block(obj, expected_url=url)
    obj, url = peer_object(visibility="embargoed", embargoUntil="2030-01-01T00:00:00Z")
    assert object_to_block(obj, expected_url=url).visibility is Visibility.EMBARGOED


def test_an_embargo_date_outside_an_embargo_is_read_as_null() -> None:
    obj, url = peer_object(embargoUntil="2030-01-01T00:00:00Z")
    got = object_to_block(obj, expected_url=url)
    assert got.visibility is Visibility.PUBLIC and got.embargo_until is None
    # ... but a malformed one is refused whatever the visibility.
    obj, url = peer_object(embargoUntil="soon")
    with pytest.raises(InvalidObject, match="embargoUntil"):
        object_to_block(obj, expected_url=url)
