"""Customers and items as QuickBooks writes them: adds and item modifications.

- An add whose full name is taken (case-insensitive) fails with 3100; a
  ``ParentRef`` to a missing object with 3140. The new object gets a ListID,
  ``Sublevel`` and ``FullName`` from its parent.
- ``Item*Mod`` checks ``EditSequence`` (3200). ``SalesAndPurchaseMod`` on an
  item that holds only ``SalesOrPurchase`` (and the reverse) is refused with
  3170, as QuickBooks refuses it: the client must not try to turn a sales-only
  item into one with a purchase cost.
"""

from __future__ import annotations

import copy
import datetime as dt

from lxml import etree

from reconciler.sandbox import elements as el
from reconciler.sandbox.books import Books, full_name
from reconciler.sandbox.elements import Element
from reconciler.sandbox.invoices import bump, check_edit_sequence
from reconciler.sandbox.status import (
    invalid_reference,
    modify_refused,
    name_in_use,
    object_not_found,
)

# Request element -> the *Ret it creates or modifies.
ADDS = {
    "CustomerAdd": "CustomerRet",
    "ItemServiceAdd": "ItemServiceRet",
    "ItemNonInventoryAdd": "ItemNonInventoryRet",
    "ItemOtherChargeAdd": "ItemOtherChargeRet",
    "ItemInventoryAdd": "ItemInventoryRet",
    "ItemDiscountAdd": "ItemDiscountRet",
    "ItemSubtotalAdd": "ItemSubtotalRet",
    "ItemGroupAdd": "ItemGroupRet",
}
MODS = {
    "ItemServiceMod": "ItemServiceRet",
    "ItemNonInventoryMod": "ItemNonInventoryRet",
    "ItemOtherChargeMod": "ItemOtherChargeRet",
}
_NOT_COPIED = {"ListID", "TimeCreated", "TimeModified", "EditSequence", "Name", "FullName"}
_NOT_COPIED |= {"ParentRef", "Sublevel"}


def add_list_object(
    books: Books,
    add: Element,
    *,
    moment: dt.datetime,
    list_id: str | None = None,
) -> Element:
    """Carry out a ``CustomerAdd`` or ``Item*Add``; the new ``*Ret`` is stored and returned."""
    ret_tag = ADDS[add.tag]
    kind = "customer" if ret_tag == "CustomerRet" else "item"
    label = "Customer" if kind == "customer" else "Item"
    name = el.text_of(add, "Name") or ""
    parent = None
    if (parent_ref := add.find("ParentRef")) is not None:
        parent = books.resolve(kind, parent_ref)
        if parent is None:
            value = el.text_of(parent_ref, "FullName") or el.text_of(parent_ref, "ListID") or ""
            raise invalid_reference(label, value, label)
    qualified = f"{full_name(parent)}:{name}" if parent is not None else name
    if (books.customer if kind == "customer" else books.item)(qualified) is not None:
        raise name_in_use(qualified)
    ret = etree.Element(ret_tag)
    el.leaf(ret, "ListID", list_id or books.new_list_id(moment))
    el.leaf(ret, "TimeCreated", el.timestamp(moment))
    el.leaf(ret, "TimeModified", el.timestamp(moment))
    el.leaf(ret, "EditSequence", str(int(moment.timestamp())))
    el.leaf(ret, "Name", name)
    if "FullName" in el.ORDERS[ret_tag]:
        el.leaf(ret, "FullName", qualified)
    for child in el.children(add):
        if child.tag not in _NOT_COPIED and _has_place(ret_tag, child.tag):
            el.place(ret, copy.deepcopy(child))
    if ret.find("IsActive") is None:
        el.put(ret, "IsActive", "true")
    if "Sublevel" in el.ORDERS[ret_tag]:
        if parent is not None:
            el.place(ret, el.ref("ParentRef", el.text_of(parent, "ListID"), full_name(parent)))
        sublevel = int(el.text_of(parent, "Sublevel", "0") or 0) + 1 if parent is not None else 0
        el.put(ret, "Sublevel", str(sublevel))
    for member in ret.iterfind("ItemGroupLine/ItemRef"):
        item = books.resolve("item", member)
        if item is None:
            raise invalid_reference("Item", el.text_of(member, "FullName") or "", "Item group")
        member.getparent().replace(  # type: ignore[union-attr]
            member, el.ref("ItemRef", el.text_of(item, "ListID"), full_name(item))
        )
    books.complete_refs(ret)
    if kind == "customer":
        return books.register_customer(ret)
    return books.register_item(ret)


def mod_item(books: Books, mod: Element, *, moment: dt.datetime) -> Element:
    """Carry out an ``ItemServiceMod``, ``ItemNonInventoryMod`` or ``ItemOtherChargeMod``."""
    list_id = el.text_of(mod, "ListID") or ""
    current = books.items.get(list_id)
    if current is None or current.tag != MODS[mod.tag]:
        raise object_not_found(list_id)
    check_edit_sequence(mod, current)
    ret = copy.deepcopy(current)
    where = f'Item list, element "{full_name(current)}"'
    for tag in ("IsActive", "SalesTaxCodeRef"):
        if (given := mod.find(tag)) is not None:
            el.drop(ret, tag)
            el.place(ret, copy.deepcopy(given))
    for request_tag, ret_tag, other in (
        ("SalesAndPurchaseMod", "SalesAndPurchase", "not reimbursable"),
        ("SalesOrPurchaseMod", "SalesOrPurchase", "reimbursable"),
    ):
        given = mod.find(request_tag)
        if given is None:
            continue
        target = ret.find(ret_tag)
        if target is None:
            raise modify_refused(
                where, f"Cannot use {request_tag} aggregate when the item is {other}."
            )
        _modify_sales(target, given)
    books.complete_refs(ret)
    bump(ret, moment)
    return books.register_item(ret)


def _modify_sales(target: Element, given: Element) -> None:
    for child in el.children(given):
        if not _has_place(target.tag, child.tag):
            continue  # Apply*ToExistingTxns flags: nothing to store
        exclusive = {"Price": ("PricePercent",), "PricePercent": ("Price",)}.get(child.tag, ())
        el.drop(target, child.tag, *exclusive)
        el.place(target, copy.deepcopy(child))


def _has_place(parent_tag: str, tag: str) -> bool:
    return any(
        tag == entry or (not isinstance(entry, str) and tag in entry)
        for entry in el.ORDERS[parent_tag]
    )
