"""Hypothesis fuzzing of the blocklist reader: a shared list is someone else's text (and a
subscription fetches it unattended), so any text must come back as entries, invalid lines and
skipped lines, never as an exception; every entry's domain is in the one Host spelling."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from federation.admin.blocklists import ListFormat, export, parse
from federation.hosts import Host
from federation.records import DomainBlock

CELL = st.text(alphabet=st.characters(codec="utf-8"), max_size=30) | st.sampled_from(
    ["spam.example", "*.wild.example", "ex*mple.org", "Bücher.Example.", "a:99", "", '"', "\n"]
)
ROW = st.lists(CELL, max_size=7).map(lambda cells: ",".join(cells))
LIST_TEXT = st.lists(ROW, max_size=12).map("\n".join) | st.text(max_size=300)
FORMATS = st.sampled_from([None, *ListFormat])


@settings(max_examples=400, deadline=None)
@given(LIST_TEXT, FORMATS)
def test_any_text_reads_as_entries_and_named_lines(text: str, fmt: ListFormat | None) -> None:
    parsed = parse(text, fmt)
    for entry in parsed.entries:
        assert str(Host.parse(entry.domain)) == entry.domain
        assert entry.line >= 1
    assert all(u.line >= 1 and u.reason for u in (*parsed.invalid, *parsed.skipped))
    assert len({e.domain for e in parsed.entries}) == len(parsed.entries)


JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUE)
def test_any_json_reads_without_raising(value: object) -> None:
    parse(json.dumps(value), ListFormat.JSON)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a.example", "b.example:8443"]), CELL), max_size=4))
def test_what_is_exported_reads_back(rows: list[tuple[str, str]]) -> None:
    blocks = [
        DomainBlock(domain=d, reason=reason, created_at=0.0) for d, reason in dict(rows).items()
    ]
    for fmt in (ListFormat.CSV, ListFormat.JSON):
        again = parse(export(blocks, fmt), fmt)
        assert again.invalid == ()
        assert {(e.domain, e.comment) for e in again.entries} == {
            (b.domain, b.reason) for b in blocks
        }
