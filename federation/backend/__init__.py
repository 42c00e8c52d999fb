"""The backend contract (contract.py), the gateway's client for it (client.py), and the
reference backend that implements it (federation/refbackend/). See docs/backend-contract.md."""

from federation.backend.client import BackendClient, BackendRejected
from federation.backend.contract import (
    BackendBlock,
    BlockEvent,
    BlockPage,
    EventType,
    FollowChange,
    InboundNotification,
    NotificationType,
    Problem,
    RemoteBlock,
    ResolveBatchRequest,
    ResolveBatchResponse,
    ResolveResult,
    Visibility,
)

__all__ = [
    "BackendBlock",
    "BackendClient",
    "BackendRejected",
    "BlockEvent",
    "BlockPage",
    "EventType",
    "FollowChange",
    "InboundNotification",
    "NotificationType",
    "Problem",
    "RemoteBlock",
    "ResolveBatchRequest",
    "ResolveBatchResponse",
    "ResolveResult",
    "Visibility",
]
