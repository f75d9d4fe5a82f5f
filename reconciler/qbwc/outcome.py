"""Did a modification go through? Judged from QuickBooks' state when its answer was lost.

A modification carries the EditSequence it was computed from. If QuickBooks
still holds that EditSequence, nothing happened and the request can go again.
If not, the object changed: when it now reads exactly as the request would
have left it, the request went through; otherwise someone else changed it, and
only a new plan can say what to do (design invariant 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from lxml import etree

from reconciler.base.xmlsafe import XMLInputError, parse_xml
from reconciler.model.quickbooks import InvoiceLine, InvoiceLineGroup, QBState, Ref


class Outcome(StrEnum):
    """What became of a modification whose answer was lost."""

    NOT_APPLIED = "not-applied"  # same EditSequence: send it again
    APPLIED = "applied"  # the object reads as the request left it
    CHANGED = "changed"  # changed otherwise, or not found: plan again


@dataclass(frozen=True)
class _LineOp:
    txn_line_id: str
    item: Ref | None
    desc: str | None
    quantity: Decimal | None
    service_date: str | None
    touched: bool  # carries fields (modified or added), not only kept


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(path)
    return None if found is None or found.text is None else found.text.strip()


def _decimal(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def modification_outcome(qbxml: str, state: QBState) -> Outcome:
    """The outcome of the modification request ``qbxml`` given QuickBooks' ``state``."""
    try:
        root = parse_xml(qbxml, source="queued request")
    except XMLInputError:
        return Outcome.CHANGED
    invoice_mod = root.find("QBXMLMsgsRq/InvoiceModRq/InvoiceMod")
    if invoice_mod is not None:
        return _invoice_outcome(invoice_mod, state)
    item_mod = root.find("QBXMLMsgsRq/*/*[ListID]")
    if item_mod is not None:
        return _item_outcome(item_mod, state)
    return Outcome.CHANGED


def _item_outcome(mod: etree._Element, state: QBState) -> Outcome:
    list_id = _text(mod, "ListID")
    item = next((i for i in state.items if i.list_id == list_id), None)
    if item is None:
        return Outcome.CHANGED
    if item.edit_sequence == _text(mod, "EditSequence"):
        return Outcome.NOT_APPLIED
    cost = _decimal(_text(mod, "SalesAndPurchaseMod/PurchaseCost"))
    return Outcome.APPLIED if cost is not None and item.purchase_cost == cost else Outcome.CHANGED


def _invoice_outcome(mod: etree._Element, state: QBState) -> Outcome:
    txn_id = _text(mod, "TxnID")
    invoice = next((i for i in state.invoices if i.txn_id == txn_id), None)
    if invoice is None:
        return Outcome.CHANGED
    if invoice.edit_sequence == _text(mod, "EditSequence"):
        return Outcome.NOT_APPLIED
    ops = [_line_op(op) for op in mod if op.tag in {"InvoiceLineMod", "InvoiceLineGroupMod"}]
    # Unlisted lines are deleted, and the lines keep the request's order.
    if len(ops) != len(invoice.lines):
        return Outcome.CHANGED
    for op, line in zip(ops, invoice.lines, strict=True):
        if not _matches(op, line):
            return Outcome.CHANGED
    return Outcome.APPLIED


def _line_op(element: etree._Element) -> _LineOp:
    item = element.find("ItemRef")
    return _LineOp(
        txn_line_id=_text(element, "TxnLineID") or "",
        item=None
        if item is None
        else Ref(list_id=_text(item, "ListID"), full_name=_text(item, "FullName")),
        desc=_text(element, "Desc"),
        quantity=_decimal(_text(element, "Quantity")),
        service_date=_text(element, "ServiceDate"),
        touched=len(element) > 1,
    )


def _matches(op: _LineOp, line: InvoiceLine | InvoiceLineGroup) -> bool:
    if op.txn_line_id != "-1" and op.txn_line_id != line.txn_line_id:
        return False
    if not op.touched:
        return True
    if isinstance(line, InvoiceLineGroup):
        return False
    if op.item is not None and not _same_ref(op.item, line.item):
        return False
    service_date = line.service_date.isoformat() if line.service_date else None
    return (
        (op.desc or "") == (line.desc or "").strip()
        and op.quantity == line.quantity
        and op.service_date == service_date
    )


def _same_ref(wanted: Ref, found: Ref | None) -> bool:
    if found is None:
        return False
    if wanted.list_id:
        return wanted.list_id == found.list_id
    return (wanted.full_name or "").casefold() == (found.full_name or "").casefold()
