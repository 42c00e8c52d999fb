"""The gateway's client for its local backend (gateway -> backend half of the contract).

Every failure that is not an answer we can use (connection refused, timeout, 5xx, redirect,
unparsable body) raises BackendError, which the web layer turns into 503. A 4xx raises
BackendRejected (a BackendError) so a queue can tell "retry later" from "will never work".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel, ValidationError

from federation.backend.contract import (
    API_PREFIX,
    MAX_PAGE_LIMIT,
    BackendBlock,
    BlockPage,
    InboundNotification,
)
from federation.errors import BackendError

CONNECT_TIMEOUT = 2.0
MAX_RESPONSE_BYTES = 32 * 1024 * 1024  # a full page of 200 large blocks fits
ModelT = TypeVar("ModelT", bound=BaseModel)


class BackendRejected(BackendError):
    """The backend answered 4xx: our request (or our token) is wrong; retrying as is won't help
    unless the status is 401/408/429."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class BackendClient:
    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        base_url: str,
        token: str,
        timeout: float = 10.0,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self._session = session
        self._api = base_url.rstrip("/") + API_PREFIX
        # Passed per request, never set on the shared session: other hosts must not see it.
        self._auth = {"Authorization": f"Bearer {token}"}
        self._timeout = aiohttp.ClientTimeout(
            total=timeout, sock_connect=min(CONNECT_TIMEOUT, timeout)
        )
        self._max_bytes = max_response_bytes

    async def get_block(self, block_id: str) -> BackendBlock | None:
        """The block with this local id (any visibility), or None when the backend has none."""
        answer = await self.get_block_answer(block_id)
        return None if answer is None else self.parse_block(answer)

    async def get_block_answer(self, block_id: str) -> bytes | None:
        """The backend's answer for this block, unparsed (parse_block reads it), or None when
        the backend has none: a caller that rendered these very bytes before may reuse that."""
        status, body = await self._request("GET", f"/blocks/{quote(block_id, safe='')}")
        if status == 404:
            return None
        self._expect(status, body, 200)
        return body

    def parse_block(self, answer: bytes) -> BackendBlock:
        return self._parse(answer, BackendBlock)

    async def list_federated(self, cursor: str | None, limit: int) -> BlockPage:
        """One page of public and embargoed blocks in creation order."""
        if not 1 <= limit <= MAX_PAGE_LIMIT:
            raise ValueError(f"limit must be 1..{MAX_PAGE_LIMIT}")
        params = {"federated": "1", "limit": str(limit)}
        if cursor:
            params["cursor"] = cursor
        status, body = await self._request("GET", "/blocks", params=params)
        self._expect(status, body, 200)
        return self._parse(body, BlockPage)

    async def notify(self, notification: InboundNotification) -> None:
        """Hand a remote-block or follow change to the backend (idempotent by its id)."""
        await self._post_inbound(notification.model_dump_json().encode())

    async def notify_many(self, notifications: Sequence[InboundNotification]) -> None:
        """Several notifications in one POST (a JSON array; the contract's batch form)."""
        items = b",".join(n.model_dump_json().encode() for n in notifications)
        await self._post_inbound(b"[" + items + b"]")

    async def _post_inbound(self, data: bytes) -> None:
        status, body = await self._request("POST", "/inbound", data=data)
        if not 200 <= status < 300:
            self._expect(status, body, 204)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> tuple[int, bytes]:
        url = self._api + path
        headers: dict[str, Any] = dict(self._auth)
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            async with self._session.request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as resp:
                body = await resp.content.read(self._max_bytes + 1)
                if len(body) > self._max_bytes:
                    raise BackendError(
                        f"{method} {url}: answer larger than {self._max_bytes} bytes"
                    )
                return resp.status, body
        except TimeoutError:
            raise BackendError(f"{method} {url}: timed out") from None
        except aiohttp.ClientError as exc:
            raise BackendError(f"{method} {url}: {type(exc).__name__}: {exc}") from None

    def _expect(self, status: int, body: bytes, wanted: int) -> None:
        if status == wanted:
            return
        detail = _problem_detail(body)
        if 300 <= status < 400:
            raise BackendError(f"backend answered a redirect ({status}); redirects are refused")
        if 400 <= status < 500:
            raise BackendRejected(status, f"backend refused the request ({status}): {detail}")
        raise BackendError(f"backend answered {status}: {detail}")

    @staticmethod
    def _parse(body: bytes, model: type[ModelT]) -> ModelT:
        try:
            return model.model_validate_json(body)
        except ValidationError as exc:
            raise BackendError(f"backend answer is not a valid {model.__name__}: {exc}") from None


def _problem_detail(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200].decode(errors="replace") or "(empty body)"
    if isinstance(data, dict):
        return str(data.get("detail") or data.get("title") or data)[:300]
    return str(data)[:300]
