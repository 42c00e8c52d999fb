"""Request limits per peer host, kept by the routes that answer peers."""

from __future__ import annotations

from collections.abc import Callable


class PerHostLimit:
    """A fixed one-minute window per host; the table is reset whole when it grows too big."""

    def __init__(self, per_minute: int, clock: Callable[[], float]) -> None:
        self._per_minute = per_minute
        self._clock = clock
        self._counts: dict[tuple[str, int], int] = {}

    def allow(self, host: str) -> bool:
        window = (host, int(self._clock() // 60))
        if len(self._counts) > 10_000:
            self._counts.clear()
        self._counts[window] = count = self._counts.get(window, 0) + 1
        return count <= self._per_minute
