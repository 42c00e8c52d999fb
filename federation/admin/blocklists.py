"""Domain blocklists in the formats admins trade, read and written.

- Mastodon's domain-block CSV (``#domain,#severity,#reject_media,#reject_reports,
  #public_comment,#obfuscate``; the header may drop the ``#``; an empty severity is Mastodon's
  default, ``suspend``); read with the csv module, so quoted comments may hold commas and
  newlines, and a line number is where its record starts.
- A plain list: one domain a line, ``#`` starts a comment (a whole line, or after the domain,
  where it becomes the entry's comment); every entry is a suspension.
- JSON as Mastodon's admin API returns it (``GET /api/v1/admin/domain_blocks``): an array of
  objects with ``domain``, ``severity``, ``public_comment`` (or ``comment``, as the public
  ``/api/v1/instance/domain_blocks`` names it); "lines" are the entries' positions, from 1.

Every domain goes through the one `Host` value (Unicode or A-labels, a trailing dot, a port),
so ``Bücher.Example.`` and ``xn--bcher-kva.example`` are one entry. A leading ``*.`` is a
wildcard, which is what an entry without a port means here already (the domain and every
subdomain). A ``*`` anywhere else is Mastodon's obfuscation of a published list: the real
domain is unknown, so the line is skipped (reported, never an error). Pure: no I/O.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from federation.errors import HostError
from federation.hosts import Host
from federation.records import DomainBlock, Severity

CSV_HEADER = (
    "#domain",
    "#severity",
    "#reject_media",
    "#reject_reports",
    "#public_comment",
    "#obfuscate",
)


class ListFormat(StrEnum):
    CSV = "csv"
    PLAIN = "plain"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class Listed:
    """One usable entry of a list: the domain in its stored spelling."""

    domain: str
    severity: Severity
    comment: str
    line: int


@dataclass(frozen=True, slots=True)
class Unusable:
    """A line that names no entry: invalid (an error) or skipped (obfuscated)."""

    line: int
    text: str
    reason: str


@dataclass(frozen=True, slots=True)
class ParsedList:
    format: ListFormat
    entries: tuple[Listed, ...]
    invalid: tuple[Unusable, ...]
    skipped: tuple[Unusable, ...]


class _Obfuscated(ValueError):
    pass


class _Invalid(ValueError):
    pass


# --- reading --------------------------------------------------------------------------------


def detect(text: str) -> ListFormat:
    """JSON when it starts with ``[`` or ``{``; CSV when its first line is a CSV header or
    holds a comma; otherwise a plain list."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] in ("[", "{"):
        return ListFormat.JSON
    first = stripped.split("\n", 1)[0]
    if first.lstrip("#").strip().lower().startswith("domain,") or "," in first:
        return ListFormat.CSV
    return ListFormat.PLAIN


def parse(text: str, fmt: ListFormat | None = None) -> ParsedList:
    fmt = fmt or detect(text)
    rows = {ListFormat.CSV: _csv_rows, ListFormat.PLAIN: _plain_rows, ListFormat.JSON: _json_rows}
    entries: dict[str, Listed] = {}
    invalid: list[Unusable] = []
    skipped: list[Unusable] = []
    for line, raw, fields in rows[fmt](text.lstrip("\ufeff")):
        try:
            listed = _listed(line, fields)
        except _Obfuscated as exc:
            skipped.append(Unusable(line, raw, str(exc)))
            continue
        except _Invalid as exc:
            invalid.append(Unusable(line, raw, str(exc)))
            continue
        clash = _clash(entries.get(listed.domain), listed)
        if clash is not None:
            invalid.append(Unusable(line, raw, clash))
        elif listed.domain not in entries:
            entries[listed.domain] = listed
    return ParsedList(fmt, tuple(entries.values()), tuple(invalid), tuple(skipped))


def _clash(earlier: Listed | None, listed: Listed) -> str | None:
    if earlier is None or earlier.severity is listed.severity:
        return None  # a repeat (perhaps spelled otherwise) says nothing new
    return (
        f"{listed.domain} is already on line {earlier.line} with severity"
        f" {earlier.severity.value}, here {listed.severity.value}"
    )


Row = tuple[int, str, dict[str, Any]]


def _csv_rows(text: str) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    start = 1
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            names = [cell.strip().lstrip("#").strip().lower() for cell in record]
            if header is None and names and names[0] == "domain":
                header = names
                continue
            raw = ",".join(record)
            yield line, raw, dict(zip(header or ["domain", "severity"], record, strict=False))
    except csv.Error as exc:  # e.g. a quote never closed: the rest cannot be read
        yield start, "", {"error": f"not CSV from here on ({exc})"}


def _plain_rows(text: str) -> Iterator[Row]:
    for line, raw in enumerate(text.splitlines(), start=1):
        domain, _, comment = raw.partition("#")
        if domain.strip():
            yield line, raw, {"domain": domain, "public_comment": comment.strip()}


def _json_rows(text: str) -> Iterator[Row]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        yield 1, text[:80], {"error": f"not JSON ({exc})"}
        return
    if not isinstance(data, list):
        yield 1, text[:80], {"error": "not a JSON array of domain blocks"}
        return
    for position, item in enumerate(data, start=1):
        raw = json.dumps(item)[:200]
        if isinstance(item, str):
            item = {"domain": item}
        if not isinstance(item, dict):
            yield position, raw, {"error": "not an object with a domain"}
            continue
        yield position, raw, item


def _listed(line: int, fields: dict[str, Any]) -> Listed:
    if "error" in fields:
        raise _Invalid(str(fields["error"]))
    comment = fields.get("public_comment", fields.get("comment")) or ""
    if not isinstance(comment, str):
        raise _Invalid("the comment must be text")
    return Listed(_domain(fields.get("domain")), _severity(fields.get("severity")), comment, line)


def _domain(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid("no domain")
    text = value.strip()
    if text.startswith("*."):
        text = text[2:]  # a wildcard: the domain and its subdomains, as every entry covers
    if "*" in text:
        raise _Obfuscated(f"{value.strip()!r} is obfuscated: the real domain is unknown")
    try:
        return str(Host.parse(text))
    except HostError as exc:
        raise _Invalid(str(exc)) from None


def _severity(value: Any) -> Severity:
    if value is None or (isinstance(value, str) and not value.strip()):
        return Severity.SUSPEND  # Mastodon's default for an empty severity
    try:
        return Severity(str(value).strip().lower())
    except ValueError:
        known = ", ".join(s.value for s in Severity)
        raise _Invalid(f"unknown severity {value!r} (one of {known})") from None


# --- writing --------------------------------------------------------------------------------


def export(blocks: Sequence[DomainBlock], fmt: ListFormat) -> str:
    """The list in `fmt`. A plain list can only say "block": it holds the suspensions alone.
    reject_media, reject_reports and obfuscate mean nothing to this gateway: written false."""
    if fmt is ListFormat.JSON:
        return json.dumps([_json_entry(b) for b in blocks], indent=2, ensure_ascii=False) + "\n"
    if fmt is ListFormat.PLAIN:
        lines = [b.domain for b in blocks if b.severity is Severity.SUSPEND]
        return "".join(f"{line}\n" for line in lines)
    out = io.StringIO(newline="")
    # RFC 4180's CRLF: the writer then quotes a comment holding a lone CR as well as an LF.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for b in blocks:
        writer.writerow([b.domain, b.severity.value, "false", "false", b.reason, "false"])
    return out.getvalue()


def _json_entry(block: DomainBlock) -> dict[str, Any]:
    return {
        "domain": block.domain,
        "severity": block.severity.value,
        "reject_media": False,
        "reject_reports": False,
        "private_comment": None,
        "public_comment": block.reason,
        "obfuscate": False,
    }
