"""The one inbound verification policy: which signature, which components, which clock."""

from __future__ import annotations

from federation.signatures import cavage, rfc9421
from federation.signatures.http import lower_headers, split_url
from federation.signatures.model import (
    KeyResolver,
    Reason,
    Rejected,
    Rejection,
    SignedRequest,
    Verified,
)
from federation.signatures.policy import (
    RequestView,
    check_body_digest,
    check_date_header,
    check_expires,
    check_window,
    resolve,
)


async def verify_request(
    req: SignedRequest,
    resolve_key: KeyResolver,
    now: float,
    *,
    skew: float = 3600.0,
    require_digest_for_body: bool = True,
) -> Verified | Rejected:
    """Who signed this request, or why it is refused.

    RFC 9421 is used when Signature-Input is present, draft-cavage otherwise. Required: a
    signed request target, host (cavage), date or created within `skew` of `now`, and a
    signed digest matching any non-empty body. BAD_SIGNATURE means the key did not verify:
    the caller may re-fetch the key once and call again.
    """
    headers = lower_headers(req.headers)
    try:
        try:
            parts = split_url(req.url, headers.get("host"))
        except ValueError:
            raise Rejection(Reason.MALFORMED, "request URL is not absolute") from None
        view = RequestView(req.method, parts, headers, req.body)
        if "signature-input" in headers:
            return await _verify_rfc9421(view, resolve_key, now, skew, require_digest_for_body)
        if "signature" in headers:
            return await _verify_cavage(view, resolve_key, now, skew, require_digest_for_body)
        return Rejected(Reason.NO_SIGNATURE, "the request is not signed")
    except Rejection as rejection:
        return rejection.result()


async def _verify_cavage(
    view: RequestView, resolve_key: KeyResolver, now: float, skew: float, need_digest: bool
) -> Verified:
    sig = cavage.parse_signature_header(view.headers["signature"])
    try:
        cavage.check_algorithm(sig.algorithm, sig.key_id)
        covered = sig.headers
        if "(request-target)" not in covered or "host" not in covered:
            raise Rejection(Reason.MISSING_COMPONENT, "(request-target) and host must be signed")
        if "date" not in covered and "(created)" not in covered:
            raise Rejection(Reason.MISSING_COMPONENT, "date or (created) must be signed")
        if "date" in covered:
            check_date_header(view, now, skew)
        if "(created)" in covered and sig.created is not None:
            check_window(float(sig.created), now, skew, "created")
        if "(expires)" in covered and sig.expires is not None:
            check_expires(float(sig.expires), now)
        check_body_digest(view, covered, need_digest)
        message = cavage.signing_string(sig, view.method, view.parts.path_query, view.headers)
        info = await resolve(resolve_key, sig.key_id)
        if cavage.verify_bytes(sig.algorithm, info.public_key, sig.signature, message.encode()):
            return Verified(info.key_id, info.owner, "cavage")
        if view.parts.query is not None:  # signers that leave the query out (Mastodon #18638)
            bare = cavage.signing_string(sig, view.method, view.parts.path or "/", view.headers)
            if cavage.verify_bytes(sig.algorithm, info.public_key, sig.signature, bare.encode()):
                return Verified(info.key_id, info.owner, "cavage")
        raise Rejection(Reason.BAD_SIGNATURE, "signature does not verify")
    except Rejection as rejection:
        rejection.key_id = rejection.key_id or sig.key_id
        raise


async def _verify_rfc9421(
    view: RequestView, resolve_key: KeyResolver, now: float, skew: float, need_digest: bool
) -> Verified:
    inputs = rfc9421.parse_signature_input(view.headers["signature-input"])
    signatures = rfc9421.parse_signature(view.headers.get("signature", ""))
    if not inputs or inputs[0].label not in signatures:
        raise Rejection(Reason.MALFORMED, "Signature-Input without a matching Signature")
    sig = inputs[0]  # like Mastodon, one signature: the first
    key_id = sig.params.get("keyid")
    if not isinstance(key_id, str) or not key_id:
        raise Rejection(Reason.MALFORMED, "keyid is required")
    try:
        alg = _check_params(sig, now, skew)
        _check_coverage(view, sig.components)
        if "date" in sig.components:
            check_date_header(view, now, skew)
        check_body_digest(view, sig.components, need_digest)
        base = rfc9421.signature_base(view, sig)
        info = await resolve(resolve_key, key_id)
        if rfc9421.verify_bytes(alg, info.public_key, signatures[sig.label], base):
            return Verified(info.key_id, info.owner, "rfc9421")
        raise Rejection(Reason.BAD_SIGNATURE, "signature does not verify")
    except Rejection as rejection:
        rejection.key_id = rejection.key_id or key_id
        raise


def _check_params(sig: rfc9421.SignatureInput, now: float, skew: float) -> str | None:
    """Validate alg, created and expires; returns the named algorithm (None: from the key)."""
    alg, created, expires = (sig.params.get(k) for k in ("alg", "created", "expires"))
    if alg is not None and (not isinstance(alg, str) or alg not in rfc9421.ALGORITHMS):
        raise Rejection(Reason.UNSUPPORTED_ALGORITHM, f"alg {alg}")
    for value in (created, expires):
        if value is not None and type(value) is not int:
            raise Rejection(Reason.MALFORMED, "created/expires must be integers")
    if created is None and "date" not in sig.components:
        raise Rejection(Reason.MISSING_COMPONENT, "created or date is required")
    if created is not None:
        check_window(float(created), now, skew, "created")
    if expires is not None:
        check_expires(float(expires), now)
    return alg


def _check_coverage(view: RequestView, components: tuple[str, ...]) -> None:
    covered = set(components)
    if "@method" not in covered:
        raise Rejection(Reason.MISSING_COMPONENT, "@method must be signed")
    if "@target-uri" in covered:
        return
    if "@authority" in covered and "@request-target" in covered:
        return
    has_query = view.parts.query is not None
    if "@authority" in covered and "@path" in covered and ("@query" in covered or not has_query):
        return
    raise Rejection(Reason.MISSING_COMPONENT, "the target URI must be signed")
