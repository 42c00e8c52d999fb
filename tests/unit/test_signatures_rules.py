"""What a signature must bind and when it is valid: the target (host included), the key id,
and the clock window, pinned at its exact edges."""

from __future__ import annotations

from typing import Any

import pytest

from federation.signatures import (
    Reason,
    Rejected,
    SignedRequest,
    SigningKey,
    Verified,
    content_digest_header,
    rfc9421,
    sign_cavage,
    sign_rfc9421,
    verify_request,
)
from federation.signatures.http import split_url
from federation.signatures.model import Rejection
from federation.signatures.policy import RequestView, check_expires, check_window
from tests.support.signing import (
    EC,
    ED,
    KEY_ID,
    NOW,
    OWNER,
    cavage,
    ed25519_sign,
    resolver,
    rfc,
    verify,
)

CAVAGE_OK = Verified(KEY_ID, OWNER, "cavage")
RFC_OK = Verified(KEY_ID, OWNER, "rfc9421")
SKEW = 3600


def refused(result: Verified | Rejected, reason: Reason) -> bool:
    return isinstance(result, Rejected) and result.reason is reason


# --- RFC 9421: the target URI, host included ---


@pytest.mark.parametrize(
    ("components", "url"),
    [
        (("@method", "@target-uri"), "https://beta.example/inbox?x=1"),
        (("@method", "@authority", "@request-target"), "https://beta.example/inbox?x=1"),
        (("@method", "@authority", "@path", "@query"), "https://beta.example/inbox?x=1"),
        (("@method", "@authority", "@path"), "https://beta.example/inbox"),  # no query to bind
    ],
)
async def test_rfc9421_target_bound_with_its_host_verifies(
    components: tuple[str, ...], url: str
) -> None:
    req = rfc(ed25519_sign, components=components, url=url)
    assert await verify(req, ED.public_key()) == RFC_OK


@pytest.mark.parametrize(
    ("components", "url"),
    [
        (("@method", "@request-target"), "https://beta.example/inbox"),  # any host would do
        (("@method", "@path", "@query"), "https://beta.example/inbox?x=1"),
        (("@method", "@path"), "https://beta.example/inbox"),
        (("@method", "@authority"), "https://beta.example/inbox"),  # any path would do
        (("@method", "@authority", "@path"), "https://beta.example/inbox?x=1"),
        (("@method", "@authority", "@query"), "https://beta.example/inbox?x=1"),
        (("@target-uri",), "https://beta.example/inbox"),  # any method would do
        (("@authority", "@request-target"), "https://beta.example/inbox"),
    ],
)
async def test_rfc9421_signature_that_does_not_bind_the_target_is_refused(
    components: tuple[str, ...], url: str
) -> None:
    req = rfc(ed25519_sign, components=components, url=url)
    assert refused(await verify(req, ED.public_key()), Reason.MISSING_COMPONENT)


# --- RFC 9421: keyid ---


@pytest.mark.parametrize("keyid", ["", 7, None], ids=["empty", "integer", "absent"])
async def test_rfc9421_keyid_must_be_a_non_empty_string(keyid: str | int | None) -> None:
    params: dict[str, int | str] = {"created": NOW}
    if keyid is not None:
        params["keyid"] = keyid
    req = rfc(ed25519_sign, params=params)
    assert refused(await verify(req, ED.public_key()), Reason.MALFORMED)


async def test_rfc9421_with_a_body_needs_a_signed_digest_and_verifies_with_one() -> None:
    body = b'{"type":"Follow"}'
    digest = {"Content-Digest": content_digest_header(body)}
    comps = ("@method", "@target-uri", "content-digest")
    signed = rfc(ed25519_sign, components=comps, method="POST", headers=digest, body=body)
    assert await verify(signed, ED.public_key()) == RFC_OK
    unsigned = rfc(ed25519_sign, method="POST", headers=digest, body=body)
    assert refused(await verify(unsigned, ED.public_key()), Reason.MISSING_COMPONENT)


# --- draft-cavage: (created) and (expires) ---


@pytest.mark.parametrize(
    ("created", "reason"),
    [
        (NOW - SKEW - 1, Reason.EXPIRED),
        (NOW + SKEW + 1, Reason.FUTURE),
        (NOW - SKEW, None),  # the window's edges are inside it
        (NOW + SKEW, None),
    ],
)
async def test_cavage_created_must_be_within_the_clock_window(
    created: int, reason: Reason | None
) -> None:
    req = cavage(ed25519_sign, created=created)
    result = await verify(req, ED.public_key())
    assert result == CAVAGE_OK if reason is None else refused(result, reason)


async def test_cavage_created_covered_but_not_sent_is_refused() -> None:
    req = cavage(ed25519_sign, created=NOW)
    header = req.headers["Signature"].replace(f"created={NOW},", "")
    forged = SignedRequest(req.method, req.url, {**req.headers, "Signature": header}, req.body)
    assert refused(await verify(forged, ED.public_key()), Reason.MISSING_COMPONENT)


async def test_cavage_created_that_is_not_signed_does_not_matter() -> None:
    """Only covered values are trusted; an unsigned, stale `created` is ignored (Date rules)."""
    date = "Tue, 14 Nov 2023 22:13:20 GMT"  # NOW
    req = cavage(
        ed25519_sign,
        covered=("(request-target)", "host", "date"),
        created=NOW - 10 * SKEW,
        headers={"Date": date},
    )
    assert await verify(req, ED.public_key()) == CAVAGE_OK


@pytest.mark.parametrize(("expires", "ok"), [(NOW, True), (NOW - 1, False)])
async def test_cavage_expires_is_valid_up_to_its_second(expires: int, ok: bool) -> None:
    covered = ("(request-target)", "host", "(created)", "(expires)")
    req = cavage(ed25519_sign, covered=covered, expires=expires)
    result = await verify(req, ED.public_key())
    assert result == CAVAGE_OK if ok else refused(result, Reason.EXPIRED)


async def test_cavage_expires_not_signed_does_not_matter() -> None:
    req = cavage(ed25519_sign, expires=NOW - 100)
    assert await verify(req, ED.public_key()) == CAVAGE_OK


# --- RFC 9421: created and expires ---


@pytest.mark.parametrize(
    ("created", "reason"),
    [
        (NOW - SKEW - 1, Reason.EXPIRED),
        (NOW + SKEW + 1, Reason.FUTURE),
        (NOW - SKEW, None),
        (NOW + SKEW, None),
    ],
)
async def test_rfc9421_created_must_be_within_the_clock_window(
    created: int, reason: Reason | None
) -> None:
    req = rfc(ed25519_sign, params={"created": created, "keyid": KEY_ID})
    result = await verify(req, ED.public_key())
    assert result == RFC_OK if reason is None else refused(result, reason)


@pytest.mark.parametrize(("expires", "ok"), [(NOW, True), (NOW - 1, False)])
async def test_rfc9421_expires_is_valid_up_to_its_second(expires: int, ok: bool) -> None:
    req = rfc(ed25519_sign, params={"created": NOW, "keyid": KEY_ID, "expires": expires})
    result = await verify(req, ED.public_key())
    assert result == RFC_OK if ok else refused(result, Reason.EXPIRED)


@pytest.mark.parametrize("name", ["created", "expires"])
async def test_rfc9421_created_and_expires_must_be_integers(name: str) -> None:
    params: dict[str, int | str] = {"created": NOW, "keyid": KEY_ID, name: str(NOW)}
    req = rfc(ed25519_sign, params=params)
    assert refused(await verify(req, ED.public_key()), Reason.MALFORMED)


async def test_rfc9421_date_covered_instead_of_created() -> None:
    date = {"Date": "Tue, 14 Nov 2023 22:13:20 GMT"}
    req = rfc(
        ed25519_sign,
        components=("@method", "@target-uri", "date"),
        params={"keyid": KEY_ID},
        headers=date,
    )
    assert await verify(req, ED.public_key()) == RFC_OK
    assert refused(await verify(req, ED.public_key(), NOW + SKEW + 1), Reason.EXPIRED)


# --- the window itself ---


def test_window_edges_belong_to_the_window() -> None:
    check_window(NOW + SKEW, NOW, SKEW, "created")
    check_window(NOW - SKEW, NOW, SKEW, "created")
    check_expires(NOW, NOW)


@pytest.mark.parametrize(
    ("timestamp", "reason"),
    [(NOW + SKEW + 0.5, Reason.FUTURE), (NOW - SKEW - 0.5, Reason.EXPIRED)],
)
def test_window_refuses_just_outside(timestamp: float, reason: Reason) -> None:
    with pytest.raises(Rejection) as info:
        check_window(timestamp, NOW, SKEW, "created")
    assert info.value.reason is reason
    assert info.value.detail.startswith("created ")


def test_expires_refuses_just_after() -> None:
    with pytest.raises(Rejection) as info:
        check_expires(NOW - 0.5, NOW)
    assert info.value.reason is Reason.EXPIRED


# --- each refusal says what was wrong (the inbox returns it as the problem's detail) ---


@pytest.mark.parametrize(
    ("components", "params", "reason", "detail"),
    [
        (
            None,
            {"created": NOW, "keyid": KEY_ID, "alg": "hmac-sha256"},
            Reason.UNSUPPORTED_ALGORITHM,
            "alg hmac-sha256",
        ),
        (
            None,
            {"created": str(NOW), "keyid": KEY_ID},
            Reason.MALFORMED,
            "created/expires must be integers",
        ),
        (None, {"keyid": KEY_ID}, Reason.MISSING_COMPONENT, "created or date is required"),
        (None, {"created": NOW - SKEW - 1, "keyid": KEY_ID}, Reason.EXPIRED, "created is too old"),
        (
            None,
            {"created": NOW + SKEW + 1, "keyid": KEY_ID},
            Reason.FUTURE,
            "created is in the future",
        ),
        (("@target-uri",), None, Reason.MISSING_COMPONENT, "@method must be signed"),
        (("@method", "@path"), None, Reason.MISSING_COMPONENT, "the target URI must be signed"),
    ],
)
async def test_rfc9421_refusals_say_what_was_wrong(
    components: tuple[str, ...] | None,
    params: dict[str, int | str] | None,
    reason: Reason,
    detail: str,
) -> None:
    req = rfc(ed25519_sign, components=components or ("@method", "@target-uri"), params=params)
    assert await verify(req, ED.public_key()) == Rejected(reason, detail, KEY_ID)


# --- RFC 9421: one query parameter (@query-param, section 2.2.8) and the signing side ---


def base_lines(url: str, components: str, status: int | None = None) -> list[str]:
    """The signature base lines of the covered components, for a GET of `url` (or its
    response, with `status`)."""
    (sig,) = rfc9421.parse_signature_input(f"sig1=({components});created={NOW}")
    view = RequestView("GET", split_url(url), {"accept": "text/html"}, b"", status)
    return rfc9421.signature_base(view, sig).decode().split("\n")[:-1]


def test_query_param_values_as_rfc9421_encodes_them() -> None:
    """The section 2.2.8 examples: decoded, then re-encoded (space %20, "/" %2F, "~" %7E,
    "*" kept); an empty value is a value."""
    url = "https://beta.example/p?var=this%20is%20a%20big%0Avalue&bar=with+plus+whitespace&qux="
    url += "&fa%C3%A7ade%22%3A%20=something&s=a/b*c~d"
    names = ("var", "bar", "qux", "fa%C3%A7ade%22%3A%20", "s")
    components = " ".join(f'"@query-param";name="{n}"' for n in names)
    assert base_lines(url, components) == [
        '"@query-param";name="var": this%20is%20a%20big%0Avalue',
        '"@query-param";name="bar": with%20plus%20whitespace',
        '"@query-param";name="qux": ',
        '"@query-param";name="fa%C3%A7ade%22%3A%20": something',
        '"@query-param";name="s": a%2Fb*c%7Ed',
    ]


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://beta.example/p?a=1", "b"),  # absent
        ("https://beta.example/p?a=1&a=2", "a"),  # repeated: which one was signed?
        ("https://beta.example/p", "a"),  # no query at all
        ("https://beta.example/p", "XXXX"),
    ],
)
def test_query_param_absent_or_repeated_is_a_missing_component(url: str, name: str) -> None:
    with pytest.raises(Rejection) as info:
        base_lines(url, f'"@query-param";name="{name}"')
    assert (info.value.reason, info.value.detail) == (
        Reason.MISSING_COMPONENT,
        f"query parameter {name} absent or repeated",
    )


@pytest.mark.parametrize(
    "component",
    ['"@query-param";key="a"', '"@query-param";name="a";tr', '"@query-param";name=7'],
)
def test_query_param_needs_exactly_a_name(component: str) -> None:
    with pytest.raises(Rejection) as info:
        base_lines("https://beta.example/p?a=1", component)
    assert (info.value.reason, info.value.detail) == (
        Reason.MALFORMED,
        "@query-param needs exactly a name",
    )


async def test_key_id_with_quotes_and_backslashes_is_escaped_and_verifies() -> None:
    key_id = 'https://alpha.example/actor#k"1\\2'
    added = sign_rfc9421("GET", "https://beta.example/inbox", {}, None, SigningKey(key_id, ED), NOW)
    assert added["Signature-Input"].endswith(
        ';keyid="https://alpha.example/actor#k\\"1\\\\2";alg="ed25519"'
    )
    req = SignedRequest("GET", "https://beta.example/inbox", added, b"")
    result = await verify_request(req, resolver(ED.public_key(), key_id), NOW)
    assert result == Verified(key_id, OWNER, "rfc9421")


def test_key_id_must_be_printable_ascii_to_be_signed() -> None:
    key = SigningKey("https://alpha.example/acteur#clé", ED)
    with pytest.raises(ValueError, match=r"^a structured-field string must be printable ASCII$"):
        sign_rfc9421("GET", "https://beta.example/inbox", {}, None, key, NOW)


async def test_signing_a_path_binds_the_host_header_as_authority() -> None:
    key = SigningKey(KEY_ID, ED)
    added = sign_rfc9421("GET", "/inbox", {"Host": "beta.example"}, None, key, NOW)
    req = SignedRequest("GET", "https://beta.example/inbox", added, b"")
    assert await verify(req, ED.public_key()) == RFC_OK


# --- RFC 9421: the value of each component (section 2) ---


@pytest.mark.parametrize(
    ("url", "component", "line"),
    [
        ("https://beta.example?x=1", "@path", '"@path": /'),  # an empty path is "/"
        ("https://beta.example/p", "@query", '"@query": ?'),  # no query: just "?"
        ("https://beta.example/p?", "@query", '"@query": ?'),
        ("https://beta.example/p?x=1", "@query", '"@query": ?x=1'),
        ("HTTPS://beta.example/p", "@scheme", '"@scheme": https'),
        ("https://beta.example/p", "accept", '"accept": text/html'),
    ],
)
def test_component_values(url: str, component: str, line: str) -> None:
    assert base_lines(url, f'"{component}"') == [line]


def test_status_is_a_response_component() -> None:
    assert base_lines("https://beta.example/p", '"@status"', status=202) == ['"@status": 202']


@pytest.mark.parametrize(
    ("components", "status", "expected"),
    [
        ('"@status"', None, (Reason.MALFORMED, "unsupported derived component @status")),
        ('"@signature"', None, (Reason.MALFORMED, "unsupported derived component @signature")),
        ('"@signature"', 200, (Reason.MALFORMED, "unsupported derived component @signature")),
        ('"x-absent"', None, (Reason.MISSING_COMPONENT, "x-absent is covered but absent")),
        ('"@method" "@method"', None, (Reason.MALFORMED, "a component is covered twice")),
        ('"@path" "@path";bs', None, (Reason.MALFORMED, "unsupported parameters on @path")),
        (
            '"@query-param";name="a" "@query-param";name="a"',
            None,
            (Reason.MALFORMED, "a component is covered twice"),
        ),
    ],
)
def test_components_that_cannot_be_signed(
    components: str, status: int | None, expected: tuple[Reason, str]
) -> None:
    with pytest.raises(Rejection) as info:
        base_lines("https://beta.example/p?a=1", components, status)
    assert (info.value.reason, info.value.detail) == expected


@pytest.mark.parametrize("sign", [sign_rfc9421, sign_cavage])
def test_only_rsa_and_ed25519_keys_sign(sign: Any) -> None:
    key = SigningKey(KEY_ID, EC)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^signing key must be RSA or Ed25519$"):
        sign("GET", "https://beta.example/inbox", {}, None, key, NOW)


def test_component_parameters_must_line_up_with_the_components() -> None:
    """A SignatureInput built by hand with one parameter set too few is a programming error,
    not a shorter signature base."""
    sig = rfc9421.SignatureInput("sig1", ("@method", "@path"), {}, '("@method" "@path")', ({},))
    view = RequestView("GET", split_url("https://beta.example/p"), {}, b"")
    with pytest.raises(ValueError, match="zip"):
        rfc9421.signature_base(view, sig)


async def test_non_ascii_signature_base_is_malformed() -> None:
    req = rfc(
        ed25519_sign, components=("@method", "@target-uri", "x-name"), headers={"X-Name": "a"}
    )
    sent = SignedRequest(req.method, req.url, {**req.headers, "X-Name": "\u00e9"}, b"")
    expected = Rejected(Reason.MALFORMED, "non-ASCII signature base", KEY_ID)
    assert await verify(sent, ED.public_key()) == expected


def test_a_repeated_content_digest_is_tolerated_as_fedify_sends_it() -> None:
    """Fedify 2.x answers an Accept-Signature naming content-digest with content-digest
    covered twice: the base repeats its line, as the signer built it. Only that repeat."""
    (sig,) = rfc9421.parse_signature_input(
        f'sig1=("@method" "content-digest" "content-digest");created={NOW}'
    )
    view = RequestView("POST", split_url("https://beta.example/p"), {"content-digest": "d"}, b"")
    lines = rfc9421.signature_base(view, sig).decode().split("\n")
    assert lines[:3] == ['"@method": POST', '"content-digest": d', '"content-digest": d']
    with pytest.raises(Rejection, match="covered twice"):
        base_lines("https://beta.example/p", '"accept" "accept"')
    with pytest.raises(Rejection, match="covered twice"):
        base_lines("https://beta.example/p", '"@method" "@path" "@method"')


def test_the_repeat_rule_is_the_same_on_the_full_parsing_path() -> None:
    """A Signature-Input the fast parser does not take (spaces inside the list) goes through
    http_sf, which keeps component parameters: the same repeats are refused and tolerated."""
    view = RequestView("POST", split_url("https://beta.example/p"), {"content-digest": "d"}, b"")
    (sig,) = rfc9421.parse_signature_input(
        f'sig1=( "@method" "content-digest" "content-digest" );created={NOW}'
    )
    assert sig.component_params is not None  # the full parser's path
    lines = rfc9421.signature_base(view, sig).decode().split("\n")
    assert lines[1:3] == ['"content-digest": d', '"content-digest": d']
    (twice,) = rfc9421.parse_signature_input(f'sig1=( "@method" "@method" );created={NOW}')
    with pytest.raises(Rejection, match="covered twice"):
        rfc9421.signature_base(view, twice)
