"""Absurdly nested JSON (past the decoder's own recursion guard) sent to every endpoint that
takes a JSON body, with valid tokens: a 4xx problem each time, never a 5xx."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from tests.support.inproc import running, settings_for

pytestmark = pytest.mark.fuzz

DEEP = b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"


async def test_deep_json_is_refused_everywhere(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, "deep")
    backend = f"http://127.0.0.1:{settings.backend_listen_port}"
    targets = [
        (f"{settings.base_url}/backend/v1/events", settings.backend_token),
        (f"{settings.base_url}/backend/v1/resolve", settings.backend_token),
        (f"{settings.base_url}/admin/api/blocks", settings.admin_token),
        (f"{backend}/api/v1/blocks", settings.backend_token),
    ]
    async with running(settings), aiohttp.ClientSession() as session:
        for url, token in targets:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            async with session.post(url, data=DEEP, headers=headers) as resp:
                assert 400 <= resp.status < 500, (url, resp.status, await resp.text())
                assert resp.content_type == "application/problem+json", url
