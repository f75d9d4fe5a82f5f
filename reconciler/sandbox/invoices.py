"""Invoices as QuickBooks writes them: InvoiceAdd and InvoiceMod.

The rules a client depends on:

- A line without ``Rate`` takes the item's sales price; ``Amount`` is
  ``Quantity × Rate`` (rounded half up to the cent) unless given; a line
  without ``Desc`` takes the item's sales description.
- ``InvoiceMod`` checks ``EditSequence`` first (3200 with the current invoice).
  When it lists any line, the invoice ends up with exactly the listed lines,
  in the listed order: every existing line not listed is deleted, ``-1`` adds
  a line, a line listed with only its ``TxnLineID`` stays as it is, and a new
  ``Quantity`` recomputes ``Amount`` with the line's rate.
- ``Subtotal``, ``BalanceRemaining`` and ``IsPaid`` follow the lines and the
  payments applied.

Nothing is stored unless the whole request succeeds.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

from lxml import etree

from reconciler.sandbox import elements as el
from reconciler.sandbox.books import Books, full_name
from reconciler.sandbox.elements import Element
from reconciler.sandbox.status import (
    invalid_reference,
    object_not_found,
    stale_edit_sequence,
)

# InvoiceAdd/InvoiceMod children copied as they are onto the InvoiceRet.
_HEADER_FIELDS = (
    "ClassRef",
    "ARAccountRef",
    "TemplateRef",
    "TxnDate",
    "RefNumber",
    "BillAddress",
    "ShipAddress",
    "IsPending",
    "IsFinanceCharge",
    "PONumber",
    "TermsRef",
    "DueDate",
    "SalesRepRef",
    "FOB",
    "ShipDate",
    "ShipMethodRef",
    "ItemSalesTaxRef",
    "Memo",
    "CustomerMsgRef",
    "IsToBePrinted",
    "IsToBeEmailed",
    "CustomerSalesTaxCodeRef",
    "Other",
    "ExchangeRate",
    "ExternalGUID",
)
# Line fields a request may set directly.
_LINE_FIELDS = (
    "Desc",
    "Quantity",
    "ClassRef",
    "ServiceDate",
    "SalesTaxCodeRef",
    "Other1",
    "Other2",
)
_LINE_TAGS = ("InvoiceLineRet", "InvoiceLineGroupRet")


def add_invoice(
    books: Books,
    add: Element,
    *,
    moment: dt.datetime,
    txn_id: str | None = None,
) -> Element:
    """Carry out an ``InvoiceAdd``; the new ``InvoiceRet`` is stored and returned."""
    customer = _customer(books, add.find("CustomerRef"))
    txn_id = txn_id or books.new_txn_id(moment)
    ret = etree.Element("InvoiceRet")
    el.leaf(ret, "TxnID", txn_id)
    el.leaf(ret, "TimeCreated", el.timestamp(moment))
    el.leaf(ret, "TimeModified", el.timestamp(moment))
    el.leaf(ret, "EditSequence", str(int(moment.timestamp())))
    el.leaf(ret, "TxnNumber", str(books.next_txn_number()))
    ret.append(_customer_ref(customer))
    for child in el.children(add, *_HEADER_FIELDS):
        el.place(ret, copy.deepcopy(child))
    _fill_defaults(books, ret, customer, moment)
    for source in el.children(add, "InvoiceLineAdd", "InvoiceLineGroupAdd"):
        el.place(ret, _new_line(books, source, moment))
    books.complete_refs(ret)
    recompute_totals(ret)
    return books.register_invoice(ret)


def mod_invoice(books: Books, mod: Element, *, moment: dt.datetime) -> Element:
    """Carry out an ``InvoiceMod`` (see the module docstring for the line rules)."""
    txn_id = el.text_of(mod, "TxnID") or ""
    current = books.invoice(txn_id)
    if current is None:
        raise object_not_found(txn_id)
    check_edit_sequence(mod, current)
    ret = copy.deepcopy(current)
    if mod.find("CustomerRef") is not None:
        customer = _customer(books, mod.find("CustomerRef"))
        el.drop(ret, "CustomerRef")
        el.place(ret, _customer_ref(customer))
    for child in el.children(mod, *_HEADER_FIELDS):
        el.drop(ret, child.tag)
        el.place(ret, copy.deepcopy(child))
    line_mods = list(el.children(mod, "InvoiceLineMod", "InvoiceLineGroupMod"))
    if line_mods:
        _replace_lines(books, ret, ret, line_mods, moment)
    books.complete_refs(ret)
    recompute_totals(ret)
    bump(ret, moment)
    return books.register_invoice(ret)


def check_edit_sequence(request: Element, current: Element) -> None:
    """Refuse a modification whose EditSequence is not the object's current one (3200)."""
    given = el.text_of(request, "EditSequence") or ""
    if given != el.text_of(current, "EditSequence"):
        raise stale_edit_sequence(given, copy.deepcopy(current))


def bump(ret: Element, moment: dt.datetime) -> None:
    """A new EditSequence and TimeModified, as every change in QuickBooks makes."""
    previous = el.text_of(ret, "EditSequence") or "0"
    sequence = int(moment.timestamp())
    if previous.isdigit():
        sequence = max(sequence, int(previous) + 1)
    el.put(ret, "EditSequence", str(sequence))
    el.put(ret, "TimeModified", el.timestamp(moment))


# --------------------------------------------------------------------------
# Lines
# --------------------------------------------------------------------------


def _replace_lines(
    books: Books,
    invoice: Element,
    holder: Element,
    line_mods: list[Element],
    moment: dt.datetime,
) -> None:
    """Give ``holder`` (the invoice or a group line) exactly the listed lines."""
    existing = {el.text_of(line, "TxnLineID"): line for line in el.children(holder, *_LINE_TAGS)}
    kept: list[Element] = []
    for line_mod in line_mods:
        line_id = el.text_of(line_mod, "TxnLineID") or ""
        if line_id == "-1":
            kept.append(_new_line(books, line_mod, moment))
            continue
        line = existing.pop(line_id, None)
        if line is None or line.tag != line_mod.tag.replace("Mod", "Ret"):
            raise object_not_found(line_id)
        if line.tag == "InvoiceLineRet":
            _modify_line(books, line, line_mod)
        else:
            _modify_group(books, invoice, line, line_mod, moment)
        kept.append(line)
    for line in el.children(holder, *_LINE_TAGS):
        holder.remove(line)
    for line in kept:
        el.place(holder, line)


def _new_line(books: Books, source: Element, moment: dt.datetime) -> Element:
    if source.tag in ("InvoiceLineGroupAdd", "InvoiceLineGroupMod"):
        return _new_group(books, source, moment)
    line = etree.Element("InvoiceLineRet")
    el.leaf(line, "TxnLineID", books.new_txn_id(moment))
    item = _line_item(books, source.find("ItemRef"))
    if item is not None:
        line.append(_item_ref("ItemRef", item))
        if source.find("Desc") is None and (desc := sales_description(item)) is not None:
            el.put(line, "Desc", desc)
        if (tax_code := item.find("SalesTaxCodeRef")) is not None:
            el.place(line, copy.deepcopy(tax_code))
        _item_rate(line, item)
    _set_line_fields(line, source)
    for data_ext in el.children(source, "DataExt"):
        el.place(line, data_ext_ret(data_ext))
    _compute_amount(line, source, amount_owed=item is not None)
    return line


def _modify_line(books: Books, line: Element, source: Element) -> None:
    changed = False
    item_ref = source.find("ItemRef")
    if item_ref is not None:
        item = _line_item(books, item_ref)
        assert item is not None
        if el.text_of(item, "ListID") != el.text_of(line, "ItemRef/ListID"):
            el.drop(line, "ItemRef")
            el.place(line, _item_ref("ItemRef", item))
            if source.find("Desc") is None and (desc := sales_description(item)) is not None:
                el.put(line, "Desc", desc)
            _item_rate(line, item)
            changed = True
    changed |= any(source.find(tag) is not None for tag in ("Quantity", "Rate", "RatePercent"))
    _set_line_fields(line, source)
    if changed or source.find("Amount") is not None:
        _compute_amount(line, source, amount_owed=line.find("ItemRef") is not None)


def _set_line_fields(line: Element, source: Element) -> None:
    for child in el.children(source, *_LINE_FIELDS):
        el.drop(line, child.tag)
        el.place(line, copy.deepcopy(child))
    # QuickBooks stores numbers, not the text it was sent.
    if (quantity := el.decimal(el.text_of(line, "Quantity"))) is not None:
        el.put(line, "Quantity", el.quantity(quantity))
    for tag, other in (("Rate", "RatePercent"), ("RatePercent", "Rate")):
        given = el.decimal(el.text_of(source, tag))
        if given is not None:
            el.drop(line, tag, other)
            el.put(line, tag, el.price(given))


def _item_rate(line: Element, item: Element) -> None:
    """The item's price becomes the line's rate (a percentage for percent items)."""
    el.drop(line, "Rate", "RatePercent")
    percent = el.text_of(item, "SalesOrPurchase/PricePercent")
    if percent is not None:
        el.put(line, "RatePercent", percent)
        return
    item_price = sales_price(item)
    if item_price is not None:
        el.put(line, "Rate", el.price(item_price))


def _compute_amount(line: Element, source: Element, *, amount_owed: bool) -> None:
    """Amount = Quantity × Rate unless the request gives it (then Rate follows it)."""
    quantity = el.decimal(el.text_of(line, "Quantity"))
    given = el.decimal(el.text_of(source, "Amount"))
    if given is not None:
        el.put(line, "Amount", el.money(given))
        if source.find("Rate") is None and line.find("RatePercent") is None:
            rate = given / quantity if quantity else given
            el.put(line, "Rate", el.price(rate))
        return
    rate = el.decimal(el.text_of(line, "Rate"))
    if rate is not None:
        el.put(line, "Amount", el.money(rate * (quantity if quantity is not None else 1)))
    elif amount_owed:
        el.put(line, "Amount", el.money(el.decimal(el.text_of(line, "Amount")) or Decimal(0)))


def _new_group(books: Books, source: Element, moment: dt.datetime) -> Element:
    ref = source.find("ItemGroupRef")
    group = books.resolve("item", ref)
    if group is None or group.tag != "ItemGroupRet":
        raise invalid_reference("Item", _ref_label(ref), "Invoice line")
    count = el.decimal(el.text_of(source, "Quantity")) or Decimal(1)
    line = etree.Element("InvoiceLineGroupRet")
    el.leaf(line, "TxnLineID", books.new_txn_id(moment))
    line.append(_item_ref("ItemGroupRef", group))
    if (desc := el.text_of(group, "ItemDesc")) is not None:
        el.leaf(line, "Desc", desc)
    el.leaf(line, "Quantity", el.quantity(count))
    el.leaf(line, "IsPrintItemsInGroup", el.text_of(group, "IsPrintItemsInGroup", "false") or "")
    el.leaf(line, "TotalAmount", el.money(Decimal(0)))
    for member in el.children(group, "ItemGroupLine"):
        member_add = etree.Element("InvoiceLineAdd")
        member_add.append(copy.deepcopy(member.find("ItemRef")))
        per_group = el.decimal(el.text_of(member, "Quantity")) or Decimal(1)
        el.leaf(member_add, "Quantity", el.quantity(per_group * count))
        el.place(line, _new_line(books, member_add, moment))
    for data_ext in el.children(source, "DataExt"):
        el.place(line, data_ext_ret(data_ext))
    return line


def _modify_group(
    books: Books,
    invoice: Element,
    line: Element,
    source: Element,
    moment: dt.datetime,
) -> None:
    if (quantity := source.find("Quantity")) is not None:
        el.put(line, "Quantity", quantity.text)
    inner = list(el.children(source, "InvoiceLineMod"))
    if inner:
        _replace_lines(books, invoice, line, inner, moment)


def _line_item(books: Books, ref: Element | None) -> Element | None:
    if ref is None:
        return None
    item = books.resolve("item", ref)
    if item is None or item.tag == "ItemGroupRet":
        raise invalid_reference("Item", _ref_label(ref), "Invoice line")
    return item


def data_ext_ret(data_ext: Element) -> Element:
    """The ``DataExtRet`` of a ``DataExt`` (or ``DataExtAdd``): a string value of its owner."""
    ret = etree.Element("DataExtRet")
    el.leaf(ret, "OwnerID", el.text_of(data_ext, "OwnerID", "0") or "0")
    el.leaf(ret, "DataExtName", el.text_of(data_ext, "DataExtName", "") or "")
    el.leaf(ret, "DataExtType", "STR255TYPE")
    el.leaf(ret, "DataExtValue", el.text_of(data_ext, "DataExtValue", "") or "")
    return ret


def sales_price(item: Element) -> Decimal | None:
    """The item's own sales price, whichever aggregate holds it."""
    for path in ("SalesOrPurchase/Price", "SalesAndPurchase/SalesPrice", "SalesPrice"):
        value = el.decimal(el.text_of(item, path))
        if value is not None:
            return value
    return None


def sales_description(item: Element) -> str | None:
    """The description QuickBooks copies onto a new line for this item."""
    for path in ("SalesOrPurchase/Desc", "SalesAndPurchase/SalesDesc", "SalesDesc", "ItemDesc"):
        value = el.text_of(item, path)
        if value is not None:
            return value
    return None


# --------------------------------------------------------------------------
# Header
# --------------------------------------------------------------------------


def _customer(books: Books, ref: Element | None) -> Element:
    customer = books.resolve("customer", ref)
    if customer is None:
        raise invalid_reference("Customer", _ref_label(ref), "Invoice")
    return customer


def _customer_ref(customer: Element) -> Element:
    return _item_ref("CustomerRef", customer)


def _item_ref(tag: str, ret: Element) -> Element:
    return el.ref(tag, el.text_of(ret, "ListID"), full_name(ret))


def _ref_label(ref: Element | None) -> str:
    return (
        (el.text_of(ref, "FullName") or el.text_of(ref, "ListID") or "") if ref is not None else ""
    )


def _fill_defaults(books: Books, ret: Element, customer: Element, moment: dt.datetime) -> None:
    """What QuickBooks fills in on a new invoice when the request leaves it out."""
    if ret.find("ARAccountRef") is None:
        el.place(ret, el.ref("ARAccountRef", None, "Accounts Receivable"))
    if ret.find("TemplateRef") is None:
        el.place(ret, el.ref("TemplateRef", None, "Intuit Service Invoice"))
    txn_date = el.text_of(ret, "TxnDate") or moment.date().isoformat()
    el.put(ret, "TxnDate", txn_date)
    if ret.find("RefNumber") is None:
        el.put(ret, "RefNumber", books.next_ref_number())
    if ret.find("BillAddress") is None and (address := customer.find("BillAddress")) is not None:
        el.place(ret, copy.deepcopy(address))
    for tag, default in (
        ("IsPending", "false"),
        ("IsFinanceCharge", "false"),
        ("DueDate", txn_date),
        ("ShipDate", txn_date),
        ("IsToBePrinted", "false"),
        ("IsToBeEmailed", "false"),
    ):
        if ret.find(tag) is None:
            el.put(ret, tag, default)


def recompute_totals(ret: Element) -> None:
    """Subtotal from the lines; BalanceRemaining and IsPaid from it and the payments."""
    subtotal = Decimal(0)
    for line in el.children(ret, *_LINE_TAGS):
        if line.tag == "InvoiceLineGroupRet":
            group_total = sum(
                (
                    el.decimal(el.text_of(inner, "Amount")) or Decimal(0)
                    for inner in el.children(line, "InvoiceLineRet")
                ),
                Decimal(0),
            )
            el.put(line, "TotalAmount", el.money(group_total))
            subtotal += group_total
        else:
            subtotal += el.decimal(el.text_of(line, "Amount")) or Decimal(0)
    tax = el.decimal(el.text_of(ret, "SalesTaxTotal")) or Decimal(0)
    applied = el.decimal(el.text_of(ret, "AppliedAmount")) or Decimal(0)
    balance = subtotal + tax + applied
    el.put(ret, "Subtotal", el.money(subtotal))
    el.put(ret, "SalesTaxPercentage", el.text_of(ret, "SalesTaxPercentage", "0.00"))
    el.put(ret, "SalesTaxTotal", el.money(tax))
    el.put(ret, "AppliedAmount", el.money(applied))
    el.put(ret, "BalanceRemaining", el.money(balance))
    el.put(ret, "IsPaid", el.boolean(balance == 0))
