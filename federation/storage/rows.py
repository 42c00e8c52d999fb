"""Records read back from stored rows, and a job's row key, for both adapters.

Each adapter stores a record's fields under the fields' own names (SQLite's columns, MongoDB's
document fields), so reading a record back is the same walk over its fields everywhere; only
the fields stored in another form (an enum's value, JSON text, MongoDB's `_id` key) are
decoded by the adapter, by name.
"""

from __future__ import annotations

from dataclasses import fields
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance  # the type of "any dataclass" (typeshed only)

Record = TypeVar("Record", bound="DataclassInstance")


class Row(Protocol):
    """A stored row read by name: a sqlite3.Row, or a MongoDB document."""

    def __getitem__(self, name: str, /) -> Any: ...


def record_from(kind: type[Record], row: Row, **decoded: Any) -> Record:
    """The `kind` record whose fields are the row's values of the same names, except those in
    `decoded`, which the adapter read in its own way (a missing name raises KeyError)."""
    stored = {name: row[name] for name in _field_names(kind) if name not in decoded}
    return kind(**stored, **decoded)


@cache  # a record type's fields never change; claim reads a batch of jobs at a time
def _field_names(kind: type[DataclassInstance]) -> tuple[str, ...]:
    return tuple(field.name for field in fields(kind))


def row_id(job_id: int | str) -> int | None:
    """A job's key in either store: our ids are integers; a string id (from an admin URL) is
    accepted if it is one, and None (no job) otherwise."""
    if isinstance(job_id, int):
        return job_id
    try:
        return int(job_id)
    except ValueError:
        return None
