"""Edges of the shared checks: a digest is only as good as its algorithm label, a digest that is
sent must be true whether or not it is signed, @authority is normalised exactly as RFC 9421
says, and the clock window and `expires` are inclusive at their edges."""

from __future__ import annotations

import base64
import calendar
import hashlib
from collections.abc import Callable
from typing import Any, cast

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from multidict import CIMultiDict

from federation.signatures import (
    Reason,
    check_digest,
    content_digest_header,
    digest_header,
    format_http_date,
    mismatched_digest,
    parse_http_date,
    parse_signature_header,
    sign_cavage,
)
from federation.signatures.cavage import CavageSignature, check_algorithm, signing_string
from federation.signatures.http import UrlParts, lower_headers, split_url
from federation.signatures.model import PublicKeyInfo, Rejection, SigningKey
from federation.signatures.policy import (
    RequestView,
    check_body_digest,
    check_date_header,
    check_expires,
    check_window,
    resolve,
)

BODY = b'{"type":"Create"}'
SHA256 = base64.b64encode(hashlib.sha256(BODY).digest()).decode()
OTHER = b'{"type":"Delete"}'
ED_KEY = Ed25519PrivateKey.generate()
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)

# --- Digest (RFC 3230): the label names the algorithm the value was made with ---


def test_a_sha256_value_under_the_sha512_label_does_not_match() -> None:
    assert check_digest(f"SHA-512={SHA256}", BODY) is Reason.DIGEST_MISMATCH


def test_a_sha256_value_under_an_unsupported_label_is_not_accepted() -> None:
    # SHA-384 is not one we compute, so nothing was checked: the value proves nothing.
    assert check_digest(f"SHA-384={SHA256}", BODY) is Reason.UNSUPPORTED_ALGORITHM


@pytest.mark.parametrize("prefix", ["A", "="], ids=["extra-character", "extra-padding"])
def test_a_sha256_value_with_a_leading_extra_character_is_refused(prefix: str) -> None:
    assert check_digest(f"SHA-256={prefix}{SHA256}", BODY) in (
        Reason.MALFORMED,
        Reason.DIGEST_MISMATCH,
    )


@pytest.mark.parametrize("label", ["SHA-256", "sha-256", "Sha-256"])
def test_the_sha256_label_is_case_insensitive(label: str) -> None:
    assert check_digest(f"{label}={SHA256}", BODY) is None


# --- a digest that is sent must be true, signed or not ---


@pytest.mark.parametrize("name", ["Digest", "digest", "DIGEST"])
def test_a_wrong_digest_header_is_named_whatever_its_case(name: str) -> None:
    assert mismatched_digest({name: digest_header(OTHER)}, BODY) == "Digest"


@pytest.mark.parametrize("name", ["Content-Digest", "content-digest", "CONTENT-DIGEST"])
def test_a_wrong_content_digest_header_is_named_whatever_its_case(name: str) -> None:
    assert mismatched_digest({name: content_digest_header(OTHER)}, BODY) == "Content-Digest"


def test_malformed_digests_count_as_not_matching() -> None:
    assert mismatched_digest({"Digest": "SHA-256"}, BODY) == "Digest"
    assert mismatched_digest({"Content-Digest": "sha-256=nope"}, BODY) == "Content-Digest"


def test_true_digests_and_other_headers_are_not_reported() -> None:
    headers = {
        "Content-Type": "application/activity+json",
        "Digest": digest_header(BODY),
        "Content-Digest": content_digest_header(BODY, "sha-512"),
        "X-Digest": "not a digest",
    }
    assert mismatched_digest(headers, BODY) is None
    assert mismatched_digest({}, BODY) is None


def test_a_true_digest_does_not_excuse_a_false_one_after_it() -> None:
    good_then_bad = {"Digest": digest_header(BODY), "Content-Digest": content_digest_header(OTHER)}
    assert mismatched_digest(good_then_bad, BODY) == "Content-Digest"
    bad_second = {"Content-Digest": content_digest_header(BODY), "Digest": digest_header(OTHER)}
    assert mismatched_digest(bad_second, BODY) == "Digest"


# --- @authority (RFC 9421 section 2.2.3): lower-case host, default port dropped ---


@pytest.mark.parametrize(
    ("url", "authority"),
    [
        ("https://Beta.EXAMPLE/inbox", "beta.example"),
        ("https://Beta.EXAMPLE:443/inbox", "beta.example"),
        ("http://Beta.EXAMPLE:80/inbox", "beta.example"),
        ("https://Beta.EXAMPLE:80/inbox", "beta.example:80"),
        ("http://Beta.EXAMPLE:443/inbox", "beta.example:443"),
        ("https://Beta.EXAMPLE:8443/inbox", "beta.example:8443"),
        ("https://[2001:DB8::ABCD]/inbox", "[2001:db8::abcd]"),
        ("https://[2001:DB8::ABCD]:443/inbox", "[2001:db8::abcd]"),
        ("https://[2001:DB8::ABCD]:8443/inbox", "[2001:db8::abcd]:8443"),
    ],
)
def test_authority_is_normalised(url: str, authority: str) -> None:
    assert split_url(url).normalised_authority == authority


# --- the clock window [now - skew, now + skew] and expires are inclusive ---

NOW = 1_700_000_000.0
SKEW = 300.0


@pytest.mark.parametrize("timestamp", [NOW - SKEW, NOW, NOW + SKEW])
def test_a_signing_time_on_the_window_edge_is_accepted(timestamp: float) -> None:
    check_window(timestamp, NOW, SKEW, "created")


def test_a_signing_time_just_past_the_window_is_future_or_too_old() -> None:
    with pytest.raises(Rejection) as future:
        check_window(NOW + SKEW + 1, NOW, SKEW, "created")
    assert (future.value.reason, future.value.detail) == (
        Reason.FUTURE,
        "created is in the future",
    )
    with pytest.raises(Rejection) as old:
        check_window(NOW - SKEW - 1, NOW, SKEW, "Date")
    assert (old.value.reason, old.value.detail) == (Reason.EXPIRED, "Date is too old")


def test_a_signature_expiring_now_is_still_valid_and_a_second_later_is_not() -> None:
    check_expires(NOW, NOW)
    with pytest.raises(Rejection) as info:
        check_expires(NOW - 1, NOW)
    assert (info.value.reason, info.value.detail) == (Reason.EXPIRED, "signature expired")


# --- each shared refusal says what was wrong (the inbox returns it as the problem's detail) ---


def view(headers: dict[str, str], body: bytes = BODY) -> RequestView:
    return RequestView("POST", split_url("https://beta.example/inbox"), headers, body)


def refusal(call: Callable[[], object]) -> tuple[Reason, str]:
    with pytest.raises(Rejection) as info:
        call()
    return info.value.reason, info.value.detail


@pytest.mark.parametrize(
    ("headers", "now", "expected"),
    [
        ({}, NOW, (Reason.MISSING_COMPONENT, "date is covered but absent")),
        ({"date": "yesterday"}, NOW, (Reason.MALFORMED, "unparsable Date header")),
        ({"date": format_http_date(NOW)}, NOW + SKEW + 1, (Reason.EXPIRED, "Date is too old")),
        ({"date": format_http_date(NOW)}, NOW - SKEW - 1, (Reason.FUTURE, "Date is in the future")),
    ],
    ids=["absent", "unparsable", "old", "future"],
)
def test_date_header_refusals(headers: dict[str, str], now: float, expected: object) -> None:
    assert refusal(lambda: check_date_header(view(headers), now, SKEW)) == expected


def test_a_date_header_inside_the_window_passes() -> None:
    check_date_header(view({"date": format_http_date(NOW)}), NOW + SKEW, SKEW)


@pytest.mark.parametrize("name", ["digest", "content-digest"])
def test_a_covered_digest_that_is_absent_or_false_is_refused(name: str) -> None:
    absent = refusal(lambda: check_body_digest(view({}), [name], required=True))
    assert absent == (Reason.MISSING_COMPONENT, f"{name} is covered but absent")
    header = digest_header(OTHER) if name == "digest" else content_digest_header(OTHER)
    false = refusal(lambda: check_body_digest(view({name: header}), [name], required=True))
    assert false == (Reason.DIGEST_MISMATCH, f"{name} does not match the body")


def test_a_body_needs_a_covered_digest_only_when_required() -> None:
    unsigned = view({"digest": digest_header(BODY)})
    assert refusal(lambda: check_body_digest(unsigned, ["date"], required=True)) == (
        Reason.MISSING_COMPONENT,
        "a body needs a signed Digest or Content-Digest",
    )
    check_body_digest(unsigned, ["date"], required=False)
    check_body_digest(view({}, b""), ["date"], required=True)  # no body, nothing to digest
    check_body_digest(unsigned, ["digest"], required=True)


async def test_an_unknown_key_is_refused_naming_the_key_id() -> None:
    async def nobody(key_id: str) -> PublicKeyInfo | None:
        return None

    with pytest.raises(Rejection) as info:
        await resolve(nobody, "https://alpha.example/actor#main-key")
    assert info.value.reason is Reason.KEY_NOT_FOUND
    assert info.value.detail == "no key for this keyId"
    assert info.value.key_id == "https://alpha.example/actor#main-key"


# --- IMF-fixdate arithmetic agrees with the calendar across century (non-)leap years ---


@pytest.mark.parametrize("year", [1700, 1800, 1900, 1970, 2000, 2024, 2100, 2200, 2201, 2300, 2400])
@pytest.mark.parametrize(("month", "day"), [(2, 28), (3, 1), (12, 31)])
def test_an_imf_fixdate_round_trips_in_any_century(year: int, month: int, day: int) -> None:
    seconds = calendar.timegm((year, month, day, 12, 34, 56))
    assert parse_http_date(format_http_date(seconds)) == seconds


# --- request parts: repeated fields, empty paths, path-only URLs ---


def test_repeated_header_fields_are_joined_in_order_and_trimmed() -> None:
    fields = CIMultiDict([("Accept", " a "), ("ACCEPT", "b"), ("Host", "beta.example")])
    assert lower_headers(fields) == {"accept": "a, b", "host": "beta.example"}


@pytest.mark.parametrize(
    ("url", "path_query"),
    [
        ("https://beta.example", "/"),
        ("https://beta.example?x=1", "/?x=1"),
        ("https://beta.example/inbox?", "/inbox?"),
        ("https://beta.example/inbox", "/inbox"),
    ],
)
def test_an_empty_path_is_the_root(url: str, path_query: str) -> None:
    assert split_url(url).path_query == path_query


def test_a_path_only_url_takes_the_given_host_and_drops_the_fragment() -> None:
    assert split_url("/inbox?x=1#top", "Beta.example") == UrlParts(
        "https", "Beta.example", "/inbox", "x=1"
    )
    assert split_url("/inbox#top", None) == UrlParts("https", "", "/inbox", None)
    # the first "?" starts the query and the first "#" the fragment, as in a full URL
    assert split_url("/inbox?x=1?y=2#a#b", "beta.example").query == "x=1?y=2"
    assert split_url("/inbox#a#b", "beta.example").path == "/inbox"
    assert split_url("https://beta.example/inbox?x=1?y=2#a").query == "x=1?y=2"


@pytest.mark.parametrize("url", ["beta.example/inbox", "", "://beta.example/"])
def test_a_relative_url_is_refused_saying_so(url: str) -> None:
    with pytest.raises(ValueError, match=r"^not an absolute URL$"):
        split_url(url)


# --- draft-cavage signing: exactly the headers a peer is sent ---

SIGNED_BODY = b'{"type":"Create"}'


def test_a_cavage_signature_covers_target_host_date_digest_and_content_type() -> None:
    """Ed25519 signatures are deterministic, so the whole Signature header can be written out."""
    key = Ed25519PrivateKey.generate()
    added = sign_cavage(
        "POST",
        "https://beta.example/inbox?page=2",
        {"Content-Type": "application/activity+json"},
        SIGNED_BODY,
        SigningKey("https://alpha.example/actor#main-key", key),
        NOW,
    )
    date = format_http_date(NOW)
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(SIGNED_BODY).digest()).decode()
    signed = (
        f"(request-target): post /inbox?page=2\nhost: beta.example\ndate: {date}\n"
        f"digest: {digest}\ncontent-type: application/activity+json"
    )
    signature = base64.b64encode(key.sign(signed.encode())).decode()
    assert added == {
        "Host": "beta.example",
        "Date": date,
        "Digest": digest,
        "Signature": 'keyId="https://alpha.example/actor#main-key",algorithm="hs2019",'
        f'headers="(request-target) host date digest content-type",signature="{signature}"',
    }


def test_a_cavage_signature_without_a_body_covers_no_digest() -> None:
    key = Ed25519PrivateKey.generate()
    for body in (None, b""):
        added = sign_cavage("GET", "https://beta.example/", {}, body, SigningKey("k", key), NOW)
        signed = f"(request-target): get /\nhost: beta.example\ndate: {format_http_date(NOW)}"
        assert added == {
            "Host": "beta.example",
            "Date": format_http_date(NOW),
            "Signature": 'keyId="k",algorithm="hs2019",headers="(request-target) host date",'
            f'signature="{base64.b64encode(key.sign(signed.encode())).decode()}"',
        }


def test_a_cavage_signature_without_a_content_type_covers_the_digest_alone() -> None:
    added = sign_cavage(
        "POST", "https://beta.example/inbox", {}, SIGNED_BODY, SigningKey("k", ED_KEY), NOW
    )
    assert parse_signature_header(added["Signature"]).headers == (
        "(request-target)",
        "host",
        "date",
        "digest",
    )


def test_a_cavage_signature_signs_the_host_header_it_is_given() -> None:
    """A Host header the caller sets (any case) is the one signed and sent, not the URL's."""
    added = sign_cavage(
        "GET",
        "https://10.0.0.7:8443/x",
        {"HOST": "beta.example"},
        None,
        SigningKey("k", ED_KEY),
        NOW,
    )
    sig = parse_signature_header(added["Signature"])
    assert added["Host"] == "beta.example"
    text = signing_string(sig, "GET", "/x", {"host": "beta.example", "date": added["Date"]})
    ED_KEY.public_key().verify(sig.signature, text.encode())


def test_an_rsa_cavage_signature_is_labelled_rsa_sha256() -> None:
    added = sign_cavage("GET", "https://beta.example/x", {}, None, SigningKey("k", RSA_KEY), NOW)
    sig = parse_signature_header(added["Signature"])
    assert sig.algorithm == "rsa-sha256"
    text = signing_string(sig, "GET", "/x", {"host": "beta.example", "date": added["Date"]})
    RSA_KEY.public_key().verify(sig.signature, text.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_only_rsa_and_ed25519_keys_make_cavage_signatures() -> None:
    ec_key = cast(Any, ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(TypeError, match=r"^signing key must be RSA or Ed25519$"):
        sign_cavage("GET", "https://beta.example/", {}, None, SigningKey("k", ec_key), NOW)


@pytest.mark.parametrize("key_id", ['https://a.example/"odd"#k', "https://a.example/a\\b#k"])
def test_a_key_id_with_quotes_or_backslashes_reads_back_as_written(key_id: str) -> None:
    added = sign_cavage("GET", "https://beta.example/", {}, None, SigningKey(key_id, ED_KEY), NOW)
    assert parse_signature_header(added["Signature"]).key_id == key_id


# --- draft-cavage: the signed text and the algorithm labels ---


def test_the_signing_string_has_one_line_per_covered_component_in_order() -> None:
    sig = CavageSignature(
        "k", None, ("(expires)", "(request-target)", "date", "(created)"), b"", "10", "20"
    )
    text = signing_string(sig, "DELETE", "/a?b", {"date": "D"})
    assert text == "(expires): 20\n(request-target): delete /a?b\ndate: D\n(created): 10"


@pytest.mark.parametrize("missing", ["(created)", "(expires)", "digest"])
def test_a_covered_component_that_is_absent_is_named(missing: str) -> None:
    sig = CavageSignature("k", None, ("date", missing), b"", None, None)
    with pytest.raises(Rejection) as info:
        signing_string(sig, "GET", "/", {"date": "D"})
    assert (info.value.reason, info.value.detail, info.value.key_id) == (
        Reason.MISSING_COMPONENT,
        f"{missing} is covered but absent",
        "k",
    )


@pytest.mark.parametrize("algorithm", [None, "rsa-sha256", "rsa-sha512", "hs2019", "ed25519"])
def test_known_cavage_algorithms_pass(algorithm: str | None) -> None:
    check_algorithm(algorithm, "k")


@pytest.mark.parametrize("algorithm", ["rsa-sha1", "hmac-sha256", "", "RSA-SHA256"])
def test_other_cavage_algorithms_are_refused_by_name(algorithm: str) -> None:
    """The header parser lower-cases the label first; check_algorithm sees what it is given."""
    with pytest.raises(Rejection) as info:
        check_algorithm(algorithm, "k")
    assert (info.value.reason, info.value.detail, info.value.key_id) == (
        Reason.UNSUPPORTED_ALGORITHM,
        f"algorithm {algorithm}",
        "k",
    )
