"""The changes a plan holds: what will be written to QuickBooks.

The reconciler's diff produces these; the qbXML layer renders each one to a
request; the plan renderers show them. Each change keeps the state it was
computed from (``before``) so that a reviewer sees what moves, and so that the
rendered request carries the exact ``EditSequence`` it expects.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from reconciler.model.config import SendMark
from reconciler.model.quickbooks import Invoice, InvoiceLine, InvoiceLineGroup, Item, Ref


@dataclass(frozen=True)
class SyncedLine:
    """A line the reconciler wants on an invoice (one per synced charge).

    ``Rate`` is deliberately absent: the unit price is never written, so the
    line takes the item's own price in QuickBooks.
    """

    item: Ref
    desc: str
    quantity: Decimal
    service_date: dt.date | None = None
    sku: str = ""  # which offer this line bills; for display and matching


@dataclass(frozen=True)
class ItemCostUpdate:
    """Set an item's purchase cost to the charge's cost price."""

    item: Item  # as QuickBooks holds it now (ListID, EditSequence, kind)
    cost: Decimal

    @property
    def before(self) -> Decimal | None:
        """The item's purchase cost in QuickBooks now (None when it has none)."""
        return self.item.purchase_cost


@dataclass(frozen=True)
class InvoiceCreate:
    """Add an invoice that holds an organization's synced lines."""

    organization_id: str
    organization_name: str
    customer: Ref
    txn_date: dt.date
    # Deterministic from organization and period, so that a lost response
    # never leads to a second invoice (design invariant 2). No braces.
    external_guid: str
    lines: tuple[SyncedLine, ...]
    memo: str | None = None
    # Print/Email later (billing.mark_created): marked, the invoice counts as
    # unsent until it is sent, so corrections of its charges still reach it.
    mark: SendMark = SendMark.NONE


@dataclass(frozen=True)
class KeepLine:
    """An existing line (or group line) left exactly as it is."""

    txn_line_id: str
    is_group: bool = False


@dataclass(frozen=True)
class ModifyLine:
    """An existing synced line whose fields change."""

    txn_line_id: str
    line: SyncedLine
    before: InvoiceLine


@dataclass(frozen=True)
class AddLine:
    """A new synced line (``TxnLineID`` -1 in ``InvoiceMod``)."""

    line: SyncedLine


LineOp = KeepLine | ModifyLine | AddLine


@dataclass(frozen=True)
class InvoiceUpdate:
    """Modify an existing invoice.

    ``lines`` is the complete list of the invoice's lines after the change, in
    order: QuickBooks deletes every existing line that an ``InvoiceMod`` does
    not list (design invariant 3), so kept lines are listed by ``TxnLineID``.
    ``removed`` holds the synced lines that go away, for display only.
    """

    organization_ids: tuple[str, ...]
    organization_names: tuple[str, ...]
    invoice: Invoice  # as QuickBooks holds it now (TxnID, EditSequence)
    lines: tuple[LineOp, ...]
    removed: tuple[InvoiceLine | InvoiceLineGroup, ...] = ()


Change = ItemCostUpdate | InvoiceCreate | InvoiceUpdate
