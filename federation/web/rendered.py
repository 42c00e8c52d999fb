"""Rendered public blocks for GET /blocks/{id} (the signed ActivityStreams bytes, kept per
block) and rendered outbox pages for GET /actor/outbox?page=... (kept per page).

Rendering a block (validation, the eddsa-jcs-2022 proof, JSON, the ETag) costs far more than
reading it. The proof is dated by the block's last change, so one backend answer always renders
to the same bytes: an entry is the backend's exact answer and what it rendered to, and it is
served only for a byte-identical answer. Every read still asks the backend (the system of
record, with no conditional GET in the contract), so a block made private or embargoed is a 404
on the very next read in every process, before its event arrives anywhere; the backend's block
events drop the entry besides (memory is not spent on versions no longer served).

Outbox pages follow the same rule: every read lists the page from the backend, and a page's
rendering is reused only for an equal listing and only until the first embargo on it ends (the
one change that needs no new answer). Any block event drops every page, since a block's page
is not known from its id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cachetools import LRUCache

from federation.backend.contract import BlockPage

MAX_ENTRIES = 4096  # a few KiB each
MAX_PAGES = 256  # up to ~50 objects each


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
    other check. `pages` holds the outbox pages, which the same block events invalidate."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: LRUCache[str, _Entry] = LRUCache(maxsize=max_entries)
        self.pages = RenderedPages()

    def changed(self, block_id: str) -> None:
        """A block event: its rendering and every outbox page (any may list it) go."""
        self.drop(block_id)
        self.pages.clear()

    def get(self, block_id: str, answer: bytes) -> Rendered | None:
        entry = self._entries.get(block_id)
        if entry is None:
            return None
        if entry.answer != answer:  # another version, or no longer public: render again
            del self._entries[block_id]
            return None
        return entry.rendered

    def put(self, block_id: str, answer: bytes, rendered: Rendered) -> None:
        self._entries[block_id] = _Entry(answer, rendered)

    def drop(self, block_id: str) -> None:
        self._entries.pop(block_id, None)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True, slots=True)
class RenderedPage:
    body: bytes  # the OrderedCollectionPage, as served
    etag: str
    listing: BlockPage  # the backend's listing it was rendered from
    valid_until: float  # when an embargo on the page ends (inf: none does)
    generations: tuple[int, ...] = ()  # of the listed Creates' ids (activities/local.py)


class RenderedPages:
    """Outbox pages by page token, least recently used out."""

    def __init__(self, max_entries: int = MAX_PAGES) -> None:
        self._entries: LRUCache[str, RenderedPage] = LRUCache(maxsize=max_entries)

    def get(
        self, page: str, listing: BlockPage, now: float, generations: tuple[int, ...] = ()
    ) -> RenderedPage | None:
        entry = self._entries.get(page)
        if entry is None:
            return None
        stale = entry.listing != listing or entry.generations != generations
        if stale or now >= entry.valid_until:
            del self._entries[page]
            return None
        return entry

    def put(self, page: str, rendered: RenderedPage) -> None:
        self._entries[page] = rendered

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
