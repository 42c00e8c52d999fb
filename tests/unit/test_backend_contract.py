"""The contract models: what either side accepts or refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from federation.backend.contract import (
    BackendBlock,
    BlockEvent,
    EventType,
    InboundNotification,
    ResolveBatchRequest,
    Visibility,
)
from federation.errors import ProblemError
from federation.refbackend.blocks import decode_cursor, encode_cursor, readable_id
from tests.support.blocks import block_fields


def remote_fields(urn: str = "urn:block:beta.test:b1") -> dict[str, Any]:
    return {
        **block_fields(),
        "urn": urn,
        "origin": "beta.test",
        "object_url": "https://beta.test/blocks/b1",
    }


def test_block_parses_rfc3339_and_defaults() -> None:
    block = BackendBlock.model_validate(block_fields())
    assert block.created_at == datetime(2025, 1, 1, tzinfo=UTC)
    assert block.references == []
    assert block.url is None


def test_embargoed_block_needs_embargo_until() -> None:
    with pytest.raises(ValidationError, match="embargo_until"):
        BackendBlock.model_validate(block_fields(visibility="embargoed"))
    ok = BackendBlock.model_validate(
        block_fields(visibility="embargoed", embargo_until="2030-01-01T00:00:00+02:00")
    )
    assert ok.embargo_until == datetime(2029, 12, 31, 22, tzinfo=UTC)


def test_embargo_until_is_dropped_outside_an_embargo() -> None:
    block = BackendBlock.model_validate(block_fields(embargo_until="2030-01-01T00:00:00Z"))
    assert block.embargo_until is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", ""),
        ("id", "x" * 201),
        ("visibility", "secret"),
        ("created_at", "2025-01-01T00:00:00"),  # no offset: not RFC 3339
        ("title", None),
    ],
)
def test_block_rejects_bad_fields(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        BackendBlock.model_validate(block_fields(**{field: value}))
    assert info.value.errors()[0]["loc"][0] == field


def test_block_id_of_200_chars_is_accepted() -> None:
    assert BackendBlock.model_validate(block_fields(id="x" * 200)).id == "x" * 200


def test_events_carry_a_block_except_deleted() -> None:
    block = block_fields()
    BlockEvent.model_validate({"event_id": "e", "type": "deleted", "block_id": "b1"})
    with pytest.raises(ValidationError, match="null"):
        BlockEvent.model_validate(
            {"event_id": "e", "type": "deleted", "block_id": "b1", "block": block}
        )
    with pytest.raises(ValidationError, match="needs 'block'"):
        BlockEvent.model_validate({"event_id": "e", "type": "created", "block_id": "b1"})
    with pytest.raises(ValidationError, match="block_id"):
        BlockEvent.model_validate(
            {"event_id": "e", "type": "updated", "block_id": "other", "block": block}
        )
    event = BlockEvent.model_validate(
        {"event_id": "e", "type": "visibility_changed", "block_id": "b1", "block": block}
    )
    assert event.type is EventType.VISIBILITY_CHANGED
    assert event.block is not None and event.block.visibility is Visibility.PUBLIC


def test_notifications_need_the_payload_of_their_type() -> None:
    urn = "urn:block:beta.test:b1"
    InboundNotification.model_validate(
        {"id": "n", "type": "remote_block.upsert", "urn": urn, "block": remote_fields(urn)}
    )
    InboundNotification.model_validate({"id": "n", "type": "remote_block.delete", "urn": urn})
    InboundNotification.model_validate(
        {
            "id": "n",
            "type": "follow.changed",
            "follow": {"direction": "follower", "actor": "a", "domain": "d", "state": "accepted"},
        }
    )
    bad = [
        {"id": "n", "type": "remote_block.upsert", "urn": urn},
        {"id": "n", "type": "remote_block.upsert", "urn": urn + "x", "block": remote_fields(urn)},
        {"id": "n", "type": "remote_block.delete"},
        {"id": "n", "type": "follow.changed"},
        {"id": "", "type": "remote_block.delete", "urn": urn},
        {"id": "n", "type": "something.else", "urn": urn},
    ]
    for body in bad:
        with pytest.raises(ValidationError):
            InboundNotification.model_validate(body)


def test_resolve_batch_is_capped_at_500() -> None:
    ResolveBatchRequest(urns=["u"] * 500)
    with pytest.raises(ValidationError):
        ResolveBatchRequest(urns=["u"] * 501)


def test_cursor_round_trips_and_garbage_is_a_400() -> None:
    assert decode_cursor(encode_cursor(12345)) == 12345
    for garbage in ("", "!!!", encode_cursor(1)[:-1] + "*", "djI6MQ"):  # "v2:1"
        with pytest.raises(ProblemError) as info:
            decode_cursor(garbage)
        assert info.value.status == 400


def test_readable_ids_are_slugs_with_a_unique_suffix() -> None:
    first = readable_id("Meeting notes: Q1 / 2025!")
    assert first.startswith("meeting-notes-q1-2025-")
    assert first != readable_id("Meeting notes: Q1 / 2025!")
    assert readable_id("***").startswith("block-")
    assert len(readable_id("x" * 500)) <= 47
