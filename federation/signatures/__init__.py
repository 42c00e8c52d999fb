"""HTTP signatures: draft-cavage-12 and RFC 9421, Digest and Content-Digest. Pure code.

Verification returns who signed (`Verified`) or why not (`Rejected`), never a bare bool.
"""

from federation.signatures.accept import (
    SignatureAsk,
    accept_signature_header,
    parse_accept_signature,
)
from federation.signatures.cavage import CavageSignature, parse_signature_header, sign_cavage
from federation.signatures.digests import (
    check_content_digest,
    check_digest,
    content_digest_header,
    digest_header,
    mismatched_digest,
)
from federation.signatures.http import format_http_date, parse_http_date
from federation.signatures.model import (
    KeyResolver,
    PublicKey,
    PublicKeyInfo,
    Reason,
    Rejected,
    SignedRequest,
    SigningKey,
    Verified,
)
from federation.signatures.rfc9421 import (
    SignatureInput,
    parse_signature,
    parse_signature_input,
)
from federation.signatures.rfc9421_signing import sign_rfc9421
from federation.signatures.verify import verify_request

__all__ = [
    "CavageSignature",
    "KeyResolver",
    "PublicKey",
    "PublicKeyInfo",
    "Reason",
    "Rejected",
    "SignatureAsk",
    "SignatureInput",
    "SignedRequest",
    "SigningKey",
    "Verified",
    "accept_signature_header",
    "check_content_digest",
    "check_digest",
    "content_digest_header",
    "digest_header",
    "format_http_date",
    "mismatched_digest",
    "parse_accept_signature",
    "parse_http_date",
    "parse_signature",
    "parse_signature_header",
    "parse_signature_input",
    "sign_cavage",
    "sign_rfc9421",
    "verify_request",
]
