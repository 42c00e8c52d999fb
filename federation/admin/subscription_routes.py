"""Admin API: blocklist subscriptions (subscribe by URL, see each one's fetch history, fetch
now, unsubscribe)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from federation.admin.api import AdminRoutes, Operation, Param
from federation.admin.blocklists import ListFormat
from federation.admin.models import Body, Out
from federation.admin.service import AdminService
from federation.records import BlocklistSubscription

api = AdminRoutes()
routes = api.routes
R = web.Request
A = AdminService


class SubscribeRequest(Body):
    url: str = Field(min_length=1, max_length=2048, pattern=r"^https?://", description="the list")
    title: str = Field("", max_length=200)
    format: ListFormat | None = Field(None, description="csv, plain or json; guessed if absent")
    max_shrink: float = Field(
        0.5, ge=0.0, le=1.0, description="hold back a list that lost more than this fraction"
    )


class FetchOut(Out):
    at: float
    status: str = Field(description="applied, not modified, failed or held back")
    listed: int = Field(description="usable entries in the list")
    added: int
    removed: int
    error: str | None


class SubscriptionOut(BaseModel):
    id: str
    url: str
    title: str
    format: ListFormat | None
    max_shrink: float
    created_at: float
    next_fetch_at: float
    listed: int = Field(description="entries of the list last applied")
    last: FetchOut | None = Field(description="the latest fetch")
    history: list[FetchOut] = Field(description="the latest fetches, oldest first")

    @classmethod
    def of(cls, s: BlocklistSubscription) -> SubscriptionOut:
        history = [FetchOut.of(f) for f in s.history]
        return cls(
            id=s.id,
            url=s.url,
            title=s.title,
            format=ListFormat(s.format) if s.format else None,
            max_shrink=s.max_shrink,
            created_at=s.created_at,
            next_fetch_at=s.next_fetch_at,
            listed=s.listed,
            last=history[-1] if history else None,
            history=history,
        )


class SubscriptionList(BaseModel):
    items: list[SubscriptionOut]


class Unsubscribed(BaseModel):
    removed: list[str] = Field(description="domains no longer blocked (it alone held them)")


_ID = Param("id", "path", "the subscription's id", required=True)
_BY_ID = "/subscriptions/{id}"


def _one(method: str, path: str, summary: str, response: type[BaseModel]) -> Operation:
    """An operation on the subscription its path names by id (404 when there is none)."""
    return Operation(method, path, summary, response, params=(_ID,), may_404=True)


@api.op(Operation("GET", "/subscriptions", "Blocklist subscriptions", SubscriptionList))
async def subscriptions(request: R, admin: A) -> SubscriptionList:
    return SubscriptionList(
        items=[SubscriptionOut.of(s) for s in await admin.subscriptions.every()]
    )


@api.op(
    Operation(
        "POST", "/subscriptions", "Subscribe to a blocklist", SubscriptionOut, SubscribeRequest, 201
    )
)
async def subscribe(request: R, admin: A, body: SubscribeRequest) -> SubscriptionOut:
    made = await admin.subscriptions.subscribe(body.url, body.title, body.format, body.max_shrink)
    return SubscriptionOut.of(made)


@api.op(_one("GET", _BY_ID, "A subscription", SubscriptionOut))
async def subscription(request: R, admin: A) -> SubscriptionOut:
    return SubscriptionOut.of(await admin.subscriptions.get(request.match_info["id"]))


@api.op(_one("DELETE", _BY_ID, "Unsubscribe (retracting what it alone held)", Unsubscribed))
async def unsubscribe(request: R, admin: A) -> Unsubscribed:
    return Unsubscribed(removed=await admin.subscriptions.unsubscribe(request.match_info["id"]))


@api.op(_one("POST", _BY_ID + "/refresh", "Fetch a subscribed list now", FetchOut))
async def refresh(request: R, admin: A) -> FetchOut:
    return FetchOut.of(await admin.subscriptions.refresh(request.match_info["id"]))
