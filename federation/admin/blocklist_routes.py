"""Admin API: importing a blocklist (a dry run unless asked to apply) and exporting one."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from federation.admin import params
from federation.admin.api import AdminRoutes, Operation, Param
from federation.admin.blocklist_import import BlocklistDiff
from federation.admin.blocklists import ListFormat
from federation.admin.models import BlockOut, Body, Out
from federation.admin.service import AdminService

api = AdminRoutes()
routes = api.routes
R = web.Request
A = AdminService

MAX_LIST_CHARS = 4_000_000


class BlocklistImportRequest(Body):
    text: str = Field(max_length=MAX_LIST_CHARS, description="the list, as its file holds it")
    format: ListFormat | None = Field(None, description="csv, plain or json; guessed if absent")
    replace: bool = Field(False, description="the list is the whole policy: remove the rest")
    apply: bool = Field(False, description="apply it (all or nothing); else a dry run")


class LineOut(Out):
    line: int = Field(description="where the entry starts (JSON: its position, from 1)")
    text: str
    reason: str


class BlockChangeOut(BaseModel):
    domain: str
    before: BlockOut
    after: BlockOut


class BlocklistDiffOut(BaseModel):
    format: ListFormat
    applied: bool
    added: list[BlockOut]
    changed: list[BlockChangeOut]
    removed: list[BlockOut]
    kept: list[BlockOut]
    invalid: list[LineOut] = Field(description="lines that are not entries: nothing is applied")
    skipped: list[LineOut] = Field(description="obfuscated domains (their real name is unknown)")

    @classmethod
    def of(cls, d: BlocklistDiff) -> BlocklistDiffOut:
        return cls(
            format=d.format,
            applied=d.applied,
            added=[BlockOut.of(b) for b in d.added],
            changed=[
                BlockChangeOut(domain=a.domain, before=BlockOut.of(b), after=BlockOut.of(a))
                for b, a in d.changed
            ],
            removed=[BlockOut.of(b) for b in d.removed],
            kept=[BlockOut.of(b) for b in d.kept],
            invalid=[LineOut.of(u) for u in d.invalid],
            skipped=[LineOut.of(u) for u in d.skipped],
        )


class BlocklistExportOut(BaseModel):
    format: ListFormat
    count: int = Field(description="entries in the policy (a plain list holds suspensions only)")
    text: str


@api.op(
    Operation(
        "POST",
        "/blocks/import",
        "Import a blocklist (a dry run unless apply)",
        BlocklistDiffOut,
        BlocklistImportRequest,
    )
)
async def import_list(request: R, admin: A, body: BlocklistImportRequest) -> BlocklistDiffOut:
    imports = admin.blocklists
    run = imports.apply if body.apply else imports.preview
    return BlocklistDiffOut.of(await run(body.text, body.format, replace_all=body.replace))


_FORMATS = tuple(f.value for f in ListFormat)
_FORMAT_Q = Param("format", "query", "csv (default), plain or json", enum=_FORMATS)


@api.op(
    Operation(
        "GET", "/blocks/export", "Export the blocklist", BlocklistExportOut, params=(_FORMAT_Q,)
    )
)
async def export_list(request: R, admin: A) -> BlocklistExportOut:
    fmt = ListFormat(params.choice(request, _FORMAT_Q, ListFormat.CSV.value))
    text, count = await admin.blocklists.export(fmt)
    return BlocklistExportOut(format=fmt, count=count, text=text)
