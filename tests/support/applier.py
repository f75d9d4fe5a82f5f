"""A small in-memory QuickBooks for tests: applies plan changes to a QBState.

It does what QuickBooks does with the requests a plan sends: an item Mod sets
the purchase cost; InvoiceAdd adds an invoice with new TxnLineIDs; InvoiceMod
checks the EditSequence, keeps listed lines, changes modified ones, adds ``-1``
lines and deletes every existing line it does not list.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from reconciler.engine.changes import (
    AddLine,
    Change,
    InvoiceCreate,
    InvoiceUpdate,
    ItemCostUpdate,
    KeepLine,
    ModifyLine,
    SyncedLine,
)
from reconciler.model.quickbooks import Invoice, InvoiceLine, QBState


class EditSequenceMismatch(Exception):
    """QuickBooks' error 3200: the object changed since it was read."""


class QuickBooks:
    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def _id(self, prefix: str) -> str:
        return f"{prefix}-NEW-{next(self._ids)}"

    def _new_line(self, line: SyncedLine) -> InvoiceLine:
        # No Rate is sent: QuickBooks takes the item's price (not modelled here).
        return InvoiceLine(
            txn_line_id=self._id("L"),
            item=line.item,
            desc=line.desc,
            quantity=line.quantity,
            service_date=line.service_date,
        )

    def apply(self, state: QBState, changes: list[Change]) -> QBState:
        for change in changes:
            state = self.apply_one(state, change)
        return state

    def apply_one(self, state: QBState, change: Change) -> QBState:
        if isinstance(change, ItemCostUpdate):
            items = tuple(
                replace(
                    item,
                    purchase_cost=change.cost,
                    edit_sequence=str(int(item.edit_sequence) + 1),
                )
                if item.list_id == change.item.list_id
                else item
                for item in state.items
            )
            return replace(state, items=items)
        if isinstance(change, InvoiceCreate):
            added = Invoice(
                txn_id=self._id("T"),
                edit_sequence="1",
                customer=change.customer,
                txn_date=change.txn_date,
                memo=change.memo,
                external_guid="{" + change.external_guid.upper() + "}",
                lines=tuple(self._new_line(line) for line in change.lines),
            )
            return replace(state, invoices=(*state.invoices, added))
        assert isinstance(change, InvoiceUpdate)
        return replace(
            state,
            invoices=tuple(
                self._modify(invoice, change)
                if invoice.txn_id == change.invoice.txn_id
                else invoice
                for invoice in state.invoices
            ),
        )

    def _modify(self, invoice: Invoice, change: InvoiceUpdate) -> Invoice:
        if invoice.edit_sequence != change.invoice.edit_sequence:
            raise EditSequenceMismatch(invoice.txn_id)
        by_id = {line.txn_line_id: line for line in invoice.lines}
        lines = []
        for op in change.lines:
            if isinstance(op, KeepLine):
                lines.append(by_id[op.txn_line_id])
            elif isinstance(op, ModifyLine):
                lines.append(
                    replace(
                        by_id[op.txn_line_id],
                        desc=op.line.desc,
                        quantity=op.line.quantity,
                        service_date=op.line.service_date,
                    )
                )
            else:
                assert isinstance(op, AddLine)
                lines.append(self._new_line(op.line))
        # Every line not listed is gone, as InvoiceMod does.
        return replace(
            invoice,
            lines=tuple(lines),
            edit_sequence=str(int(invoice.edit_sequence) + 1),
        )
