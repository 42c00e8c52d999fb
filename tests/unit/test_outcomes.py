"""The status rules of outbound requests: which answers count as delivered, retried or final,
and how a peer's Retry-After becomes a delay. Pure: no request is made."""

from __future__ import annotations

import email.utils

import pytest

from federation.outcomes import (
    DeliveryOutcome,
    FetchError,
    FetchErrorKind,
    classify,
    parse_retry_after,
)

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (100, DeliveryOutcome.RETRY),  # not an answer to a POST: try again
        (199, DeliveryOutcome.RETRY),
        (200, DeliveryOutcome.DELIVERED),
        (202, DeliveryOutcome.DELIVERED),
        (299, DeliveryOutcome.DELIVERED),
        (300, DeliveryOutcome.RETRY),  # a redirect is not a delivery: POSTs never follow one
        (302, DeliveryOutcome.RETRY),
        (399, DeliveryOutcome.RETRY),
        (400, DeliveryOutcome.PERMANENT),
        (401, DeliveryOutcome.RETRY),
        (403, DeliveryOutcome.PERMANENT),
        (404, DeliveryOutcome.NOT_FOUND),
        (408, DeliveryOutcome.RETRY),
        (409, DeliveryOutcome.DELIVERED),
        (410, DeliveryOutcome.GONE),
        (429, DeliveryOutcome.RETRY),
        (499, DeliveryOutcome.PERMANENT),
        (500, DeliveryOutcome.RETRY),
        (501, DeliveryOutcome.PERMANENT),
        (502, DeliveryOutcome.RETRY),
        (599, DeliveryOutcome.RETRY),
    ],
)
def test_classify_by_status(status: int, outcome: DeliveryOutcome) -> None:
    assert classify(status) is outcome


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("0", 0.0),
        ("120", 120.0),
        (" 120 ", 120.0),  # surrounding whitespace is not part of the value
        ("-5", None),  # neither delta-seconds nor a date
        ("1.5", None),
        ("soon", None),
        ("Tue, 14 Nov 2023 22:13:20 -0000", None),  # a date without a known zone
    ],
)
def test_retry_after_forms(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_retry_after_date_is_seconds_from_now() -> None:
    later = email.utils.formatdate(NOW + 300, usegmt=True)
    assert parse_retry_after(later, NOW) == 300.0
    assert parse_retry_after(f"  {later}  ", NOW) == 300.0


def test_retry_after_date_in_the_past_is_zero() -> None:
    earlier = email.utils.formatdate(NOW - 300, usegmt=True)
    assert parse_retry_after(earlier, NOW) == 0.0
    assert parse_retry_after(email.utils.formatdate(NOW, usegmt=True), NOW) == 0.0


def test_fetch_error_says_its_kind_reason_and_status() -> None:
    error = FetchError(FetchErrorKind.HTTP_STATUS, "HTTP 500", 500)
    assert (error.kind, error.reason, error.status) == (FetchErrorKind.HTTP_STATUS, "HTTP 500", 500)
    assert str(error) == "http_status: HTTP 500"
    assert FetchError(FetchErrorKind.TIMEOUT, "slow").status is None
