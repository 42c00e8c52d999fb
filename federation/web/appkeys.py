"""Typed keys for everything stored on the aiohttp application."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from federation.config import Settings
    from federation.instance import Instance
    from federation.keys import InstanceKeys
    from federation.observability.setup import Telemetry
    from federation.ports import Store

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
CLOCK: web.AppKey[Callable[[], float]] = web.AppKey("clock")
KEYS: web.AppKey[InstanceKeys] = web.AppKey("keys")
STORE: web.AppKey[Store] = web.AppKey("store")
INSTANCE: web.AppKey[Instance] = web.AppKey("instance")
TELEMETRY: web.AppKey[Telemetry] = web.AppKey("telemetry")
