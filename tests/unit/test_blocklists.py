"""Reading and writing blocklists: Mastodon's CSV, plain lists and the admin API's JSON."""

from __future__ import annotations

import json

import pytest

from federation.admin.blocklist_import import diff
from federation.admin.blocklists import Listed, ListFormat, detect, export, parse
from federation.records import DomainBlock, Severity

# Written from Mastodon's documented export format: quoted comments holding commas and a
# newline, an empty severity (Mastodon's default: suspend), an obfuscated domain, a wildcard,
# Unicode, a trailing dot and a port.
MASTODON_CSV = (
    "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
    "spam.example,suspend,true,true,Spam,false\n"
    'noisy.example,silence,false,false,"Harassment, brigading\nand bots",true\n'
    "watch.example,noop,false,false,,false\n"
    "empty-severity.example,,false,false,,false\n"
    "ex*mple.org,suspend,false,false,hidden,true\n"
    "*.wild.example,suspend,false,false,,false\n"
    "B\u00fccher.Example.,silence,false,false,,false\n"
    "ports.example:8443,suspend,false,false,,false\n"
)


def entries(text: str, fmt: ListFormat | None = None) -> dict[str, tuple[str, str]]:
    return {e.domain: (e.severity.value, e.comment) for e in parse(text, fmt).entries}


def test_a_mastodon_export_is_read_entry_by_entry() -> None:
    parsed = parse(MASTODON_CSV)
    assert parsed.format is ListFormat.CSV and parsed.invalid == ()
    assert entries(MASTODON_CSV) == {
        "spam.example": ("suspend", "Spam"),
        "noisy.example": ("silence", "Harassment, brigading\nand bots"),
        "watch.example": ("noop", ""),
        "empty-severity.example": ("suspend", ""),
        "wild.example": ("suspend", ""),
        "xn--bcher-kva.example": ("silence", ""),
        "ports.example:8443": ("suspend", ""),
    }
    # Line numbers are where each record starts: the quoted newline takes lines 3 and 4.
    assert [e.line for e in parsed.entries] == [2, 3, 5, 6, 8, 9, 10]
    [skipped] = parsed.skipped
    assert skipped.line == 7 and "obfuscated" in skipped.reason


def test_the_header_may_drop_its_hashes() -> None:
    text = "domain,severity,public_comment\nspam.example,silence,why\n"
    assert entries(text) == {"spam.example": ("silence", "why")}


def test_invalid_lines_are_named_with_their_numbers() -> None:
    text = (
        "#domain,#severity\n"
        "ok.example,suspend\n"
        "bad domain.example,suspend\n"
        "ok2.example,obliterate\n"
        "OK.example.,silence\n"
    )
    parsed = parse(text)
    assert [(u.line, u.reason.split(" ")[0]) for u in parsed.invalid] == [
        (3, "bad"),
        (4, "unknown"),
        (5, "ok.example"),  # the same host as line 2, with another severity
    ]
    assert "already on line 2" in parsed.invalid[2].reason


def test_a_plain_list_has_comments_and_suspends_everything() -> None:
    text = "# shared list\n\nspam.example\nabuse.example  # abuse\n*.wild.example\n"
    assert detect(text) is ListFormat.PLAIN
    assert entries(text) == {
        "spam.example": ("suspend", ""),
        "abuse.example": ("suspend", "abuse"),
        "wild.example": ("suspend", ""),
    }
    assert [e.line for e in parse(text).entries] == [3, 4, 5]


def test_the_admin_api_json_and_the_public_one() -> None:
    admin = [
        {"domain": "spam.example", "severity": "suspend", "public_comment": "spam"},
        {"domain": "quiet.example", "severity": "silence", "private_comment": "x"},
        {"domain": "s*m.example", "severity": "suspend"},
        {"severity": "suspend"},
    ]
    parsed = parse(json.dumps(admin))
    assert parsed.format is ListFormat.JSON
    assert entries(json.dumps(admin)) == {
        "spam.example": ("suspend", "spam"),
        "quiet.example": ("silence", ""),
    }
    assert [u.line for u in parsed.skipped] == [3]
    assert [(u.line, u.reason) for u in parsed.invalid] == [(4, "no domain")]
    public = [{"domain": "a.example", "digest": "0" * 64, "severity": "silence", "comment": "c"}]
    assert entries(json.dumps(public)) == {"a.example": ("silence", "c")}


def test_unreadable_json_is_one_invalid_line() -> None:
    parsed = parse("[{", ListFormat.JSON)
    assert parsed.entries == () and parsed.invalid[0].line == 1


@pytest.mark.parametrize("fmt", [ListFormat.CSV, ListFormat.JSON])
def test_export_then_import_gives_the_same_set(fmt: ListFormat) -> None:
    first = parse(MASTODON_CSV)
    blocks = [
        DomainBlock(domain=e.domain, reason=e.comment, created_at=0.0, severity=e.severity)
        for e in first.entries
    ]
    again = parse(export(blocks, fmt))
    assert again.format is fmt and again.invalid == () and again.skipped == ()
    assert {_key(e) for e in again.entries} == {_key(e) for e in first.entries}
    assert diff(blocks, again, 1.0, replace_all=True).kept == tuple(blocks)


def test_a_plain_export_holds_the_suspensions() -> None:
    blocks = [
        DomainBlock(domain="a.example", reason="", created_at=0.0),
        DomainBlock(domain="b.example", reason="", created_at=0.0, severity=Severity.SILENCE),
    ]
    assert export(blocks, ListFormat.PLAIN) == "a.example\n"


def test_the_diff_adds_changes_removes_and_keeps() -> None:
    stored = [
        DomainBlock(domain="kept.example", reason="reason", created_at=1.0),
        DomainBlock(
            domain="changed.example", reason="was noisy", created_at=1.0, severity=Severity.SILENCE
        ),
        DomainBlock(domain="gone.example", reason="", created_at=1.0),
    ]
    text = "kept.example\nchanged.example\nnew.example  # new\n"
    merged = diff(stored, parse(text), 5.0, replace_all=False)
    assert merged.added == (DomainBlock(domain="new.example", reason="new", created_at=5.0),)
    assert merged.changed == (
        (
            stored[1],
            DomainBlock(
                domain="changed.example",
                reason="was noisy",
                created_at=1.0,
                severity=Severity.SUSPEND,
            ),
        ),
    )
    assert merged.kept == (stored[0],) and merged.removed == ()
    assert diff(stored, parse(text), 5.0, replace_all=True).removed == (stored[2],)


def _key(e: Listed) -> tuple[str, Severity, str]:
    return e.domain, e.severity, e.comment


def test_an_import_takes_over_a_subscribed_entry_and_replace_spares_the_others() -> None:
    stored = [
        DomainBlock(
            domain="listed.example",
            reason="",
            created_at=1.0,
            severity=Severity.SUSPEND,
            by_admin=False,
        ),
        DomainBlock(
            domain="other.example",
            reason="",
            created_at=1.0,
            severity=Severity.SUSPEND,
            by_admin=False,
        ),
        DomainBlock(domain="mine.example", reason="", created_at=1.0),
    ]
    planned = diff(stored, parse("listed.example\n"), 5.0, replace_all=True)
    assert planned.changed == (
        (stored[0], DomainBlock(domain="listed.example", reason="", created_at=1.0)),
    )
    assert planned.removed == (stored[2],)  # a subscription's entry is its to retract
