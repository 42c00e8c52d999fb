"""Signing and verification throughput, as a ratio to raw `cryptography` on the same key.

Run: .venv/bin/python -m bench.signatures [--rounds N] [--seconds S]

Each scenario signs and verifies a typical delivery (POST, ~400-byte JSON body) and compares,
in the same round, with the bare `cryptography` call that does the same public-key work on the
same key and message; the ratio (ours / raw) is what the code around the crypto costs.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from bench.common import micro_args
from federation.signatures import (
    PublicKeyInfo,
    SignedRequest,
    SigningKey,
    Verified,
    cavage,
    rfc9421,
    sign_cavage,
    sign_rfc9421,
    verify_request,
)
from federation.signatures.http import lower_headers, split_url
from federation.signatures.policy import RequestView

NOW = 1_700_000_000.0
KEY_ID = "https://alpha.example/actor#main-key"
URL = "https://beta.example/inbox"
HEADERS = {"Content-Type": "application/activity+json", "User-Agent": "federation-bench"}
BODY = (
    b'{"@context":"https://www.w3.org/ns/activitystreams","id":"https://alpha.example/a/1",'
    b'"type":"Create","actor":"https://alpha.example/actor","to":["https://www.w3.org/ns/'
    b'activitystreams#Public"],"object":{"id":"https://alpha.example/blocks/42","type":"Note",'
    b'"content":"' + b"x" * 180 + b'","attributedTo":"https://alpha.example/actor"}}'
)
_PKCS1, _SHA256 = padding.PKCS1v15(), hashes.SHA256()

Signer = Callable[..., dict[str, str]]


@dataclass(frozen=True)
class Scenario:
    name: str
    private_key: Any
    signer: Signer


def _scenarios() -> list[Scenario]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ed_key = ed25519.Ed25519PrivateKey.generate()
    return [
        Scenario("rsa2048-cavage", rsa_key, sign_cavage),
        Scenario("rsa2048-rfc9421", rsa_key, sign_rfc9421),
        Scenario("ed25519-rfc9421", ed_key, sign_rfc9421),
    ]


def _signed_message(scenario: Scenario, added: dict[str, str]) -> bytes:
    """The exact bytes our signer signed, rebuilt with the parsers, for the raw baseline."""
    headers = lower_headers({**HEADERS, **added})
    if scenario.signer is sign_cavage:
        sig = cavage.parse_signature_header(headers["signature"])
        return cavage.signing_string(sig, "POST", split_url(URL).path_query, headers).encode()
    [sig_input] = rfc9421.parse_signature_input(headers["signature-input"])
    return rfc9421.signature_base(RequestView("POST", split_url(URL), headers, BODY), sig_input)


def _raw_ops(key: Any, message: bytes) -> tuple[Callable[[], Any], Callable[[], Any]]:
    if isinstance(key, rsa.RSAPrivateKey):
        public, signature = key.public_key(), key.sign(message, _PKCS1, _SHA256)
        return (
            lambda: key.sign(message, _PKCS1, _SHA256),
            lambda: public.verify(signature, message, _PKCS1, _SHA256),
        )
    public, signature = key.public_key(), key.sign(message)
    return lambda: key.sign(message), lambda: public.verify(signature, message)


def rate(op: Callable[[], Any], seconds: float) -> float:
    """Calls of `op` per second over `seconds` (checked every ten calls)."""
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while (now := time.perf_counter()) < deadline:
        for _ in range(10):
            op()
        count += 10
    return count / (now - start)


async def _async_rate(op: Callable[[], Awaitable[Any]], seconds: float) -> float:
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while (now := time.perf_counter()) < deadline:
        for _ in range(10):
            await op()
        count += 10
    return count / (now - start)


async def _measure(scenario: Scenario, rounds: int, seconds: float) -> list[dict[str, Any]]:
    key = SigningKey(KEY_ID, scenario.private_key)
    added = scenario.signer("POST", URL, HEADERS, BODY, key, NOW)
    raw_sign, raw_verify = _raw_ops(scenario.private_key, _signed_message(scenario, added))
    info = PublicKeyInfo(KEY_ID, "https://alpha.example/actor", scenario.private_key.public_key())

    async def resolve(_key_id: str) -> PublicKeyInfo:
        return info

    request = SignedRequest("POST", URL, {**HEADERS, **added}, BODY)
    assert isinstance(await verify_request(request, resolve, NOW), Verified)
    samples: dict[str, list[tuple[float, float]]] = {"sign": [], "verify": []}
    for _ in range(rounds):
        ours = rate(lambda: scenario.signer("POST", URL, HEADERS, BODY, key, NOW), seconds)
        samples["sign"].append((ours, rate(raw_sign, seconds)))
        ours = await _async_rate(lambda: verify_request(request, resolve, NOW), seconds)
        samples["verify"].append((ours, rate(raw_verify, seconds)))
    return [_summary(scenario.name, op, pairs) for op, pairs in samples.items()]


def _summary(name: str, operation: str, pairs: list[tuple[float, float]]) -> dict[str, Any]:
    ratios = [ours / raw for ours, raw in pairs]
    return {
        "scenario": name,
        "operation": operation,
        "ours_per_s": statistics.median(o for o, _ in pairs),
        "raw_per_s": statistics.median(r for _, r in pairs),
        "ratio_median": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "rounds": len(pairs),
    }


def run(rounds: int, seconds_per_round: float) -> list[dict[str, Any]]:
    """Measure every scenario; one dict per (scenario, operation)."""

    async def all_scenarios() -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for scenario in _scenarios():
            results.extend(await _measure(scenario, rounds, seconds_per_round))
        return results

    return asyncio.run(all_scenarios())


def main() -> None:
    args = micro_args(__doc__)
    print(f"{'scenario':<17} {'op':<7} {'ours/s':>9} {'raw/s':>9} {'ratio':>6} {'spread':>13}")
    for row in run(args.rounds, args.seconds):
        spread = f"{row['ratio_min']:.2f}-{row['ratio_max']:.2f}"
        print(
            f"{row['scenario']:<17} {row['operation']:<7} {row['ours_per_s']:>9.0f} "
            f"{row['raw_per_s']:>9.0f} {row['ratio_median']:>6.2f} {spread:>13}"
        )


if __name__ == "__main__":
    main()
