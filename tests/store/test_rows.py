"""Rows to records and back, driven by the record's fields and their types."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import types
import typing
import zlib
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.store import tables
from reconciler.store.records import PlanRecord
from reconciler.store.rows import RecordTable, timestamp_text


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Sample:
    id: int
    name: str
    at: dt.datetime
    seen: dt.datetime | None
    colour: Colour
    shade: Colour | None
    flag: bool
    data: dict[str, Any]
    extra_data: dict[str, Any] | None
    body: str | None
    renamed: str = "x"


SAMPLES = RecordTable(
    Sample,
    "samples",
    columns={"renamed": "other_name"},
    extra={"hidden_at": dt.datetime, "note": str},
    packed=("body",),
)
AT = dt.datetime(2024, 5, 28, 15, 0, 1, 5, tzinfo=ZoneInfo("America/New_York"))


def test_each_type_is_stored_as_its_column_holds_it():
    sample = Sample(1, "n", AT, None, Colour.RED, None, True, {"b": 1, "a": [1]}, None, "<é/>")
    row = SAMPLES.row(sample, hidden_at=AT, note="kept")
    assert {k: v for k, v in row.items() if k != "body"} == {
        "id": 1,
        "name": "n",
        "at": "2024-05-28T19:00:01.000005Z",
        "seen": None,
        "colour": "red",
        "shade": None,
        "flag": 1,
        "data": '{"a": [1], "b": 1}',
        "extra_data": None,
        "other_name": "x",
        "hidden_at": "2024-05-28T19:00:01.000005Z",
        "note": "kept",
    }
    assert zlib.decompress(row["body"]).decode() == "<é/>"
    back = SAMPLES.record(row)
    assert back == sample
    assert type(back.colour) is Colour and back.flag is True
    assert back.at.utcoffset() == dt.timedelta(0)


def test_a_row_follows_the_record_order_with_overrides_and_extras():
    sample = Sample(1, "n", AT, AT, Colour.BLUE, Colour.RED, False, {}, {"k": "v"}, None)
    row = SAMPLES.row(sample, name="other", note="n")
    assert list(row) == [*(SAMPLES.column(name) for name in SAMPLES.field_names), "note"]
    assert row["name"] == "other" and row["body"] is None
    assert SAMPLES.record(row) == dataclasses.replace(sample, name="other")


def test_single_values_are_stored_and_read_by_field_name():
    assert SAMPLES.values(renamed="y", seen=AT, flag=False) == {
        "other_name": "y",
        "seen": "2024-05-28T19:00:01.000005Z",
        "flag": 0,
    }
    assert SAMPLES.value("colour", Colour.BLUE) == "blue"
    assert SAMPLES.value("seen", None) is None
    assert SAMPLES.read("seen", "2024-05-28T19:00:01.000005Z") == AT
    assert SAMPLES.read("seen", None) is None
    assert SAMPLES.read("name", "n") == "n"
    assert SAMPLES.column("renamed") == "other_name"


def test_json_keeps_its_key_order_where_the_table_says_so():
    unsorted = RecordTable(Sample, "samples", unsorted_json=("data",))
    sample = Sample(
        1, "n", AT, None, Colour.RED, None, True, {"b": 1, "a": 2}, {"b": 1, "a": 2}, None
    )
    row = unsorted.row(sample)
    assert (row["data"], row["extra_data"]) == ('{"b": 1, "a": 2}', '{"a": 2, "b": 1}')
    assert list(unsorted.record(row).data) == ["b", "a"]


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError, match="naive"):
        SAMPLES.value("at", dt.datetime(2024, 5, 28))


@pytest.mark.parametrize(
    ("hint", "packed", "message"),
    [
        (int | str, (), "union"),
        (PlanRecord, (), "no way to store"),
        (int, ("odd",), "only text is packed"),
    ],
)
def test_a_column_of_no_known_kind_is_refused_when_the_table_is_made(hint, packed, message):
    odd = dataclasses.make_dataclass("Odd", [("odd", hint)])
    with pytest.raises(TypeError, match=message):
        RecordTable(odd, "odd", packed=packed)


def test_only_a_dataclass_makes_a_table():
    with pytest.raises(TypeError, match="not a dataclass"):
        RecordTable(dict, "nothing")


_ZONES = st.sampled_from(
    [dt.UTC, ZoneInfo("America/New_York"), dt.timezone(dt.timedelta(hours=5, minutes=30))]
)


@given(st.datetimes(min_value=dt.datetime(1900, 1, 1), timezones=_ZONES))
def test_timestamps_are_utc_text_that_sorts(moment):
    assert timestamp_text(moment) == moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_FIXED_ZONES = st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-5))])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def _values(hint: Any) -> st.SearchStrategy[Any]:
    if isinstance(hint, types.UnionType):
        [member] = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return st.none() | _values(member)
    if hint is dt.datetime:
        # Fixed offsets: a local time in a DST gap compares unequal to every other (PEP 495).
        return st.datetimes(min_value=dt.datetime(1900, 1, 1), timezones=_FIXED_ZONES)
    if typing.get_origin(hint) is dict:
        return st.dictionaries(st.text(), _JSON, max_size=4)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return st.sampled_from(list(hint))
    return st.from_type(hint)


TABLES = [table for table in vars(tables).values() if isinstance(table, RecordTable)]


def test_every_table_of_the_schema_is_described():
    assert len(TABLES) == 12


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.name)
@settings(max_examples=30)
@given(data=st.data())
def test_every_record_reads_back_as_it_was_written(table, data):
    hints = typing.get_type_hints(table.record_type)
    record = data.draw(
        st.builds(table.record_type, **{name: _values(hints[name]) for name in table.field_names})
    )
    back = table.record(table.row(record))
    # Every field, those left out of == (compare=False) too.
    assert [getattr(back, name) for name in table.field_names] == [
        getattr(record, name) for name in table.field_names
    ]
    json.dumps(table.row(record), default=repr)  # the row is plain values


def test_an_unused_field_default_is_kept():
    @dataclass(frozen=True)
    class WithDefault:
        id: int
        tags: dict[str, Any] = field(default_factory=dict)

    with_default = RecordTable(WithDefault, "with_default")
    assert with_default.record({"id": 3, "tags": "{}"}) == WithDefault(3)
