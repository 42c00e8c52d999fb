"""The signed HTTP client, against real aiohttp servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import email.utils
import json
import socket
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from federation.http.ssrf import SsrfRefused
from federation.http.transport import (
    AS_ACCEPT,
    DeliveryOutcome,
    FetchError,
    FetchErrorKind,
)
from federation.records import HostHealth
from tests.support.transport import (
    NOW,
    Handler,
    MemoryHosts,
    dev_settings,
)

ACTIVITY = json.dumps({"type": "Create", "id": "https://a.example/1"}).encode()


def verify_cavage(request: web.Request, public_key: rsa.RSAPublicKey) -> None:
    """Check a draft-cavage rsa-sha256 signature against the request as the server saw it."""
    params = dict(
        part.split("=", 1) for part in request.headers["Signature"].replace('"', "").split(",")
    )
    lines = []
    for name in params["headers"].split():
        if name == "(request-target)":
            lines.append(f"(request-target): {request.method.lower()} {request.path_qs}")
        else:
            lines.append(f"{name}: {request.headers[name]}")
    signature = base64.b64decode(params["signature"])
    message = "\n".join(lines).encode()
    public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())


# -- delivery ---------------------------------------------------------------------------------


async def test_deliver_signs_each_attempt_afresh(
    serve: Any, make_transport: Any, rsa_key: rsa.RSAPrivateKey
) -> None:
    seen: list[web.Request] = []

    async def inbox(request: web.Request) -> web.Response:
        assert await request.read() == ACTIVITY
        verify_cavage(request, rsa_key.public_key())
        seen.append(request)
        return web.Response(status=202)

    server = await serve({"/inbox": inbox})
    transport = make_transport()
    for _ in range(2):
        result = await transport.deliver(str(server.make_url("/inbox")), ACTIVITY)
        assert result.outcome is DeliveryOutcome.DELIVERED
        assert (result.status, result.error, result.scheme) == (202, None, "cavage")
    first, second = (r.headers for r in seen)
    assert first["Content-Type"] == "application/activity+json"
    assert first["Digest"].startswith("SHA-256=")
    assert "digest" in first["Signature"] and "(request-target)" in first["Signature"]
    assert first["Date"] != second["Date"]
    assert first["Signature"] != second["Signature"]
    assert first["User-Agent"] == "federation/0.1.0 (+http://127.0.0.1:8000)"


async def test_double_knock_falls_back_to_rfc9421_and_remembers_it(
    serve: Any, make_transport: Any, hosts: MemoryHosts
) -> None:
    schemes: list[str] = []

    async def inbox(request: web.Request) -> web.Response:
        rfc9421 = "Signature-Input" in request.headers
        assert rfc9421 == ("Content-Digest" in request.headers)
        schemes.append("rfc9421" if rfc9421 else "cavage")
        return web.Response(status=202 if rfc9421 else 401)

    server = await serve({"/inbox": inbox})
    url = str(server.make_url("/inbox"))
    result = await make_transport().deliver(url, ACTIVITY)
    assert (result.outcome, result.scheme) == (DeliveryOutcome.DELIVERED, "rfc9421")
    assert schemes == ["cavage", "rfc9421"]
    host = f"127.0.0.1:{server.port}"
    assert hosts.rows[host].signature_scheme == "rfc9421"
    # A new process (new Transport, same store) goes straight to RFC 9421.
    schemes.clear()
    again = await make_transport().deliver(url, ACTIVITY)
    assert again.outcome is DeliveryOutcome.DELIVERED
    assert schemes == ["rfc9421"]


async def test_cavage_success_is_remembered_once_and_keeps_other_health(
    serve: Any, make_transport: Any, hosts: MemoryHosts
) -> None:
    async def inbox(request: web.Request) -> web.Response:
        return web.Response(status=200)

    server = await serve({"/inbox": inbox})
    host = f"127.0.0.1:{server.port}"
    hosts.rows[host] = HostHealth(host=host, consecutive_failures=3)
    transport = make_transport()
    for _ in range(3):
        await transport.deliver(str(server.make_url("/inbox")), ACTIVITY)
    assert hosts.rows[host].signature_scheme == "cavage"
    assert hosts.rows[host].consecutive_failures == 3
    assert hosts.puts == 1


async def test_remembered_rfc9421_knocks_back_to_cavage(
    serve: Any, make_transport: Any, hosts: MemoryHosts
) -> None:
    async def inbox(request: web.Request) -> web.Response:
        return web.Response(status=400 if "Signature-Input" in request.headers else 202)

    server = await serve({"/inbox": inbox})
    host = f"127.0.0.1:{server.port}"
    hosts.rows[host] = HostHealth(host=host, signature_scheme="rfc9421")
    result = await make_transport().deliver(str(server.make_url("/inbox")), ACTIVITY)
    assert (result.outcome, result.scheme) == (DeliveryOutcome.DELIVERED, "cavage")
    assert hosts.rows[host].signature_scheme == "cavage"


OUTCOMES = [
    (200, DeliveryOutcome.DELIVERED),
    (202, DeliveryOutcome.DELIVERED),
    (400, DeliveryOutcome.PERMANENT),
    (401, DeliveryOutcome.RETRY),
    (403, DeliveryOutcome.PERMANENT),
    (404, DeliveryOutcome.NOT_FOUND),
    (408, DeliveryOutcome.RETRY),
    (409, DeliveryOutcome.DELIVERED),  # the inbox already holds it (a retry after a lost 202)
    (410, DeliveryOutcome.GONE),
    (422, DeliveryOutcome.PERMANENT),
    (429, DeliveryOutcome.RETRY),
    (500, DeliveryOutcome.RETRY),
    (501, DeliveryOutcome.PERMANENT),
    (503, DeliveryOutcome.RETRY),
]


@pytest.mark.parametrize(("status", "outcome"), OUTCOMES)
async def test_delivery_outcome_by_status(
    serve: Any, make_transport: Any, status: int, outcome: DeliveryOutcome
) -> None:
    async def inbox(request: web.Request) -> web.Response:
        return web.Response(status=status, text="" if status < 300 else "nope")

    server = await serve({"/inbox": inbox})
    result = await make_transport().deliver(str(server.make_url("/inbox")), ACTIVITY)
    assert (result.outcome, result.status, result.retry_after) == (outcome, status, None)
    delivered = outcome is DeliveryOutcome.DELIVERED
    assert result.error == (None if delivered else f"HTTP {status}: nope")


@pytest.mark.parametrize(
    ("header", "expected"),
    [("120", 120.0), ("soon", None)],
)
async def test_retry_after_seconds(
    serve: Any, make_transport: Any, header: str, expected: float | None
) -> None:
    async def inbox(request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": header})

    server = await serve({"/inbox": inbox})
    result = await make_transport().deliver(str(server.make_url("/inbox")), ACTIVITY)
    assert (result.outcome, result.retry_after) == (DeliveryOutcome.RETRY, expected)


async def test_retry_after_http_date_is_relative_to_the_clock(
    serve: Any, make_transport: Any
) -> None:
    # The injected clock reads NOW when signing and NOW + 10 when the answer arrives.
    when = email.utils.formatdate(NOW + 310, usegmt=True)

    async def inbox(request: web.Request) -> web.Response:
        return web.Response(status=503, headers={"Retry-After": when})

    server = await serve({"/inbox": inbox})
    result = await make_transport().deliver(str(server.make_url("/inbox")), ACTIVITY)
    assert (result.outcome, result.retry_after) == (DeliveryOutcome.RETRY, 300.0)


async def test_error_text_is_capped(serve: Any, make_transport: Any) -> None:
    async def inbox(request: web.Request) -> web.Response:
        return web.Response(status=500, text="x" * 100_000)

    server = await serve({"/inbox": inbox})
    result = await make_transport().deliver(str(server.make_url("/inbox")), ACTIVITY)
    assert result.error == "HTTP 500: " + "x" * 200


async def test_post_never_follows_redirects(serve: Any, make_transport: Any) -> None:
    landed: list[str] = []

    async def inbox(request: web.Request) -> web.Response:
        raise web.HTTPFound("/elsewhere")

    async def elsewhere(request: web.Request) -> web.Response:
        landed.append(request.method)
        return web.Response(status=202)

    server = await serve({"/inbox": inbox, "/elsewhere": elsewhere})
    result = await make_transport().deliver(str(server.make_url("/inbox")), ACTIVITY)
    assert (result.outcome, result.status) == (DeliveryOutcome.RETRY, 302)
    assert landed == []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_connection_refused_is_retry(make_transport: Any) -> None:
    url = f"http://127.0.0.1:{free_port()}/inbox"
    result = await make_transport().deliver(url, ACTIVITY)
    assert (result.outcome, result.status) == (DeliveryOutcome.RETRY, None)
    assert result.error is not None and result.error.startswith("connection failed")


async def test_timeout_is_retry(serve: Any, make_transport: Any) -> None:
    async def inbox(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response(status=202)

    server = await serve({"/inbox": inbox})
    transport = make_transport(dev_settings(total_timeout=0.3))
    started = asyncio.get_running_loop().time()
    result = await transport.deliver(str(server.make_url("/inbox")), ACTIVITY)
    assert (result.outcome, result.error) == (DeliveryOutcome.RETRY, "timeout")
    assert asyncio.get_running_loop().time() - started < 1.5


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/inbox", "file:///etc/passwd"])
async def test_deliver_refuses_bad_schemes(make_transport: Any, url: str) -> None:
    result = await make_transport().deliver(url, ACTIVITY)
    assert (result.outcome, result.status) == (DeliveryOutcome.PERMANENT, None)
    assert result.error is not None and "scheme" in result.error


async def test_deliver_to_a_refused_address_is_permanent_and_never_connects(
    serve: Any, make_transport: Any
) -> None:
    hits: list[str] = []

    async def inbox(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(status=202)

    server = await serve({"/inbox": inbox})
    strict = dev_settings().model_copy(update={"allow_private_addresses": []})
    result = await make_transport(strict).deliver(str(server.make_url("/inbox")), ACTIVITY)
    assert result.outcome is DeliveryOutcome.PERMANENT
    assert result.error is not None and "not public" in result.error
    assert hits == []


# -- fetching ---------------------------------------------------------------------------------


async def test_fetch_signs_get_and_returns_the_object(
    serve: Any, make_transport: Any, rsa_key: rsa.RSAPrivateKey
) -> None:
    seen: list[web.Request] = []

    async def note(request: web.Request) -> web.Response:
        verify_cavage(request, rsa_key.public_key())
        seen.append(request)
        response = web.Response(
            body=b'{"id": "x"}',
            content_type="application/activity+json",
            headers={"ETag": '"v1"', "Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT"},
        )
        response.set_cookie("session", "secret")
        return response

    server = await serve({"/note": note})
    transport = make_transport()
    result = await transport.fetch(str(server.make_url("/note")))
    assert (result.status, result.body, result.etag) == (200, b'{"id": "x"}', '"v1"')
    assert result.content_type.startswith("application/activity+json")
    assert result.last_modified == "Wed, 01 Jan 2025 00:00:00 GMT"
    assert result.url == str(server.make_url("/note"))
    await transport.fetch(str(server.make_url("/note")))
    headers = seen[0].headers
    assert headers["Accept"] == AS_ACCEPT
    assert "digest" not in headers["Signature"]
    assert "Cookie" not in seen[1].headers and "Authorization" not in seen[1].headers


async def test_fetch_conditional_returns_304(serve: Any, make_transport: Any) -> None:
    async def note(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == '"v1"':
            assert request.headers["If-Modified-Since"] == "Wed, 01 Jan 2025 00:00:00 GMT"
            return web.Response(status=304)
        return web.Response(body=b"{}")

    server = await serve({"/note": note})
    result = await make_transport().fetch(
        str(server.make_url("/note")),
        etag='"v1"',
        last_modified="Wed, 01 Jan 2025 00:00:00 GMT",
    )
    assert (result.status, result.body) == (304, b"")


def redirect_chain(hops: list[web.Request]) -> Handler:
    """/r/N redirects to /r/N-1 ... /r/0 answers."""

    async def handler(request: web.Request) -> web.Response:
        hops.append(request)
        n = int(request.match_info["n"])
        if n == 0:
            return web.Response(body=b"{}", content_type="application/activity+json")
        raise web.HTTPFound(f"/r/{n - 1}")

    return handler


async def test_fetch_follows_up_to_three_redirects_signing_each_hop(
    serve: Any, make_transport: Any
) -> None:
    hops: list[web.Request] = []
    server = await serve({"/r/{n}": redirect_chain(hops)})
    result = await make_transport().fetch(str(server.make_url("/r/3")))
    assert (result.status, result.url) == (200, str(server.make_url("/r/0")))
    assert len(hops) == 4
    assert len({h.headers["Signature"] for h in hops}) == 4  # re-signed, fresh each hop


async def test_fetch_refuses_a_fourth_redirect(serve: Any, make_transport: Any) -> None:
    hops: list[web.Request] = []
    server = await serve({"/r/{n}": redirect_chain(hops)})
    with pytest.raises(FetchError) as info:
        await make_transport().fetch(str(server.make_url("/r/4")))
    assert info.value.kind is FetchErrorKind.TOO_MANY_REDIRECTS
    assert len(hops) == 4  # the fifth request was never made


async def test_redirect_to_a_refused_address_never_connects(
    serve: Any, make_transport: Any
) -> None:
    other_hits: list[str] = []

    async def elsewhere(request: web.Request) -> web.Response:
        other_hits.append(request.path)
        return web.Response(body=b"{}")

    other = await serve({"/secret": elsewhere}, host="127.0.0.2")  # loopback, but not allowed

    async def start(request: web.Request) -> web.Response:
        raise web.HTTPFound(str(other.make_url("/secret")))

    server = await serve({"/start": start})
    with pytest.raises(FetchError) as info:
        await make_transport().fetch(str(server.make_url("/start")))
    assert info.value.kind is FetchErrorKind.REFUSED
    assert isinstance(info.value.__cause__, SsrfRefused)
    assert info.value.__cause__.address == "127.0.0.2"
    assert other_hits == []


@pytest.mark.parametrize("location", ["file:///etc/passwd", "http://u:p@127.0.0.1/"])
async def test_redirect_to_a_refused_url_is_refused(
    serve: Any, make_transport: Any, location: str
) -> None:
    async def start(request: web.Request) -> web.Response:
        raise web.HTTPFound(location)

    server = await serve({"/start": start})
    with pytest.raises(FetchError) as info:
        await make_transport().fetch(str(server.make_url("/start")))
    assert info.value.kind is FetchErrorKind.REFUSED


FIVE_MIB = 5 * 1024 * 1024


async def big_with_length(request: web.Request) -> web.Response:
    return web.Response(body=b"x" * FIVE_MIB)


async def big_streamed(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    response.enable_chunked_encoding()
    await response.prepare(request)
    for _ in range(FIVE_MIB // 65536):
        await response.write(b"x" * 65536)
    await response.write_eof()
    return response


@pytest.mark.parametrize("handler", [big_with_length, big_streamed])
async def test_fetch_refuses_oversized_bodies(
    serve: Any, make_transport: Any, handler: Handler
) -> None:
    server = await serve({"/big": handler})
    with pytest.raises(FetchError) as info:
        await make_transport().fetch(str(server.make_url("/big")))
    assert info.value.kind is FetchErrorKind.TOO_LARGE


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (404, FetchErrorKind.NOT_FOUND),
        (410, FetchErrorKind.GONE),
        (500, FetchErrorKind.HTTP_STATUS),
        (403, FetchErrorKind.HTTP_STATUS),
    ],
)
async def test_fetch_error_statuses(
    serve: Any, make_transport: Any, status: int, kind: FetchErrorKind
) -> None:
    async def note(request: web.Request) -> web.Response:
        return web.Response(status=status)

    server = await serve({"/note": note})
    with pytest.raises(FetchError) as info:
        await make_transport().fetch(str(server.make_url("/note")))
    assert (info.value.kind, info.value.status) == (kind, status)


async def test_fetch_double_knocks_on_401(
    serve: Any, make_transport: Any, hosts: MemoryHosts
) -> None:
    async def note(request: web.Request) -> web.Response:
        if "Signature-Input" not in request.headers:
            return web.Response(status=401)
        return web.Response(body=b"{}")

    server = await serve({"/note": note})
    result = await make_transport().fetch(str(server.make_url("/note")))
    assert result.status == 200
    assert hosts.rows[f"127.0.0.1:{server.port}"].signature_scheme == "rfc9421"


async def test_fetch_timeout_and_connection_errors(serve: Any, make_transport: Any) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response(body=b"{}")

    server = await serve({"/slow": slow})
    transport = make_transport(dev_settings(total_timeout=0.3))
    with pytest.raises(FetchError) as info:
        await transport.fetch(str(server.make_url("/slow")))
    assert info.value.kind is FetchErrorKind.TIMEOUT
    with pytest.raises(FetchError) as info:
        await transport.fetch(f"http://127.0.0.1:{free_port()}/note")
    assert info.value.kind is FetchErrorKind.CONNECTION


async def test_fetch_refuses_http_unless_dev(make_transport: Any) -> None:
    settings = dev_settings().model_copy(update={"dev_allow_http": False})
    with pytest.raises(FetchError) as info:
        await make_transport(settings).fetch("http://127.0.0.1:9/note")
    assert info.value.kind is FetchErrorKind.REFUSED
