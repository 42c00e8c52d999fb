"""Hypothesis fuzzing of every parser at the trust boundary.

Each parser gets random text or bytes and structured, near-valid inputs (a valid value with a
few characters spliced in, out or swapped). The only outcome allowed besides a result is the
documented exception (or a Rejected value / a Reason); anything else is a bug.
"""

from __future__ import annotations

import base64
import json
import string
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from federation.activities import (
    Block,
    InvalidActivity,
    InvalidObject,
    block_to_object,
    object_to_block,
    parse_activity,
)
from federation.errors import UrnError
from federation.resolve.actors import InvalidActor, find_key, load_json_object, parse_actor
from federation.signatures import (
    PublicKeyInfo,
    Reason,
    Rejected,
    SignedRequest,
    SigningKey,
    Verified,
    check_content_digest,
    check_digest,
    content_digest_header,
    digest_header,
    parse_signature,
    parse_signature_header,
    parse_signature_input,
    sign_cavage,
    sign_rfc9421,
    verify_request,
)
from federation.signatures.model import Rejection
from federation.urn import BlockUrn
from tests.support.inproc import Running, running, settings_for

pytestmark = pytest.mark.fuzz

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HTTP = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- strategies ------------------------------------------------------------------------------

PRINTABLE = [chr(c) for c in range(0x20, 0x7F)]
HEADER_CHARS = st.sampled_from(PRINTABLE)
any_text = st.text(max_size=120)
header_text = st.text(HEADER_CHARS, max_size=120)
b64 = st.binary(max_size=80).map(lambda b: base64.b64encode(b).decode())


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[str]) -> str:
    """A valid value with a few random edits: insertions, deletions, replacements."""
    text = draw(valid)
    for _ in range(draw(st.integers(0, 4))):
        pos = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(
            st.text(
                st.sampled_from(
                    ',;="():\\ \t*@-.%/' + string.ascii_letters + "\x00\x7f\u00e9\ud7ff"
                ),
                max_size=3,
            )
        )
        if edit == "insert":
            text = text[:pos] + piece + text[pos:]
        elif edit == "delete":
            text = text[:pos] + text[pos + len(piece) :]
        else:
            text = text[:pos] + piece + text[pos + len(piece) :]
    return text


def fuzzed(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(valid, mutated(valid), header_text, any_text)


cavage_extra = st.tuples(
    st.sampled_from(["algorithm", "headers", "created", "expires", "KEYID", "x", "", "keyId"]),
    st.one_of(
        b64,
        st.integers(-5, 10**20).map(str),
        header_text,
        st.sampled_from(
            [
                "(request-target) host date digest",
                "rsa-sha256",
                "hs2019",
                "1.5",
                "01",
                "(created) (created)",
                "",
            ]
        ),
    ),
    st.booleans(),
)


@st.composite
def cavage_header(draw: st.DrawFn) -> str:
    params = [
        (
            "keyId",
            draw(st.one_of(st.just("https://a.example/actor#k"), header_text)),
            draw(st.booleans()),
        ),
        ("signature", draw(st.one_of(b64, header_text)), draw(st.booleans())),
        *draw(st.lists(cavage_extra, max_size=4)),
    ]
    params = draw(st.permutations(params))
    sep = draw(st.sampled_from([",", ", ", " ,", ",\t"]))
    return sep.join(f'{k}="{v}"' if quoted else f"{k}={v}" for k, v, quoted in params)


def _word(first: str, rest: str, size: int) -> st.SearchStrategy[str]:
    return st.builds(
        str.__add__, st.sampled_from(first), st.text(st.sampled_from(rest), max_size=size)
    )


sf_key = _word(string.ascii_lowercase + "*", string.ascii_lowercase + string.digits + "_-.*", 8)
sf_string = st.text(st.sampled_from([c for c in PRINTABLE if c not in '"\\']), max_size=20).map(
    lambda s: f'"{s}"'
)
sf_bare = st.one_of(
    st.integers(-(10**16), 10**16).map(str),
    sf_string,
    _word(string.ascii_letters + "*", string.ascii_letters + ":/.0123456789", 10),
    b64.map(lambda s: f":{s}:"),
    st.sampled_from(["?1", "?0", "1.5"]),
)


@st.composite
def signature_input(draw: st.DrawFn) -> str:
    members = []
    for _ in range(draw(st.integers(1, 3))):
        comps = draw(
            st.lists(
                st.one_of(
                    st.sampled_from(
                        [
                            '"@method"',
                            '"@target-uri"',
                            '"content-digest"',
                            '"date"',
                            '"@query-param";name="a"',
                            '"@authority"',
                            '"@status"',
                        ]
                    ),
                    sf_string,
                ),
                max_size=5,
            )
        )
        params = draw(
            st.lists(
                st.tuples(
                    st.one_of(
                        st.sampled_from(["created", "expires", "keyid", "alg", "nonce"]), sf_key
                    ),
                    sf_bare,
                ),
                max_size=5,
            )
        )
        rendered = "".join(f";{k}={v}" for k, v in params)
        members.append(f"{draw(sf_key)}=({' '.join(comps)}){rendered}")
    return draw(st.sampled_from([", ", ","])).join(members)


@st.composite
def signature_value(draw: st.DrawFn) -> str:
    members = draw(
        st.lists(
            st.tuples(sf_key, st.one_of(b64.map(lambda s: f":{s}:"), sf_bare)),
            min_size=1,
            max_size=3,
        )
    )
    return ", ".join(f"{k}={v}" for k, v in members)


@st.composite
def digest_value(draw: st.DrawFn) -> str:
    members = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["SHA-256", "sha-256", "sha-512", "SHA-512", "md5", "unixsum", ""]),
                st.one_of(b64, header_text),
            ),
            min_size=1,
            max_size=3,
        )
    )
    return ",".join(f"{k}={v}" for k, v in members)


@st.composite
def content_digest_value(draw: st.DrawFn) -> str:
    members = draw(
        st.lists(
            st.tuples(
                st.one_of(st.sampled_from(["sha-256", "sha-512", "md5"]), sf_key),
                st.one_of(b64.map(lambda s: f":{s}:"), sf_bare),
            ),
            min_size=1,
            max_size=3,
        )
    )
    return ", ".join(f"{k}={v}" for k, v in members)


json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30)
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
web_url = st.one_of(
    st.sampled_from(
        [
            "https://a.example/x",
            "http://127.0.0.1:8000/actor",
            "https://b.example",
            "https://a.example/blocks/x",
            "http://[::1]:1/blocks/%41",
            "ftp://a/x",
            "https://",
            "https://a.example:99999/",
            "http://user@a.example/blocks/y",
        ]
    ),
    st.builds(lambda h, p: f"https://{h}/{p}", st.text(max_size=15), st.text(max_size=15)),
)


# -- signature header parsers ----------------------------------------------------------------


@FAST
@given(fuzzed(cavage_header()))
def test_cavage_signature_header_parser(value: str) -> None:
    try:
        sig = parse_signature_header(value)
    except Rejection as exc:
        assert exc.reason is Reason.MALFORMED
        return
    assert sig.key_id and isinstance(sig.signature, bytes)
    assert sig.headers and len(set(sig.headers)) == len(sig.headers)


@FAST
@given(fuzzed(signature_input()))
def test_rfc9421_signature_input_parser(value: str) -> None:
    try:
        inputs = parse_signature_input(value)
    except Rejection as exc:
        assert exc.reason is Reason.MALFORMED
        return
    assert len({i.label for i in inputs}) == len(inputs)
    for item in inputs:
        assert all(isinstance(c, str) for c in item.components)
        assert isinstance(item.params, dict)


@FAST
@given(fuzzed(signature_value()))
def test_rfc9421_signature_parser(value: str) -> None:
    try:
        parsed = parse_signature(value)
    except Rejection as exc:
        assert exc.reason is Reason.MALFORMED
        return
    assert all(isinstance(k, str) and isinstance(v, bytes) for k, v in parsed.items())


@FAST
@given(fuzzed(digest_value()), st.binary(max_size=200))
def test_digest_checker_never_raises(value: str, body: bytes) -> None:
    assert check_digest(value, body) in (None, *Reason)


@FAST
@given(fuzzed(content_digest_value()), st.binary(max_size=200))
def test_content_digest_checker_never_raises(value: str, body: bytes) -> None:
    assert check_content_digest(value, body) in (None, *Reason)


@FAST
@given(st.binary(max_size=200), st.binary(max_size=200), st.sampled_from(["sha-256", "sha-512"]))
def test_digests_accept_their_body_and_only_it(body: bytes, other: bytes, alg: str) -> None:
    assert check_digest(digest_header(body), body) is None
    assert check_content_digest(content_digest_header(body, alg), body) is None
    if other != body:
        assert check_digest(digest_header(body), other) is Reason.DIGEST_MISMATCH
        assert check_content_digest(content_digest_header(body, alg), other) is (
            Reason.DIGEST_MISMATCH
        )


# -- the whole verifier: random and damaged headers give a Rejected, never an exception ------

KEY = Ed25519PrivateKey.generate()
KEY_ID = "https://peer.example/actor#k"
INFO = PublicKeyInfo(KEY_ID, "https://peer.example/actor", KEY.public_key())
URL = "https://gw.example/inbox?x=1"
NOW = 1_700_000_000.0


async def _resolve(key_id: str) -> PublicKeyInfo | None:
    return INFO if key_id == KEY_ID else None


@st.composite
def damaged_request(draw: st.DrawFn) -> SignedRequest:
    body = draw(st.one_of(st.just(b'{"a": 1}'), st.binary(max_size=50)))
    sign = draw(st.sampled_from([sign_cavage, sign_rfc9421]))
    headers = {"Content-Type": "application/activity+json"}
    headers.update(
        sign(
            "POST",
            URL,
            headers,
            body,
            SigningKey(KEY_ID, KEY),
            NOW + draw(st.integers(-8000, 8000)),
        )
    )
    for name in draw(st.lists(st.sampled_from(sorted(headers)), max_size=3, unique=True)):
        action = draw(st.sampled_from(["drop", "mutate", "random"]))
        if action == "drop":
            del headers[name]
        elif action == "mutate":
            headers[name] = draw(mutated(st.just(headers[name])))
        else:
            headers[name] = draw(header_text)
    if draw(st.booleans()):
        body = draw(st.binary(max_size=50))
    method = draw(st.sampled_from(["POST", "GET", "post"]))
    return SignedRequest(
        method, draw(st.sampled_from([URL, "/inbox", "gw.example/x"])), headers, body
    )


@FAST
@given(damaged_request())
async def test_verify_request_only_verifies_or_rejects(req: SignedRequest) -> None:
    result = await verify_request(req, _resolve, NOW)
    assert isinstance(result, Verified | Rejected)
    if isinstance(result, Verified):
        assert result.owner == INFO.owner


# -- URNs --------------------------------------------------------------------------------------

urn_like = st.builds(
    lambda pre, auth, local: f"{pre}{auth}:{local}",
    st.sampled_from(["urn:block:", "URN:Block:", "urn:blocks:", "urn:block", ""]),
    st.one_of(
        st.sampled_from(
            [
                "alpha.example",
                "[::1]:8443",
                "127.0.0.1:80",
                "A.EXAMPLE:0",
                "a..b",
                "[::1",
                "xn--bcher-kva.example",
                "1.2.3.999",
            ]
        ),
        st.text(max_size=20),
    ),
    st.one_of(st.text(max_size=20), st.sampled_from(["%41", "%zz", "%C3%A9", "%FF", "a:b"])),
)


@FAST
@given(st.one_of(any_text, urn_like, mutated(urn_like)))
def test_urn_parse_raises_only_urn_error(text: str) -> None:
    try:
        urn = BlockUrn.parse(text)
    except UrnError:
        return
    assert BlockUrn.parse(str(urn)) == urn  # canonical form parses back to the same name
    assert BlockUrn.from_url(urn.to_url("https")) == urn


@FAST
@given(st.one_of(any_text, web_url, mutated(web_url)))
def test_block_url_parse_raises_only_urn_error(text: str) -> None:
    try:
        BlockUrn.from_url(text)
    except UrnError:
        pass


# -- activities --------------------------------------------------------------------------------


def nested(depth: int, opener: str) -> bytes:
    closer = "]" if opener == "[" else "}"
    inner = '"a":' if opener == "{" else ""
    return ('{"x":' + (opener + inner) * depth + "1" + closer * depth + "}").encode()


activity_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(web_url, json_value),
        "type": st.one_of(
            st.sampled_from(["Create", "Delete", "Follow", ""]),
            json_value,
            st.lists(st.text(max_size=5), max_size=3),
        ),
        "actor": st.one_of(web_url, json_value, st.fixed_dictionaries({"id": web_url})),
        "object": json_value,
    },
)


@FAST
@given(
    st.one_of(
        st.binary(max_size=300),
        any_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
        json_value.map(lambda v: json.dumps(v).encode()),
        activity_like.map(lambda v: json.dumps(v).encode()),
        mutated(activity_like.map(json.dumps)).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.builds(nested, st.integers(0, 200_000), st.sampled_from(["[", "{"])),
        st.sampled_from([b"NaN", b'{"a": NaN}', b'{"a": Infinity}', b"\xef\xbb\xbf{}", b"\xff"]),
    )
)
def test_parse_activity_raises_only_invalid_activity(body: bytes) -> None:
    try:
        activity = parse_activity(body, max_depth=32)
    except InvalidActivity:
        return
    assert isinstance(activity, dict)
    assert isinstance(activity["id"], str) and activity["id"].startswith("http")


def test_parse_activity_refuses_deep_nesting_without_recursion_error() -> None:
    for depth in (33, 100, 10_000, 1_000_000):
        with pytest.raises(InvalidActivity):
            parse_activity(nested(depth, "["), max_depth=32)


# -- actor documents ---------------------------------------------------------------------------

ACTOR = "https://peer.example/actor"
actor_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.just(ACTOR), web_url, json_value),
        "inbox": st.one_of(st.just(ACTOR + "/inbox"), web_url, json_value),
        "endpoints": st.one_of(
            json_value, st.fixed_dictionaries({"sharedInbox": st.one_of(web_url, json_value)})
        ),
        "publicKey": st.one_of(
            json_value,
            st.lists(
                st.fixed_dictionaries(
                    {"id": st.sampled_from([ACTOR + "#k", "https://x.example/actor#k"])},
                    optional={
                        "owner": st.one_of(st.just(ACTOR), web_url, json_value),
                        "controller": st.one_of(web_url, json_value),
                        "publicKeyPem": st.one_of(st.text(max_size=20), json_value),
                        "publicKeyMultibase": st.one_of(st.text(max_size=20), json_value),
                    },
                ),
                max_size=2,
            ),
        ),
        "assertionMethod": json_value,
        "owner": st.one_of(web_url, json_value),
        "publicKeyPem": st.one_of(st.text(max_size=10), json_value),
    },
)


@FAST
@given(
    st.one_of(
        st.binary(max_size=200),
        json_value.map(lambda v: json.dumps(v).encode()),
        actor_like.map(lambda v: json.dumps(v).encode()),
    ),
    st.one_of(st.just(ACTOR), web_url, any_text),
)
def test_actor_documents_raise_only_invalid_actor(body: bytes, url: str) -> None:
    try:
        doc = load_json_object(body)
    except InvalidActor:
        return
    try:
        parse_actor(doc, url)
    except InvalidActor:
        pass
    try:
        find_key(doc, url + "#k")
    except InvalidActor:
        pass


@FAST
@given(actor_like, st.sampled_from([ACTOR, ACTOR + "#k", "https://x.example/actor#k", ""]))
def test_actor_parsing_of_near_valid_documents(doc: dict[str, Any], key_id: str) -> None:
    try:
        info = parse_actor(doc, ACTOR)
        assert info.id == ACTOR and info.inbox.startswith("https://peer.example")
    except InvalidActor:
        pass
    try:
        key = find_key(doc, key_id)
    except InvalidActor:
        return
    assert key.key_id == key_id
    assert key.public_key_pem is not None or key.multibase is not None


# -- block objects -----------------------------------------------------------------------------

BLOCK_URL = "https://alpha.example/blocks/b%2F1"
VALID_OBJECT = block_to_object(
    Block(
        id="b/1",
        kind="note",
        title="t",
        content="c",
        author="ann",
        visibility="public",
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        updated_at=datetime(2024, 1, 2, tzinfo=UTC),
        references=["x", "urn:block:beta.example:y"],
    ),
    base_url="https://alpha.example",
    authority="alpha.example",
    scheme="https",
)
OBJECT_KEYS = [*sorted(VALID_OBJECT), "embargoUntil", "url", "extra"]
object_value = st.one_of(
    json_value,
    web_url,
    urn_like,
    st.sampled_from(
        [
            "2024-01-01T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "public",
            "embargoed",
            "private",
            "Note",
            "x" * 2000,
        ]
    ),
    st.lists(st.one_of(urn_like, web_url, st.text(max_size=10)), max_size=4),
)


@st.composite
def near_valid_object(draw: st.DrawFn) -> dict[str, Any]:
    obj = dict(VALID_OBJECT)
    for key in draw(st.lists(st.sampled_from(OBJECT_KEYS), max_size=4, unique=True)):
        if draw(st.booleans()):
            obj.pop(key, None)
        else:
            obj[key] = draw(object_value)
    return obj


@FAST
@given(
    st.one_of(near_valid_object(), st.dictionaries(st.text(max_size=10), json_value, max_size=6)),
    st.sampled_from([BLOCK_URL, "https://alpha.example/blocks/", "urn:x", ""]),
)
def test_object_to_block_raises_only_invalid_object(obj: dict[str, Any], url: str) -> None:
    try:
        block = object_to_block(obj, expected_url=url)
    except InvalidObject:
        return
    assert block.object_url == url == obj["id"]
    assert block.origin == "alpha.example"


def test_the_valid_object_is_accepted() -> None:
    """Guards the fuzz above: the starting point of the near-valid objects is valid."""
    assert object_to_block(VALID_OBJECT, expected_url=BLOCK_URL).id == "b/1"


@FAST
@given(json_value)
def test_object_to_block_on_non_objects(value: Any) -> None:
    try:
        object_to_block(value, expected_url=BLOCK_URL)
    except InvalidObject:
        pass


# -- WebFinger through the route ---------------------------------------------------------------


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[tuple[Running, aiohttp.ClientSession]]:
    async with running(settings_for(tmp_path, "wf")) as node, aiohttp.ClientSession() as s:
        yield node, s


@HTTP
@given(
    st.one_of(
        any_text,
        st.builds(lambda u, h: f"acct:{u}@{h}", st.text(max_size=20), st.text(max_size=20)),
        st.sampled_from(["acct:", "acct:@", "ACCT:WF@", "http://", "%00", "acct:wf@127.0.0.1"]),
        st.text(max_size=3000),
    )
)
async def test_webfinger_random_resources_never_5xx(
    gateway: tuple[Running, aiohttp.ClientSession], resource: str
) -> None:
    node, session = gateway
    url = f"{node.url}/.well-known/webfinger"
    try:
        params = {"resource": resource}
        async with session.get(url, params=params) as resp:
            body = await resp.read()
            status = resp.status
    except ValueError:  # the client refuses to send some strings (e.g. lone surrogates)
        return
    assert status < 500, body
    if status == 200:
        assert json.loads(body)["subject"]
    else:
        assert status in (400, 404)
        assert resp.content_type == "application/problem+json"


async def test_webfinger_answers_the_instance_actor(
    gateway: tuple[Running, aiohttp.ClientSession],
) -> None:
    node, session = gateway
    resource = f"acct:{node.settings.name}@{node.settings.domain}"
    async with session.get(
        f"{node.url}/.well-known/webfinger", params={"resource": resource}
    ) as resp:
        assert resp.status == 200
        assert (await resp.json(content_type=None))["subject"] == resource
