"""RFC 9421 section 5, Accept-Signature: what we ask on a 401, how we read a peer's ask, which
asks our key can meet, and a signature made as asked."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from federation.signatures import SignedRequest, SigningKey, Verified, verify_request
from federation.signatures.accept import (
    MAX_HEADER,
    SignatureAsk,
    accept_signature_header,
    choose_ask,
    format_ask,
    meetable,
    parse_accept_signature,
)
from federation.signatures.model import PublicKeyInfo
from federation.signatures.rfc9421_signing import sign_rfc9421, signing_algorithm

KEY_ID = "https://alpha.example/actor#main-key"
URL = "https://beta.example/inbox?x=1"
BODY = b'{"type": "Create"}'
NOW = 1_800_000_000.0
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
# What a Fedify 2.x inbox sends with its InboxChallengePolicy on (nonce requested).
FEDIFY_ASK = 'sig1=("@method" "@target-uri" "@authority" "content-digest");created;nonce="n0nce"'


def test_we_ask_for_what_our_verifier_requires() -> None:
    assert (
        accept_signature_header(True) == 'sig1=("@method" "@target-uri" "content-digest");created'
    )
    assert accept_signature_header(False) == 'sig1=("@method" "@target-uri");created'
    assert accept_signature_header(False, nonce="abc") == (
        'sig1=("@method" "@target-uri");nonce="abc";created'
    )


def test_fedifys_ask_is_read_whole() -> None:
    assert parse_accept_signature(FEDIFY_ASK) == [
        SignatureAsk(
            "sig1",
            ("@method", "@target-uri", "@authority", "content-digest"),
            nonce="n0nce",
            created=True,
        )
    ]


def test_every_parameter_is_read_and_written_back_the_same() -> None:
    ask = SignatureAsk(
        "mine", ("@method", "@path", "date"), "k", "ed25519", "n", "t", created=True, expires=True
    )
    text = format_ask(ask)
    assert text == (
        'mine=("@method" "@path" "date");keyid="k";alg="ed25519";nonce="n";tag="t";created;expires'
    )
    assert parse_accept_signature(text) == [ask]


def test_several_members_keep_their_order() -> None:
    asks = parse_accept_signature('a=("@method");created, b=("@target-uri")')
    assert [(a.label, a.components, a.created) for a in asks] == [
        ("a", ("@method",), True),
        ("b", ("@target-uri",), False),
    ]


@pytest.mark.parametrize(
    "value",
    [
        'sig1=("@status" "@method")',  # response-only component (RFC 9421 section 5)
        'sig1=("@query-param";name="a")',  # component parameters: not something we sign
        "sig1=1",  # not an inner list
        "sig1=()",  # covers nothing
        'sig1=("@method" "@method")',  # a component twice
        'sig1=(a "@method")',  # a token, not a component name
        "not a dictionary (",
        'sig1=("@method"), sig1=("@path")',  # a repeated label
        "",
    ],
)
def test_asks_we_cannot_read_are_left_out(value: str) -> None:
    assert parse_accept_signature(value) == []


def test_only_the_unreadable_members_are_left_out() -> None:
    asks = parse_accept_signature('a=("@status"), b=("@method");created')
    assert [a.label for a in asks] == ["b"]


def test_parameters_of_the_wrong_type_are_ignored() -> None:
    (ask,) = parse_accept_signature('s=("@method");keyid=1;alg=tok;created=?0;expires="yes"')
    assert (ask.keyid, ask.alg, ask.created, ask.expires) == (None, None, False, False)


def test_an_overlong_header_is_not_read() -> None:
    head = 'sig1=("@method");tag="'
    value = head + "x" * (MAX_HEADER - len(head) - 1) + '"'
    assert len(value) == MAX_HEADER and parse_accept_signature(value)
    assert parse_accept_signature(value[:-1] + 'x"') == []


@pytest.mark.parametrize(
    ("ask", "with_body", "can"),
    [
        (SignatureAsk("s", ("@method", "@target-uri")), False, True),
        (SignatureAsk("s", ("@method", "content-digest")), True, True),
        (SignatureAsk("s", ("@method", "content-digest")), False, False),  # no body to digest
        (SignatureAsk("s", ("@method", "x-custom")), True, False),  # a header we do not set
        (SignatureAsk("s", ("@method",), keyid=KEY_ID), True, True),
        (SignatureAsk("s", ("@method",), keyid="https://other/#k"), True, False),
        (SignatureAsk("s", ("@method",), alg="rsa-v1_5-sha256"), True, True),
        (SignatureAsk("s", ("@method",), alg="ed25519"), True, False),
        (
            SignatureAsk(
                "s",
                ("@authority", "@scheme", "@path", "@query", "@request-target", "date", "host"),
            ),
            False,
            True,
        ),
        (SignatureAsk("s", ("content-type",)), False, True),
    ],
)
def test_which_asks_our_key_can_meet(ask: SignatureAsk, with_body: bool, can: bool) -> None:
    assert meetable(ask, KEY_ID, "rsa-v1_5-sha256", with_body=with_body) is can


def test_the_first_ask_we_can_meet_is_chosen() -> None:
    cannot = SignatureAsk("a", ("x-custom",))
    first, second = SignatureAsk("b", ("@method",)), SignatureAsk("c", ("@path",))
    assert choose_ask([cannot, first, second], KEY_ID, "ed25519", with_body=False) == first
    assert choose_ask([cannot], KEY_ID, "ed25519", with_body=False) is None


def test_the_nonce_is_not_remembered() -> None:
    (ask,) = parse_accept_signature(FEDIFY_ASK)
    assert ask.without_nonce() == SignatureAsk(ask.label, ask.components, created=True)


def test_the_algorithm_follows_the_key() -> None:
    assert signing_algorithm(RSA) == "rsa-v1_5-sha256"
    assert signing_algorithm(ed25519.Ed25519PrivateKey.generate()) == "ed25519"
    with pytest.raises(TypeError, match="RSA or Ed25519"):
        signing_algorithm(object())


async def verified(added: dict[str, str], url: str = URL, body: bytes = BODY) -> Verified:
    headers = {"Content-Type": "application/activity+json", **added}

    async def key_of(key_id: str) -> PublicKeyInfo:
        return PublicKeyInfo(key_id, "https://alpha.example/actor", RSA.public_key())

    result = await verify_request(SignedRequest("POST", url, headers, body), key_of, NOW)
    assert isinstance(result, Verified), result
    return result


async def test_a_signature_made_as_asked_covers_exactly_what_was_asked() -> None:
    (ask,) = parse_accept_signature(FEDIFY_ASK.replace(";created", ';created;tag="ap"'))
    added = sign_rfc9421("POST", URL, {}, BODY, SigningKey(KEY_ID, RSA), NOW, ask=ask)
    assert added["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "@authority" "content-digest");'
        f'created={int(NOW)};keyid="{KEY_ID}";alg="rsa-v1_5-sha256";nonce="n0nce";tag="ap"'
    )
    assert set(added) == {"Content-Digest", "Signature-Input", "Signature"}
    await verified(added)


async def test_asked_headers_are_added_and_expires_is_five_minutes_on() -> None:
    components = ("@method", "@target-uri", "content-digest", "date", "host")
    ask = SignatureAsk("s2", components, expires=True)
    added = sign_rfc9421("POST", URL, {}, BODY, SigningKey(KEY_ID, RSA), NOW, ask=ask)
    assert added["Date"] == "Fri, 15 Jan 2027 08:00:00 GMT"
    assert added["Host"] == "beta.example"
    assert f"created={int(NOW)};" in added["Signature-Input"]
    assert added["Signature-Input"].endswith(f";expires={int(NOW) + 300}")
    assert added["Signature-Input"].startswith("s2=")
    await verified(added)


async def test_without_an_ask_the_signature_is_mastodons_profile() -> None:
    """Mastodon 4.5+: one signature, `created`, and @method, @target-uri, content-digest."""
    added = sign_rfc9421(
        "POST",
        URL,
        {"Content-Type": "application/activity+json"},
        BODY,
        SigningKey(KEY_ID, RSA),
        NOW,
    )
    assert added["Signature-Input"].startswith(
        'sig1=("@method" "@target-uri" "content-digest" "content-type");created='
    )
    assert "," not in added["Signature"] and "," not in added["Signature-Input"]
    await verified(added)


def test_the_chosen_ask_is_one_our_key_id_algorithm_and_body_can_meet() -> None:
    other_key = SignatureAsk("a", ("@method",), keyid="https://other.example/#k")
    other_alg = SignatureAsk("b", ("@method",), alg="ed25519")
    digest = SignatureAsk("c", ("@method", "content-digest"))
    plain = SignatureAsk("d", ("@method",))
    asks = [other_key, other_alg, digest, plain]
    assert choose_ask(asks, KEY_ID, "rsa-v1_5-sha256", with_body=True) == digest
    assert choose_ask(asks, KEY_ID, "rsa-v1_5-sha256", with_body=False) == plain
    assert choose_ask([other_key], "https://other.example/#k", "x", with_body=False) == other_key
    assert choose_ask([other_alg], KEY_ID, "ed25519", with_body=False) == other_alg
