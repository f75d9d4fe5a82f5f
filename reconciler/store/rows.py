"""Rows to records and back, one way for every table.

A :class:`RecordTable` reads a record dataclass's fields and their types once
and derives from them how each column is stored:

- a ``datetime`` is UTC text that sorts (:func:`timestamp_text`);
- a ``dict`` is JSON text (keys sorted, unless the table says otherwise);
- a ``bool`` is an integer, 0 or 1;
- an ``Enum`` is its value;
- a column the table names as packed holds UTF-8 text compressed with zlib;
- anything else (``int``, ``str``, ``None``) is stored as it is.

Columns the record does not carry (a hash, a timestamp of the row's own) are
declared with their types, and encoded the same way. Nothing here speaks SQL:
a row is anything indexed by column name (``sqlite3.Row``, a mapping).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
import operator
import types
import typing
import zlib
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import fields, is_dataclass
from typing import Any, Generic, TypeVar

R = TypeVar("R")
Convert = Callable[[Any], Any]


@functools.lru_cache(maxsize=256)
def timestamp_text(moment: dt.datetime) -> str:
    """A moment as UTC text that sorts (``2024-05-28T15:00:00.000000Z``); never a naive one."""
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("naive datetime given to the store")
    utc = moment if not offset else moment.astimezone(dt.UTC)
    # isoformat: the format of strftime("%Y-%m-%dT%H:%M:%S.%fZ"), several times faster.
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def pack(text: str) -> bytes:
    """Text as a packed column holds it."""
    # Level 1: qbXML still shrinks about twentyfold, at a third of level 6's CPU
    # (the server packs every response it records, within the call).
    return zlib.compress(text.encode("utf-8"), 1)


def unpack(blob: bytes) -> str:
    """The text of a packed column."""
    return zlib.decompress(blob).decode("utf-8")


def _sorted_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _as_given_json(value: Any) -> str:
    return json.dumps(value)


def _codec(
    name: str, hint: Any, *, packed: bool, sort_keys: bool
) -> tuple[Convert | None, Convert | None]:
    """(read, write) for a column of type ``hint``; None where the value is stored as it is."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        members = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(members) != 1:
            raise TypeError(f"column {name}: cannot store a union {hint!r}")
        hint = members[0]
    read: Convert | None
    write: Convert | None
    origin = typing.get_origin(hint) or hint
    if packed:
        if hint is not str:
            raise TypeError(f"column {name}: only text is packed, not {hint!r}")
        read, write = unpack, pack
    elif hint is dt.datetime:
        read, write = dt.datetime.fromisoformat, timestamp_text
    elif origin is dict or origin is list:
        read, write = json.loads, _sorted_json if sort_keys else _as_given_json
    elif hint is bool:
        read, write = bool, int
    elif isinstance(hint, type) and issubclass(hint, enum.Enum):
        read, write = hint, _enum_value
    elif hint in (int, str, float, bytes):
        return None, None
    else:
        raise TypeError(f"column {name}: no way to store {hint!r}")
    # A None is NULL whatever the column: RecordTable converts the other values only.
    return read, write


def _enum_value(member: enum.Enum) -> Any:
    return member.value


class RecordTable(Generic[R]):
    """How the rows of one table are read as ``record`` and written back.

    ``columns``: the column of a field whose name differs from it.
    ``extra``: the table's columns the record does not carry, with their types.
    ``packed``: the (field or extra) names whose text is stored packed.
    ``unsorted_json``: JSON written with its keys in their own order (for a
    document written at every call, where sorting costs and buys nothing).
    """

    def __init__(
        self,
        record: type[R],
        name: str,
        *,
        columns: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
        packed: Collection[str] = (),
        unsorted_json: Collection[str] = (),
    ) -> None:
        if not is_dataclass(record):
            raise TypeError(f"{record!r} is not a dataclass")
        self.record_type = record
        self.name = name
        renamed = dict(columns or {})
        hints = typing.get_type_hints(record)
        reads: list[tuple[str, Convert | None]] = []  # per field, in the record's order
        # field or extra name -> (column, read, write)
        self._codecs: dict[str, tuple[str, Convert | None, Convert | None]] = {}
        typed = [(f.name, hints[f.name]) for f in fields(record)]
        for attribute, hint in [*typed, *(extra or {}).items()]:
            read, write = _codec(
                attribute,
                hint,
                packed=attribute in packed,
                sort_keys=attribute not in unsorted_json,
            )
            column = renamed.get(attribute, attribute)
            if attribute in hints:
                reads.append((column, read))
            self._codecs[attribute] = (column, read, write)
        self.field_names = tuple(f.name for f in fields(record))
        # A record is built positionally from its columns, fetched at once, the
        # values that need it converted: this runs for every row the store reads.
        self._fetch = operator.itemgetter(*(column for column, _ in reads))
        self._conversions = tuple((index, read) for index, (_, read) in enumerate(reads) if read)
        if len(reads) == 1:
            raise TypeError(f"{record!r}: a record of one field is no table")

    def column(self, attribute: str) -> str:
        """The column that holds a field (or an extra column) of the table."""
        return self._codecs[attribute][0]

    def record(self, row: Any) -> R:
        """The record a row holds (it has a column for every field of the record)."""
        values = list(self._fetch(row))
        for index, read in self._conversions:
            stored = values[index]
            if stored is not None:
                values[index] = read(stored)
        return self.record_type(*values)

    def records(self, rows: Iterable[Any]) -> list[R]:
        """The record of each row, in order."""
        return [self.record(row) for row in rows]

    def read(self, attribute: str, stored: Any) -> Any:
        """The value of field (or extra column) ``attribute`` that its column holds as ``stored``."""
        read = self._codecs[attribute][1]
        return stored if read is None or stored is None else read(stored)

    def value(self, attribute: str, value: Any) -> Any:
        """``value`` as the column of field (or extra column) ``attribute`` stores it."""
        write = self._codecs[attribute][2]
        return value if write is None or value is None else write(value)

    def values(self, **values: Any) -> dict[str, Any]:
        """Column name -> stored value, for fields (or extra columns) given by name."""
        return self._stored(values.items())

    def row(self, record: R, **overrides: Any) -> dict[str, Any]:
        """A record as column name -> stored value, every field in the record's order
        (those in ``overrides`` with the value given there), then the extra columns given."""
        given = [
            (name, overrides.pop(name) if name in overrides else getattr(record, name))
            for name in self.field_names
        ]
        return self._stored([*given, *overrides.items()])

    def _stored(self, values: Iterable[tuple[str, Any]]) -> dict[str, Any]:
        stored: dict[str, Any] = {}
        for attribute, value in values:
            column, _, write = self._codecs[attribute]
            stored[column] = value if write is None or value is None else write(value)
        return stored
