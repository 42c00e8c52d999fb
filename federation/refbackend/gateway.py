"""The reference backend's calls to its gateway: report events, resolve URNs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

import aiohttp
from pydantic import ValidationError

from federation.backend.contract import GATEWAY_PREFIX, BlockEvent, ResolveResult
from federation.errors import ProblemError

# Statuses worth retrying although they are 4xx: a fixable token, timeouts, rate limits.
_RETRYABLE_4XX = frozenset({401, 403, 408, 425, 429})


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # permanent: retrying the same body cannot help
    RETRY = "retry"


@dataclass(frozen=True, slots=True)
class PostResult:
    outcome: Outcome
    error: str | None = None
    retry_after: float = 0.0


class GatewayLink:
    def __init__(
        self, session: aiohttp.ClientSession, gateway_url: str, token: str, *, timeout: float
    ) -> None:
        self._session = session
        self._base = gateway_url.rstrip("/") + GATEWAY_PREFIX
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(2.0, timeout))

    async def post_event(self, event: BlockEvent) -> PostResult:
        try:
            async with self._session.post(
                f"{self._base}/events",
                data=event.model_dump_json(),
                headers={**self._headers, "Content-Type": "application/json"},
                timeout=self._timeout,
                allow_redirects=False,
            ) as resp:
                text = (await resp.content.read(4096)).decode(errors="replace")
                return _classify(resp.status, text, resp.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as exc:
            return PostResult(Outcome.RETRY, f"gateway unreachable: {exc!r}")

    async def resolve(self, urn: str) -> ResolveResult:
        """Ask the gateway to resolve one URN; 502 problem when it cannot answer."""
        try:
            async with self._session.get(
                f"{self._base}/resolve",
                params={"urn": urn},
                headers=self._headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as resp:
                body = await resp.read()
                if resp.status != 200:
                    raise _bad_gateway(f"the gateway answered {resp.status}: {body[:300]!r}")
                return ResolveResult.model_validate(json.loads(body))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _bad_gateway(f"the gateway is unreachable: {exc!r}") from None
        except (ValueError, ValidationError) as exc:
            raise _bad_gateway(f"the gateway's answer is malformed: {exc}") from None


def _classify(status: int, text: str, retry_after: str | None) -> PostResult:
    if 200 <= status < 300:
        return PostResult(Outcome.ACCEPTED)
    error = f"gateway answered {status}: {text[:300]}"
    if 400 <= status < 500 and status not in _RETRYABLE_4XX:
        return PostResult(Outcome.REJECTED, error)
    return PostResult(Outcome.RETRY, error, _retry_after_seconds(retry_after))


def _retry_after_seconds(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0  # an HTTP date: fall back to our own backoff


def _bad_gateway(detail: str) -> ProblemError:
    return ProblemError(502, "Gateway unavailable", detail)
