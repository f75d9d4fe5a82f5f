"""Fingerprints (sha256) of the three inputs of a plan.

A saved plan applies only to the state it was computed from (design
invariant 7): ``apply`` compares the plan's state fingerprint with the latest
snapshot's, computed by :func:`fingerprint_state` here, so both sides must use
this one function.

The fingerprint is the sha256 of a canonical JSON text of the model values:
each dataclass as the array of its value fields in declaration order (where
an object came from, its ``where``, is not part of its value, so moving a YAML
comment does not change the configuration's fingerprint); decimals by value
(``12`` and ``12.00`` are the same quantity); dates ISO 8601; sets sorted;
UTF-8, no whitespace. QuickBooks lists are sorted by their ids, so the order
in which responses arrive does not matter either; invoice lines keep their
order, which does.

Speed matters (a state of 10,000 invoices is fingerprinted on every plan):
the C JSON encoder walks the data and calls back only for dataclasses (their
fields fetched at once by a per-class ``attrgetter``), decimals and dates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from operator import attrgetter
from typing import Any

from reconciler.model.charges import ChargesBundle
from reconciler.model.config import Config
from reconciler.model.quickbooks import QBState


def decimal_text(value: Decimal) -> str:
    """A decimal as plain text, by value: ``12``, ``0.5``, ``-1.54839`` (no exponent)."""
    text = str(value)
    if "E" not in text:  # the common case, without Decimal arithmetic
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)) + 0)  # + 0: no "-0"
    return format(value.normalize(), "f")


@cache
def _fields_getter(cls: type) -> Callable[[Any], Any] | None:
    """A getter of the value fields of a dataclass, as a tuple (``None``: not one)."""
    if not dataclasses.is_dataclass(cls):
        return None
    names = [f.name for f in dataclasses.fields(cls) if f.compare]
    if len(names) == 1:
        single = attrgetter(names[0])
        return lambda value: (single(value),)
    return attrgetter(*names)


def _encode(value: Any) -> Any:
    """What the JSON encoder cannot encode itself, as something it can.

    Called for every decimal, date and dataclass of the state: the most
    frequent come first.
    """
    kind = type(value)
    if kind is Decimal:
        return decimal_text(value)
    getter = _fields_getter(kind)
    if getter is not None:
        return getter(value)
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, Decimal):  # a subclass
        return decimal_text(value)
    if isinstance(value, frozenset | set):
        return sorted(_canonical_text(v) for v in value)
    raise TypeError(f"cannot fingerprint a {kind.__name__}")


def _canonical_text(value: Any) -> str:
    # Enums here are str enums: the encoder writes their value.
    return json.dumps(
        value,
        default=_encode,
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
        check_circular=False,  # model values are trees
    )


def digest(value: Any) -> str:
    """The sha256 (hex) of the canonical JSON of ``value``.

    A dataclass's tuple fields are encoded element by element into the hash:
    the same text as encoding the whole at once, without holding all of it
    (tens of megabytes for a large state) in memory.
    """
    hasher = hashlib.sha256()
    getter = _fields_getter(type(value))
    if getter is None:
        hasher.update(_canonical_text(value).encode("utf-8"))
        return hasher.hexdigest()
    for number, field in enumerate(getter(value)):
        hasher.update(b"," if number else b"[")
        if isinstance(field, tuple):
            for index, element in enumerate(field):
                hasher.update(b"," if index else b"[")
                hasher.update(_canonical_text(element).encode("utf-8"))
            hasher.update(b"]" if field else b"[]")
        else:
            hasher.update(_canonical_text(field).encode("utf-8"))
    hasher.update(b"]")
    return hasher.hexdigest()


def fingerprint_config(config: Config) -> str:
    """The fingerprint of a configuration (what it says, not how it is written)."""
    return digest(config)


def fingerprint_charges(charges: ChargesBundle) -> str:
    """The fingerprint of a charges bundle (customers sorted by id)."""
    customers = sorted(charges.customers, key=lambda c: c.customer_id.lower())
    return digest(dataclasses.replace(charges, customers=tuple(customers)))


def fingerprint_state(state: QBState) -> str:
    """The fingerprint of a QuickBooks state; ``apply`` compares it with the snapshot's."""
    ordered = QBState(
        host=state.host,
        customers=tuple(sorted(state.customers, key=lambda c: c.list_id)),
        items=tuple(sorted(state.items, key=lambda i: i.list_id)),
        invoices=tuple(sorted(state.invoices, key=lambda i: i.txn_id)),
    )
    return digest(ordered)
