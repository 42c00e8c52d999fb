"""Log lines: the instance, event and ids on every line; secrets scrubbed; floods summarised."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from federation.observability.logs import JsonFormatter, Redactor, TextFormatter, event
from federation.observability.ratelimit import MAX_KEYS, OTHER, RateLimitedEvents

PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO, logging.Handler]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter("alpha", "gateway"))
    handler.addFilter(Redactor(["configured-admin-token-123"]))
    logger = logging.getLogger("test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, out, handler
    logger.removeHandler(handler)


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_json_line_carries_instance_role_event_and_ids(capture) -> None:  # type: ignore[no-untyped-def]
    logger, out, _ = capture
    event(logger, "delivery.retry", job_id="7", host="b.example", activity_id="https://a/1")
    [line] = lines(out)
    assert line["instance"] == "alpha"
    assert line["role"] == "gateway"
    assert line["event"] == "delivery.retry"
    assert (line["job_id"], line["host"], line["activity_id"]) == ("7", "b.example", "https://a/1")
    assert line["level"] == "info"
    assert str(line["ts"]).endswith("Z")


def test_a_plain_log_call_still_names_instance_and_an_event(capture) -> None:  # type: ignore[no-untyped-def]
    logger, out, _ = capture
    logger.warning("something %s", "odd")
    [line] = lines(out)
    assert (line["instance"], line["event"], line["message"]) == (
        "alpha",
        "test.logs",
        "something odd",
    )


def test_secrets_are_scrubbed_from_messages_fields_and_tracebacks(capture) -> None:  # type: ignore[no-untyped-def]
    logger, out, _ = capture
    logger.info("got Authorization: Bearer abc.def-ghi and %s", PEM)
    event(
        logger, "x", header='keyId="k",signature="c2lnbmF0dXJl"', token="configured-admin-token-123"
    )
    try:
        raise ValueError("sig1=:c2lnbmF0dXJl: Bearer zzz-secret")
    except ValueError:
        logger.exception("failed")
    text = out.getvalue()
    for secret in (
        "abc.def-ghi",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
        "c2lnbmF0dXJl",
        "configured-admin-token-123",
        "zzz-secret",
    ):
        assert secret not in text
    assert text.count("[redacted]") >= 5


def test_text_lines_start_with_the_instance() -> None:
    record = logging.LogRecord("federation.x", logging.INFO, __file__, 1, "hello", None, None)
    record.event = "delivery.delivered"
    record.fields = {"host": "b.example", "reason": "HTTP 500 from b"}
    line = TextFormatter("beta", "backend").format(record)
    assert line.startswith("beta/backend ")
    assert 'delivery.delivered host=b.example reason="HTTP 500 from b" | hello' in line


def test_a_flood_gives_a_burst_then_one_summary_with_the_count(capture) -> None:  # type: ignore[no-untyped-def]
    logger, out, _ = capture
    clock = Clock()
    refused = RateLimitedEvents(logger, "inbound.refused", clock, burst=5, rate=1.0)
    written = sum(refused.emit("Signature rejected", status=401) for _ in range(1000))
    assert written == 5
    assert refused.flush() == 1
    got = lines(out)
    assert [g["event"] for g in got] == ["inbound.refused"] * 5 + ["inbound.refused.suppressed"]
    assert got[-1]["count"] == 995
    assert got[-1]["reason"] == "Signature rejected"
    assert refused.flush() == 0  # counted once


def test_the_summary_goes_out_before_the_next_allowed_line(capture) -> None:  # type: ignore[no-untyped-def]
    logger, out, _ = capture
    clock = Clock()
    refused = RateLimitedEvents(logger, "inbound.refused", clock, burst=1, rate=1.0)
    for _ in range(3):
        refused.emit("Digest mismatch", status=400)
    refused.emit("Domain blocked", status=403)  # another reason has its own bucket
    clock.now += 1.0
    refused.emit("Digest mismatch", status=400)
    events = [(g["event"], g["reason"], g.get("count")) for g in lines(out)]
    assert events == [
        ("inbound.refused", "Digest mismatch", None),
        ("inbound.refused", "Domain blocked", None),
        ("inbound.refused.suppressed", "Digest mismatch", 2),
        ("inbound.refused", "Digest mismatch", None),
    ]


def test_attacker_chosen_reasons_cannot_grow_the_table(capture) -> None:  # type: ignore[no-untyped-def]
    logger, out, _ = capture
    refused = RateLimitedEvents(logger, "inbound.refused", Clock(), burst=1, rate=0.0)
    for n in range(MAX_KEYS + 500):
        refused.emit(f"reason {n}")
    got = lines(out)
    assert len(got) == MAX_KEYS + 1  # the table's keys, then one line for all the others
    assert got[-1]["reason"] == OTHER
    refused.flush()
    assert lines(out)[-1] == {**lines(out)[-1], "reason": OTHER, "count": 499}
