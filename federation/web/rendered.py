"""Rendered public blocks for GET /blocks/{id}: the signed ActivityStreams bytes, kept per block.

Rendering a block (validation, the eddsa-jcs-2022 proof, JSON, the ETag) costs far more than
reading it. The proof is dated by the block's last change, so one backend answer always renders
to the same bytes: an entry is the backend's exact answer and what it rendered to, and it is
served only for a byte-identical answer. Every read still asks the backend (the system of
record, with no conditional GET in the contract), so a block made private or embargoed is a 404
on the very next read in every process, before its event arrives anywhere; the backend's block
events drop the entry besides (memory is not spent on versions no longer served).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

MAX_ENTRIES = 4096  # a few KiB each


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes  # the signed object, as served
    etag: str
    last_modified: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class _Entry:
    answer: bytes  # the backend's answer it was rendered from
    rendered: Rendered


class RenderedBlocks:
    """Least recently used out. Only released (public, past any embargo) blocks are put: a
    released block stays released while its backend answer is unchanged, so a hit needs no
    other check."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._max = max_entries

    def get(self, block_id: str, answer: bytes) -> Rendered | None:
        entry = self._entries.get(block_id)
        if entry is None:
            return None
        if entry.answer != answer:  # another version, or no longer public: render again
            del self._entries[block_id]
            return None
        self._entries.move_to_end(block_id)
        return entry.rendered

    def put(self, block_id: str, answer: bytes, rendered: Rendered) -> None:
        self._entries[block_id] = _Entry(answer, rendered)
        self._entries.move_to_end(block_id)
        if len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def drop(self, block_id: str) -> None:
        self._entries.pop(block_id, None)

    def __len__(self) -> int:
        return len(self._entries)
