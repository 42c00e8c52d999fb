"""The one rule that decides whether a local block may leave the instance.

Every path that shows a block to the outside (read proxy, outbox, resolver's local shortcut)
asks `is_released`, so an embargo or a private flag cannot be honoured in one place and
forgotten in another.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class HasVisibility(Protocol):
    """What the rule reads from a block (the Block model fits, as do other
    records with these two fields)."""

    @property
    def visibility(self) -> str: ...

    @property
    def embargo_until(self) -> datetime | None: ...


def is_released(block: HasVisibility, now: float) -> bool:
    """Public blocks, and embargoed ones whose embargo has ended; private never."""
    visibility = str(block.visibility)
    if visibility == "public":
        return True
    if visibility == "embargoed":
        until = block.embargo_until
        # An embargo without a date is treated as never lifting: fail closed.
        return until is not None and until.timestamp() <= now
    return False
