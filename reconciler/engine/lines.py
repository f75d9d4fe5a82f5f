"""Matching an invoice's synced lines with the desired ones.

An existing line is *synced* when it holds a mapped item (one the diff
manages); every other line, and every group line whole, is kept exactly as it
is, listed by ``TxnLineID`` in its place (design invariant 3). Synced lines are
paired with desired lines of the same item: first those that agree on service
date and description, then on service date, then on description, then in
order. A pair whose fields differ is modified in place; an unpaired existing
synced line is removed; an unpaired desired line is added at the end.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from deepdiff import DeepDiff

from reconciler.engine.changes import AddLine, KeepLine, LineOp, ModifyLine, SyncedLine
from reconciler.model.quickbooks import InvoiceLine, InvoiceLineGroup, Ref

# The fields of a synced line the reconciler writes (never Rate), by the
# names the plan shows.
LINE_FIELDS = ("description", "quantity", "service_date")

FieldValue = str | Decimal | dt.date | None


@dataclass(frozen=True)
class FieldChange:
    """One field of one line that changes: ``quantity 12 -> 15``."""

    field: str
    before: FieldValue
    after: FieldValue


@dataclass(frozen=True)
class LinePlan:
    """The line operations of one invoice, and the synced lines that go away."""

    ops: tuple[LineOp, ...]
    removed: tuple[InvoiceLine, ...]

    @property
    def added(self) -> int:
        """How many lines are added."""
        return sum(isinstance(op, AddLine) for op in self.ops)

    @property
    def modified(self) -> int:
        """How many existing lines are modified."""
        return sum(isinstance(op, ModifyLine) for op in self.ops)

    @property
    def changes_existing(self) -> bool:
        """Whether a line already on the invoice is modified or removed."""
        return bool(self.removed) or self.modified > 0

    @property
    def is_noop(self) -> bool:
        """Whether the invoice's lines stay as they are: nothing added, modified or removed."""
        return not self.removed and all(isinstance(op, KeepLine) for op in self.ops)


def _existing_fields(line: InvoiceLine) -> dict[str, FieldValue]:
    return {"description": line.desc, "quantity": line.quantity, "service_date": line.service_date}


def _desired_fields(line: SyncedLine) -> dict[str, FieldValue]:
    return {"description": line.desc, "quantity": line.quantity, "service_date": line.service_date}


def same_fields(existing: InvoiceLine, desired: SyncedLine) -> bool:
    """Whether an existing line already says what the desired line says."""
    return _existing_fields(existing) == _desired_fields(desired)


def field_changes(before: InvoiceLine, after: SyncedLine) -> tuple[FieldChange, ...]:
    """Which fields of a modified line change, from old to new (via deepdiff)."""
    diff = DeepDiff(_existing_fields(before), _desired_fields(after), view="tree")
    changes = [
        FieldChange(str(level.path(output_format="list")[0]), level.t1, level.t2)
        for report in ("values_changed", "type_changes")
        for level in diff.get(report, ())
    ]
    order = {name: index for index, name in enumerate(LINE_FIELDS)}
    return tuple(sorted(changes, key=lambda c: order[c.field]))


_PAIRING_KEYS: tuple[Callable[[InvoiceLine | SyncedLine], object], ...] = (
    lambda line: (line.service_date, line.desc),
    lambda line: line.service_date,
    lambda line: line.desc,
    lambda line: None,  # whatever is left, in order
)


def _pair(
    existing: list[InvoiceLine], desired: list[tuple[int, SyncedLine]]
) -> tuple[list[tuple[InvoiceLine, SyncedLine]], list[InvoiceLine], list[int]]:
    """Pair one item's lines, most specific agreement first.

    Returns the pairs, the existing lines left over and the positions of the
    desired lines left over.
    """
    if len(existing) == 1 and len(desired) == 1:  # the common case: one line per item
        return [(existing[0], desired[0][1])], [], []
    pairs: list[tuple[InvoiceLine, SyncedLine]] = []
    left = list(existing)
    wanted = list(desired)
    for key in _PAIRING_KEYS:
        if not left or not wanted:
            break
        by_key: dict[object, list[int]] = defaultdict(list)
        for index, line in enumerate(left):
            by_key[key(line)].append(index)
        taken: set[int] = set()
        unmatched = []
        for position, line in wanted:
            candidates = by_key.get(key(line))
            if candidates:
                index = candidates.pop(0)
                taken.add(index)
                pairs.append((left[index], line))
            else:
                unmatched.append((position, line))
        left = [line for index, line in enumerate(left) if index not in taken]
        wanted = unmatched
    return pairs, left, [position for position, _ in wanted]


def plan_lines(
    existing: Sequence[InvoiceLine | InvoiceLineGroup],
    desired: Sequence[SyncedLine],
    synced_key: Callable[[Ref | None], str | None],
) -> LinePlan:
    """The line operations that turn ``existing`` into ``desired``.

    ``synced_key`` tells which existing lines are synced: it maps a line's item
    reference to the managed item's key (its ListID), or ``None`` for lines the
    reconciler must leave alone. Desired lines carry resolved references.
    """
    existing_by_item: dict[str, list[InvoiceLine]] = defaultdict(list)
    for line in existing:
        if isinstance(line, InvoiceLine):
            key = synced_key(line.item)
            if key is not None:
                existing_by_item[key].append(line)
    desired_by_item: dict[str, list[tuple[int, SyncedLine]]] = defaultdict(list)
    for position, line in enumerate(desired):
        desired_by_item[synced_key(line.item) or ""].append((position, line))

    paired: dict[str, SyncedLine] = {}
    removed_ids: set[str] = set()
    added: set[int] = set()
    for key in existing_by_item.keys() | desired_by_item.keys():
        pairs, left, wanted = _pair(existing_by_item.get(key, []), desired_by_item.get(key, []))
        paired.update((old.txn_line_id, new) for old, new in pairs)
        removed_ids.update(line.txn_line_id for line in left)
        added.update(wanted)

    ops: list[LineOp] = []
    removed: list[InvoiceLine] = []
    for line in existing:
        if isinstance(line, InvoiceLineGroup):
            ops.append(KeepLine(line.txn_line_id, is_group=True))
        elif line.txn_line_id in removed_ids:
            removed.append(line)
        elif line.txn_line_id in paired and not same_fields(line, paired[line.txn_line_id]):
            ops.append(ModifyLine(line.txn_line_id, paired[line.txn_line_id], before=line))
        else:
            ops.append(KeepLine(line.txn_line_id))
    ops.extend(AddLine(line) for position, line in enumerate(desired) if position in added)
    return LinePlan(ops=tuple(ops), removed=tuple(removed))
