"""Custom fields and private data written with ``DataExtAdd``.

QuickBooks stores a data extension's value on a list object (``ListDataExtType``
and ``ListObjRef``) or a transaction (``TxnDataExtType`` and ``TxnID``) and
answers with the ``DataExtRet``. Writing one is a change to its object: a new
``EditSequence`` and ``TimeModified``. The simulator holds no definitions
(``DataExtDefAdd`` or the custom fields set up in QuickBooks' own screens):
every name counts as defined, as a string field.

- An object that does not exist: 3140 (a list object) or 3120 (a transaction).
- A value already set for the same owner and name: 3180; QuickBooks changes a
  value with ``DataExtMod``.
"""

from __future__ import annotations

import copy
import datetime as dt

from reconciler.sandbox import elements as el
from reconciler.sandbox.books import Books
from reconciler.sandbox.elements import Element
from reconciler.sandbox.invoices import bump, data_ext_ret
from reconciler.sandbox.status import StatusError, invalid_reference, object_not_found

_LINES = ("InvoiceLineRet", "InvoiceLineGroupRet")


def add_data_ext(books: Books, add: Element, *, moment: dt.datetime) -> Element:
    """Carry out a ``DataExtAdd``; the ``DataExtRet`` it answers with."""
    ret = data_ext_ret(add)
    owner_id, name = el.text_of(ret, "OwnerID", "0") or "0", el.text_of(ret, "DataExtName")
    target = _target(books, add)
    for existing in el.children(target, "DataExtRet"):
        same_owner = (el.text_of(existing, "OwnerID", "0") or "0").lower() == owner_id.lower()
        if same_owner and el.text_of(existing, "DataExtName") == name:
            raise StatusError(
                3180,
                f'There was an error when saving a DataExt "{name}".  '
                "QuickBooks error message: The object already has a value for this field.",
            )
    el.place(target, ret)
    # A line's value is a change to its invoice.
    changed = _invoice_of(target) if target.tag in _LINES else target
    bump(changed, moment)
    if changed.tag == "InvoiceRet":
        books.register_invoice(changed)
    elif changed.tag == "CustomerRet":
        books.register_customer(changed)
    else:
        books.register_item(changed)
    return copy.deepcopy(ret)


def _invoice_of(line: Element) -> Element:
    invoice = line.getparent()
    while invoice is not None and invoice.tag != "InvoiceRet":
        invoice = invoice.getparent()
    assert invoice is not None, "an invoice line outside an invoice"
    return invoice


def _target(books: Books, add: Element) -> Element:
    list_type = el.text_of(add, "ListDataExtType")
    if list_type is not None:
        ref = add.find("ListObjRef")
        label = el.text_of(ref, "FullName") or el.text_of(ref, "ListID") or ""
        # Accounts, employees, vendors and other names: lists the simulator holds empty.
        kinds = {"Customer": "customer", "Item": "item"}
        found = books.resolve(kinds[list_type], ref) if list_type in kinds else None
        if found is None:
            raise invalid_reference(list_type, label, "DataExt")
        return found
    txn_id = el.text_of(add, "TxnID", "") or ""
    invoice = books.invoice(txn_id)
    if el.text_of(add, "TxnDataExtType") != "Invoice" or invoice is None:
        raise object_not_found(txn_id)
    line_id = el.text_of(add, "TxnLineID")
    if line_id is None:
        return invoice
    for line in invoice.iter(*_LINES):
        if el.text_of(line, "TxnLineID") == line_id:
            return line
    raise object_not_found(line_id)
