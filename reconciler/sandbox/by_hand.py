"""Changes people make in QuickBooks, outside any request: payments, edits, Send Forms.

Tests and fixtures use them to put the books in the state a client meets when
someone has worked in QuickBooks between two runs. Each one is a change to the
invoice as QuickBooks records it: a new ``EditSequence`` and ``TimeModified``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from lxml import etree

from reconciler.sandbox import elements as el
from reconciler.sandbox.books import Books
from reconciler.sandbox.elements import Element
from reconciler.sandbox.invoices import bump, recompute_totals


def receive_payment(
    books: Books,
    txn_id: str,
    amount: Decimal | str | None = None,
    *,
    date: dt.date | None = None,
    ref_number: str | None = None,
    moment: dt.datetime | None = None,
) -> Element:
    """Receive a payment against an invoice (the whole balance when no amount).

    The invoice gets an ``AppliedAmount``, a lower ``BalanceRemaining``,
    ``IsPaid`` once nothing remains, and a ``LinkedTxn`` of type
    ``ReceivePayment``, as QuickBooks records it.
    """
    moment = moment or _now()
    ret = _existing(books, txn_id)
    balance = el.decimal(el.text_of(ret, "BalanceRemaining")) or Decimal(0)
    paid = balance if amount is None else Decimal(str(amount))
    applied = el.decimal(el.text_of(ret, "AppliedAmount")) or Decimal(0)
    el.put(ret, "AppliedAmount", el.money(applied - paid))
    link = etree.Element("LinkedTxn")
    el.leaf(link, "TxnID", books.new_txn_id(moment))
    el.leaf(link, "TxnType", "ReceivePayment")
    el.leaf(link, "TxnDate", (date or moment.date()).isoformat())
    if ref_number is not None:
        el.leaf(link, "RefNumber", ref_number)
    el.leaf(link, "LinkType", "AMTTYPE")
    el.leaf(link, "Amount", el.money(-paid))
    el.place(ret, link)
    recompute_totals(ret)
    bump(ret, moment)
    return ret


def human_edit(
    books: Books,
    txn_id: str,
    *,
    moment: dt.datetime | None = None,
    edit: Callable[[Element], None] | None = None,
) -> Element:
    """Edit an invoice as a person would in QuickBooks: a new EditSequence and a changed line.

    ``edit(invoice_ret)`` makes the change; by default the first line's
    quantity goes up by one (or its description changes when it has none).
    """
    ret = _existing(books, txn_id)
    (edit or _default_edit)(ret)
    recompute_totals(ret)
    bump(ret, moment or _now())
    return ret


def send_forms(books: Books, txn_id: str, *, moment: dt.datetime | None = None) -> Element:
    """Send an invoice as Send Forms (or Print Forms) does: its Email later
    and Print later marks clear, and it counts as sent."""

    def clear_marks(ret: Element) -> None:
        for tag in ("IsToBePrinted", "IsToBeEmailed"):
            el.put(ret, tag, "false")

    return human_edit(books, txn_id, moment=moment, edit=clear_marks)


def _default_edit(ret: Element) -> None:
    line = ret.find(".//InvoiceLineRet")
    if line is None:
        el.put(ret, "Memo", ((el.text_of(ret, "Memo") or "") + " (edited)").strip())
        return
    quantity = el.decimal(el.text_of(line, "Quantity"))
    if quantity is None:
        el.put(line, "Desc", ((el.text_of(line, "Desc") or "") + " (edited)").strip())
        return
    el.put(line, "Quantity", el.quantity(quantity + 1))
    rate = el.decimal(el.text_of(line, "Rate"))
    if rate is not None:
        el.put(line, "Amount", el.money(rate * (quantity + 1)))


def _existing(books: Books, txn_id: str) -> Element:
    ret = books.invoice(txn_id)
    if ret is None:
        raise KeyError(f"no invoice with TxnID {txn_id!r} in the books")
    return ret


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()
