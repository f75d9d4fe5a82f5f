"""Fingerprints (sha256) of the three inputs of a plan.

A saved plan applies only to the state it was computed from (design
invariant 7): ``apply`` compares the plan's state fingerprint with the latest
snapshot's, computed by :func:`fingerprint_state` here, so both sides must use
this one function.

The fingerprint is the sha256 of a canonical JSON of the model values: keys
sorted, no whitespace, UTF-8; decimals by value (``12`` and ``12.00`` are the
same quantity); dates ISO 8601; sets sorted. Where an object came from (its
``where``: not part of its value) is left out, so moving a YAML comment does
not change the configuration's fingerprint. QuickBooks lists are sorted by
their ids, so the order in which responses arrive does not matter either;
invoice lines keep their order, which does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from reconciler.model import ChargesBundle, Config, QBState


@cache
def _value_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.compare)


def _decimal(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


def canonical(value: Any) -> Any:
    """``value`` as plain JSON data, the same for every equal value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: canonical(getattr(value, name)) for name in _value_fields(type(value))}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted((canonical(v) for v in value), key=_sort_key)
    if isinstance(value, tuple | list):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    raise TypeError(f"cannot fingerprint a {type(value).__name__}")


def _sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def digest(value: Any) -> str:
    """The sha256 (hex) of the canonical JSON of ``value``."""
    text = json.dumps(canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
