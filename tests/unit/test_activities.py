"""ActivityStreams shapes: the block model, objects both ways, builders, the context, parsing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from federation.activities import (
    AS_CONTEXT,
    AS_MEDIA_TYPE,
    LD_MEDIA_TYPE,
    PUBLIC,
    Block,
    InvalidActivity,
    InvalidObject,
    RemoteBlock,
    accept,
    actor_of,
    block_to_object,
    context_document,
    create,
    delete,
    follow,
    is_activitystreams_media_type,
    load_object,
    new_activity_id,
    object_context,
    object_id_of,
    object_to_block,
    parse_activity,
    reject,
    tombstone,
    types_of,
    undo,
    update,
)
from federation.activities.context import BLOCK_TERMS
from federation.errors import FederationError

BASE = "https://alpha.example"
ACTOR = f"{BASE}/actor"
URL = f"{BASE}/blocks/b%3A1"
URN = "urn:block:alpha.example:b%3A1"


def block_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "b:1",
        "kind": "note",
        "title": "Title",
        "content": "Some <b>content</b>",
        "author": "ada",
        "visibility": "public",
        "embargo_until": None,
        "created_at": "2024-05-01T12:00:00Z",
        "updated_at": "2024-05-02T08:30:00.250+02:00",
        "references": ["b2", "urn:block:Beta.Example:x%2fy"],
        "url": "https://alpha.example/pages/b:1",
    }
    data.update(changes)
    return data


def render(block: Block | None = None) -> dict[str, Any]:
    block = block or Block.model_validate(block_data())
    return block_to_object(block, base_url=BASE, authority="alpha.example", scheme="https")


# ---------------------------------------------------------------- Block


def test_block_parses_and_normalises() -> None:
    block = Block.model_validate(block_data(extra_field="ignored"))
    assert block.updated_at == datetime(2024, 5, 2, 6, 30, 0, 250000, tzinfo=UTC)
    assert block.references == ["b2", "urn:block:beta.example:x%2Fy"]
    dumped = block.model_dump(mode="json")
    assert dumped["created_at"] == "2024-05-01T12:00:00Z"
    assert dumped["updated_at"] == "2024-05-02T06:30:00.250000Z"
    assert "extra_field" not in dumped
    assert Block.model_validate(dumped) == block


@pytest.mark.parametrize(
    "stamp",
    ["2024-05-01t12:00:00z", "2024-05-01T12:00:00.123456789-05:30", "2024-02-29T23:59:59+14:00"],
)
def test_rfc3339_variants_accepted(stamp: str) -> None:
    assert Block.model_validate(block_data(created_at=stamp)).created_at.tzinfo is UTC


def test_aware_datetimes_accepted() -> None:
    moment = datetime(2024, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    assert Block.model_validate(block_data(created_at=moment)).created_at == moment


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": ""}, "id"),
        ({"id": "\ud800"}, "id"),
        ({"id": "é" * 200}, "id"),  # 1200 characters once encoded
        ({"kind": 7}, "kind"),
        ({"title": "t" * 1001}, "title"),
        ({"content": "€" * 90_000}, "content"),  # 270 000 UTF-8 bytes
        ({"author": None}, "author"),
        ({"visibility": "secret"}, "visibility"),
        ({"created_at": 1714564800}, "created_at"),
        ({"created_at": "2024-05-01T12:00:00"}, "created_at"),
        ({"created_at": "2024-05-01 12:00:00Z"}, "created_at"),
        ({"created_at": "2024-02-30T12:00:00Z"}, "created_at"),
        ({"created_at": datetime(2024, 1, 1)}, "created_at"),
        ({"embargo_until": "soon"}, "embargo_until"),
        ({"references": ["x"] * 1001}, "references"),
        ({"references": ["urn:block:bad host:x"]}, "references"),
        ({"references": [3]}, "references"),
        ({"url": "u" * 1001}, "url"),
    ],
)
def test_block_rejects(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Block.model_validate(block_data(**changes))
    assert info.value.errors()[0]["loc"][0] == field


def test_content_bound_is_bytes_not_characters() -> None:
    assert Block.model_validate(block_data(content="€" * 87_000))  # 261 000 bytes
    assert Block.model_validate(block_data(content="a" * 262_144))
    with pytest.raises(ValidationError):
        Block.model_validate(block_data(content="a" * 262_145))


def test_is_publishable() -> None:
    now = datetime(2024, 6, 1, tzinfo=UTC)
    public = Block.model_validate(block_data())
    private = Block.model_validate(block_data(visibility="private"))
    over = Block.model_validate(
        block_data(visibility="embargoed", embargo_until="2024-05-31T00:00:00Z")
    )
    pending = Block.model_validate(
        block_data(visibility="embargoed", embargo_until="2024-06-02T00:00:00Z")
    )
    assert [b.is_publishable(now) for b in (public, private, over, pending)] == [
        True,
        False,
        True,
        False,
    ]
    # An embargo without a date (never publishable) cannot even be built: the contract's rule.
    with pytest.raises(ValidationError, match="embargo_until is required"):
        Block.model_validate(block_data(visibility="embargoed"))


def test_remote_block_names_must_agree() -> None:
    good = block_data(
        references=[],
        urn="urn:block:beta.example:x",
        origin="beta.example",
        object_url="https://beta.example/blocks/x",
        id="x",
    )
    assert RemoteBlock.model_validate(good).origin == "beta.example"
    for change in (
        {"urn": "urn:block:beta.example:y"},
        {"origin": "Beta.Example"},
        {"object_url": "https://beta.example/blocks/y"},
        {"references": ["local-id"]},
    ):
        with pytest.raises(ValidationError):
            RemoteBlock.model_validate({**good, **change})


# ---------------------------------------------------------------- objects


def test_block_to_object_shape() -> None:
    assert render() == {
        "@context": object_context(),
        "id": URL,
        "type": "Note",
        "urn": URN,
        "attributedTo": ACTOR,
        "name": "Title",
        "content": "Some <b>content</b>",
        "blockKind": "note",
        "blockAuthor": "ada",
        "published": "2024-05-01T12:00:00Z",
        "updated": "2024-05-02T06:30:00.250000Z",
        "references": ["urn:block:alpha.example:b2", "urn:block:beta.example:x%2Fy"],
        "visibility": "public",
        "url": "https://alpha.example/pages/b:1",
        "to": [PUBLIC],
        "cc": [f"{ACTOR}/followers"],
    }


def test_embargo_rendered_and_private_refused() -> None:
    block = Block.model_validate(
        block_data(visibility="embargoed", embargo_until="2024-01-01T00:00:00Z", url=None)
    )
    obj = render(block)
    assert obj["embargoUntil"] == "2024-01-01T00:00:00Z" and "url" not in obj
    with pytest.raises(ValueError, match="private"):
        render(Block.model_validate(block_data(visibility="private")))


def test_round_trip_block_object_block() -> None:
    block = Block.model_validate(block_data())
    wire = json.loads(json.dumps(render(block)))
    remote = object_to_block(wire, expected_url=URL)
    assert remote.urn == URN and remote.origin == "alpha.example" and remote.object_url == URL
    assert remote.model_dump(exclude={"urn", "origin", "object_url", "references"}) == (
        block.model_dump(exclude={"references"})
    )
    assert remote.references == ["urn:block:alpha.example:b2", "urn:block:beta.example:x%2Fy"]


_texts = st.text(max_size=40)


@given(
    local_id=st.text(min_size=1, max_size=30),
    title=_texts,
    content=st.text(max_size=200),
    kind=_texts,
    author=_texts,
    references=st.lists(st.text(min_size=1, max_size=20), max_size=5),
    created=st.datetimes(timezones=st.just(UTC)),
)
def test_round_trip_property(
    local_id: str,
    title: str,
    content: str,
    kind: str,
    author: str,
    references: list[str],
    created: datetime,
) -> None:
    references = [r for r in references if r[:4].lower() != "urn:"]
    block = Block(
        id=local_id,
        kind=kind,
        title=title,
        content=content,
        author=author,
        visibility="public",
        created_at=created,
        updated_at=created,
        references=references,
    )
    obj = json.loads(json.dumps(render(block)))
    remote = object_to_block(obj, expected_url=obj["id"])
    assert (remote.id, remote.title, remote.content, remote.kind, remote.author) == (
        local_id,
        title,
        content,
        kind,
        author,
    )
    assert remote.created_at == created and remote.url is None
    assert remote.references == [f"urn:block:alpha.example:{_enc(r)}" for r in references]


def _enc(local_id: str) -> str:
    from federation.urn import encode_local_id

    return encode_local_id(local_id)


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda obj: obj.__setitem__(key, value)


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda obj: obj.pop(key)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (_drop("id"), "no string id"),
        (_set("id", f"{BASE}/blocks/other"), "is not the URL it came from"),
        (_set("type", "Article"), "type must be 'Note'"),
        (_set("urn", "urn:block:alpha.example:other"), "urn property"),
        (_set("urn", "not a urn"), "urn property"),
        (_set("urn", 5), "urn property"),
        (_drop("attributedTo"), "attributedTo must be an actor URL"),
        (_set("attributedTo", "https://evil.example/actor"), "not on the object's origin"),
        (_set("attributedTo", "http://alpha.example/actor"), "not on the object's origin"),
        (_set("attributedTo", "https://alpha.example:8443/actor"), "not on the object's origin"),
        (_set("attributedTo", "https://x@alpha.example/actor"), "not on the object's origin"),
        (_set("attributedTo", "https://[::1/actor"), "not on the object's origin"),
        (_set("to", [ACTOR]), "not addressed to the public"),
        (_set("visibility", "private"), "visibility"),
        (_set("url", "javascript:alert(1)"), "url must be an http(s) URL"),
        (_set("url", "http://[::1/x"), "url must be an http(s) URL"),
        (_set("url", 5), "url must be an http(s) URL"),
        (_set("references", "urn:block:a.example:x"), "references must be a list"),
        (_set("references", ["x"] * 1001), "references must be a list"),
        (_set("references", [5]), "references must be a list of strings"),
        (_set("references", ["urn:block:a.example:"]), "references: "),
        (_set("references", ["https://a.example/notblocks/x"]), "references: "),
        (_drop("name"), "name: "),
        (_set("name", ["t"]), "name: "),
        (_set("name", "t" * 1001), "name: "),
        (_set("content", 5), "content: "),
        (_set("blockKind", None), "blockKind: "),
        (_set("blockAuthor", {}), "blockAuthor: "),
        (_set("published", "yesterday"), "published: "),
        (_set("updated", 17), "updated: "),
        (_set("embargoUntil", "soon"), "embargoUntil: "),
    ],
)
def test_object_to_block_rejects(mutate: Callable[[dict[str, Any]], None], reason: str) -> None:
    obj = render()
    mutate(obj)
    with pytest.raises(InvalidObject) as info:
        object_to_block(obj, expected_url=URL)
    assert reason in info.value.reason
    assert isinstance(info.value, FederationError)


def test_object_to_block_rejects_non_block_urls_and_non_objects() -> None:
    obj = render()
    obj["id"] = f"{BASE}/notes/1"
    with pytest.raises(InvalidObject, match="not a block URL"):
        object_to_block(obj, expected_url=obj["id"])
    with pytest.raises(InvalidObject, match="not a JSON object"):
        object_to_block([], expected_url=URL)  # type: ignore[arg-type]


def test_object_to_block_accepts_peer_variations() -> None:
    obj = render()
    for key in ("urn", "updated", "references", "visibility", "cc", "url"):
        del obj[key]
    obj["type"] = ["Note", "Page"]
    obj["attributedTo"] = {"id": "https://ALPHA.example/actor", "type": "Application"}
    obj["to"] = "as:Public"
    obj["references"] = ["local", f"{BASE}/blocks/b2", "URN:BLOCK:beta.example:%7e"]
    remote = object_to_block(obj, expected_url=URL)
    assert remote.updated_at == remote.created_at
    assert remote.visibility == "public"
    assert remote.references == [
        "urn:block:alpha.example:local",
        "urn:block:alpha.example:b2",
        "urn:block:beta.example:~",
    ]


def test_tombstone() -> None:
    assert tombstone(URL, URN) == {
        "id": URL,
        "type": "Tombstone",
        "formerType": "https://www.w3.org/ns/activitystreams#Note",
        "urn": URN,
    }


# ---------------------------------------------------------------- builders


def test_new_activity_id() -> None:
    fixed = UUID("12345678-1234-5678-1234-567812345678")
    assert new_activity_id(BASE, lambda: fixed) == f"{BASE}/activities/{fixed}"
    first, second = new_activity_id(BASE), new_activity_id(BASE)
    assert first != second and first.startswith(f"{BASE}/activities/")


@pytest.mark.parametrize(("build", "kind"), [(create, "Create"), (update, "Update")])
def test_create_and_update(build: Callable[..., dict[str, Any]], kind: str) -> None:
    obj = render()
    activity = build(obj, ACTOR, f"{BASE}/activities/1")
    body = {k: v for k, v in obj.items() if k != "@context"}
    assert activity == {
        "@context": object_context(),
        "id": f"{BASE}/activities/1",
        "type": kind,
        "actor": ACTOR,
        "object": body,
        "to": [PUBLIC],
        "cc": [f"{ACTOR}/followers"],
    }
    assert "@context" in obj  # the caller's object is left alone


def test_delete_carries_a_tombstone() -> None:
    activity = delete(URL, URN, ACTOR, f"{BASE}/activities/2")
    assert activity["@context"] == object_context()
    assert activity["object"] == tombstone(URL, URN)
    assert (activity["type"], activity["to"], activity["cc"]) == (
        "Delete",
        [PUBLIC],
        [f"{ACTOR}/followers"],
    )
    assert delete(URL, URN, "https://a.example/users/x", "i")["@context"] == AS_CONTEXT


def test_follow_family() -> None:
    target = "https://beta.example/actor"
    follow_ = follow(ACTOR, target, f"{BASE}/activities/3")
    assert follow_ == {
        "@context": AS_CONTEXT,
        "id": f"{BASE}/activities/3",
        "type": "Follow",
        "actor": ACTOR,
        "object": target,
        "to": [target],
    }
    theirs = {**follow(target, ACTOR, "https://beta.example/activities/9")}
    for build, kind in ((accept, "Accept"), (reject, "Reject")):
        answer = build(ACTOR, theirs, f"{BASE}/activities/4")
        assert answer["type"] == kind and answer["actor"] == ACTOR
        assert answer["to"] == [target]
        assert answer["object"] == {k: v for k, v in theirs.items() if k != "@context"}
    undone = undo(ACTOR, follow_, f"{BASE}/activities/5")
    assert undone["type"] == "Undo" and undone["to"] == [target] and "cc" not in undone
    assert undone["object"]["id"] == f"{BASE}/activities/3"
    undone_create = undo(ACTOR, create(render(), ACTOR, "c"), "u")
    assert undone_create["to"] == [PUBLIC] and undone_create["cc"] == [f"{ACTOR}/followers"]


# ---------------------------------------------------------------- context and media types


def test_context_document() -> None:
    context = context_document()["@context"]
    assert context["kbfed"] == "https://w3id.org/kbfed/ns#"
    for term in ("urn", "blockKind", "blockAuthor", "references", "visibility", "embargoUntil"):
        assert term in context
    assert context["references"]["@type"] == "@id"
    assert context["urn"] == {"@id": "kbfed:urn", "@type": "@id"}


def test_every_instance_speaks_one_vocabulary_inline() -> None:
    """Our objects carry the block terms inline, the same on every instance: no per-instance
    IRI, nothing a reader must fetch."""
    assert object_context() == ["https://www.w3.org/ns/activitystreams", BLOCK_TERMS]
    assert context_document()["@context"] == BLOCK_TERMS
    assert all("/ns#" not in str(v) or "w3id.org/kbfed" in str(v) for v in BLOCK_TERMS.values())


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        (AS_MEDIA_TYPE, True),
        (LD_MEDIA_TYPE, True),
        ("Application/Activity+JSON; charset=utf-8", True),
        ('application/ld+json;profile="https://www.w3.org/ns/activitystreams"', True),
        ("application/ld+json; profile=https://www.w3.org/ns/activitystreams", True),
        (
            'application/ld+json; charset=utf-8; PROFILE="https://www.w3.org/ns/activitystreams"',
            True,
        ),
        (
            'application/ld+json; profile="https://example.org/p https://www.w3.org/ns/activitystreams"',
            True,
        ),
        ('application/ld+json; profile="https://www.w3.org/ns/activity\\streams"', True),
        ("application/json", False),
        ("application/ld+json", False),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams-x"', False),
        ('application/ld+json; charset="https://www.w3.org/ns/activitystreams"', False),
        ("text/html", False),
        ("", False),
    ],
)
def test_media_types(header: str, accepted: bool) -> None:
    assert is_activitystreams_media_type(header) is accepted


# ---------------------------------------------------------------- parsing inbound activities


def activity(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": "https://beta.example/activities/1",
        "type": "Follow",
        "actor": "https://beta.example/actor",
        "object": ACTOR,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


BAD_ID = "id must be an http(s) URL"
BAD_TYPE = "type must be a non-empty string or list of strings"
BAD_ACTOR = "actor must be an http(s) URL or an object with such an id"


def test_parse_activity_ok() -> None:
    data = activity(type=["Create", "Other"], actor={"id": "https://beta.example/actor"})
    assert parse_activity(json.dumps(data).encode(), max_depth=8) == data


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe", "the body is not UTF-8"),
        (b"{", "the body is not valid JSON"),
        (b'{"id": NaN}', "the body is not valid JSON"),
        (b"[]", "the body is not a JSON object"),
        (
            b'{"id": "https://a.example/1", "id": "https://a.example/2"}',
            "the JSON object names the key 'id' more than once",
        ),
        (
            b'{"object": {"type": "Note", "type": "Tombstone"}}',
            "the JSON object names the key 'type' more than once",
        ),
        (
            b'{"a": 1, "b": 2, "b": 3}',  # the repeated key is named, not the first one
            "the JSON object names the key 'b' more than once",
        ),
        (json.dumps(activity(id=None)).encode(), BAD_ID),
        (json.dumps(activity(id="urn:x:1")).encode(), BAD_ID),
        (json.dumps(activity(id="https://")).encode(), BAD_ID),
        (json.dumps(activity(id="https://[::1/x")).encode(), BAD_ID),
        (json.dumps(activity(type=None)).encode(), BAD_TYPE),
        (json.dumps(activity(type="")).encode(), BAD_TYPE),
        (json.dumps(activity(type=[])).encode(), BAD_TYPE),
        (json.dumps(activity(type=["Create", 3])).encode(), BAD_TYPE),
        (json.dumps(activity(actor=None)).encode(), BAD_ACTOR),
        (json.dumps(activity(actor={"name": "x"})).encode(), BAD_ACTOR),
        (json.dumps(activity(actor="ftp://beta.example/a")).encode(), BAD_ACTOR),
    ],
)
def test_parse_activity_rejects(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidActivity) as info:
        parse_activity(body, max_depth=8)
    assert info.value.reason == str(info.value) == reason


@pytest.mark.parametrize("max_depth", [4, 5, 32])
def test_depth_cap_is_exact(max_depth: int) -> None:
    data: dict[str, Any] = activity()
    inner = data
    for _ in range(max_depth - 1):
        inner["x"] = {"s": '[[[{{{"\\'}
        inner = inner["x"]
    parse_activity(json.dumps(data).encode(), max_depth=max_depth)
    inner["x"] = ["[[["]
    with pytest.raises(InvalidActivity) as info:
        parse_activity(json.dumps(data).encode(), max_depth=max_depth)
    assert info.value.reason == f"JSON nested deeper than {max_depth} levels"


def test_extremely_deep_json_is_refused_without_crashing() -> None:
    deep = b'{"id": "https://b.example/1", "a": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    with pytest.raises(InvalidActivity) as info:
        parse_activity(deep, max_depth=32)
    assert info.value.reason == "JSON nested deeper than 32 levels"
    wide = json.dumps(activity(object=[[1]] * 100_000)).encode()
    parse_activity(wide, max_depth=3)


def test_actor_of_and_object_id_of() -> None:
    assert actor_of({"actor": "https://b.example/actor"}) == "https://b.example/actor"
    assert actor_of({"actor": {"id": "https://b.example/actor"}}) == "https://b.example/actor"
    with pytest.raises(InvalidActivity):
        actor_of({"actor": ["https://b.example/actor"]})
    assert object_id_of({"object": "https://b.example/o"}) == "https://b.example/o"
    assert object_id_of({"object": {"id": "https://b.example/o"}}) == "https://b.example/o"
    assert object_id_of({"object": {"type": "Note"}}) is None
    assert object_id_of({}) is None
    assert object_id_of({"object": ["https://b.example/o"]}) is None
    assert object_id_of({"object": {"id": 7}}) is None


def test_plain_http_urls_are_web_urls() -> None:
    data = activity(id="http://beta.example/activities/1", actor="http://beta.example/actor")
    assert parse_activity(json.dumps(data).encode(), max_depth=8) == data


@pytest.mark.parametrize("max_depth", [3, 8])
@pytest.mark.parametrize(("opening", "closing"), [('{"a": ', "}"), ("[", "]")])
def test_depth_cap_holds_for_objects_alone_and_arrays_alone(
    max_depth: int, opening: str, closing: str
) -> None:
    """Nesting made of one bracket kind only: the depth counts braces and brackets alike."""

    def nested(depth: int) -> bytes:  # a top-level object holding depth - 1 more levels
        inner = depth - 1
        return ('{"a": ' + opening * inner + "1" + closing * inner + "}").encode()

    assert load_object(nested(max_depth), max_depth=max_depth) == json.loads(nested(max_depth))
    with pytest.raises(InvalidActivity) as info:
        load_object(nested(max_depth + 1), max_depth=max_depth)
    assert info.value.reason == f"JSON nested deeper than {max_depth} levels"


@pytest.mark.parametrize(
    ("kind", "types"),
    [
        ("Create", ("Create",)),
        (["Add", "Activity"], ("Add", "Activity")),
        (["Create", 3, None, "Update"], ("Create", "Update")),
        (None, ()),
        ({"name": "Create"}, ()),
        (7, ()),
    ],
)
def test_types_of_reads_one_name_or_a_list(kind: object, types: tuple[str, ...]) -> None:
    assert types_of({"type": kind}) == types
