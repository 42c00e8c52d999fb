"""Reading a record back from a stored row, and a job's row key (storage/rows.py), which both
adapters use for every record they return and every job id they are given. The round trips
through each adapter are in tests/contract/."""

from __future__ import annotations

import sqlite3

import pytest

from federation.records import DomainBlock, Publication, Severity
from federation.storage.rows import record_from, row_id


def _row(sql: str) -> sqlite3.Row:
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    row: sqlite3.Row = db.execute(sql).fetchone()
    db.close()
    return row


def test_each_field_is_read_from_the_column_of_its_name() -> None:
    row = _row(
        "SELECT 2 AS generation, 'b1' AS block_id, 5.0 AS withdrawn_at,"
        " 1.5 AS published_at, 'seed' AS started_by, 'x' AS unrelated"
    )
    assert record_from(Publication, row) == Publication(
        block_id="b1", generation=2, started_by="seed", published_at=1.5, withdrawn_at=5.0
    )


def test_decoded_fields_replace_the_stored_ones_and_need_no_column() -> None:
    # A MongoDB document keeps the key under _id and the severity as its string value.
    doc = {"_id": "bad.example", "reason": "spam", "created_at": 1.0, "severity": "silence"}
    block = record_from(
        DomainBlock, doc, domain=doc["_id"], severity=Severity(doc["severity"]), by_admin=False
    )
    assert block == DomainBlock(
        domain="bad.example",
        reason="spam",
        created_at=1.0,
        severity=Severity.SILENCE,
        by_admin=False,
    )
    assert type(block.severity) is Severity


def test_a_missing_field_is_an_error_not_its_default() -> None:
    # withdrawn_at has a default (None): a row that lost the column must not read as live.
    row = _row("SELECT 'b1' AS block_id, 1 AS generation, 's' AS started_by, 1.0 AS published_at")
    with pytest.raises(IndexError):
        record_from(Publication, row)
    with pytest.raises(KeyError):
        record_from(Publication, {"block_id": "b1", "generation": 1, "started_by": "s"})


def test_a_job_id_from_an_admin_url_is_its_integer_and_other_text_names_no_job() -> None:
    assert row_id(7) == 7
    assert row_id("42") == 42
    assert row_id("42abc") is None
    assert row_id("") is None
