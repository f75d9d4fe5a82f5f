"""The books of one simulated QuickBooks company file: customers, items and invoices.

Every object is kept as the ``*Ret`` element QuickBooks would return for it
(``CustomerRet``, ``ItemServiceRet``…, ``InvoiceRet`` with all its lines,
linked transactions and private data). Queries answer with filtered copies, so
what a client reads is exactly what QuickBooks would send.

This module holds the data, its identifiers and its lookups, and imports none
of the operations: what QuickBooks does to the books (adds, modifications,
queries, changes made by people) are functions over a :class:`Books` in the
modules above it. Books come from a compact fixture
(:func:`reconciler.sandbox.fixture.load_fixture`), from real qbXML responses
(:func:`reconciler.sandbox.responses.books_from_qbxml`) or from
:func:`reconciler.sandbox.generate.generate_books`;
:func:`reconciler.sandbox.responses.books_to_qbxml` dumps them as one response document.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal

from lxml import etree

from reconciler.sandbox import elements as el
from reconciler.sandbox.elements import Element

ITEM_RETS = (
    "ItemServiceRet",
    "ItemNonInventoryRet",
    "ItemOtherChargeRet",
    "ItemInventoryRet",
    "ItemInventoryAssemblyRet",
    "ItemFixedAssetRet",
    "ItemSubtotalRet",
    "ItemDiscountRet",
    "ItemPaymentRet",
    "ItemSalesTaxRet",
    "ItemSalesTaxGroupRet",
    "ItemGroupRet",
)

# Which list of QuickBooks a reference points into, for references to lists the
# simulator does not model (accounts, terms, templates…): it still gives each
# name a stable ListID, as QuickBooks returns both.
_OTHER_LISTS = {
    "ARAccountRef": "Account",
    "IncomeAccountRef": "Account",
    "ExpenseAccountRef": "Account",
    "COGSAccountRef": "Account",
    "AssetAccountRef": "Account",
    "AccountRef": "Account",
    "OverrideItemAccountRef": "Account",
    "SalesTaxCodeRef": "SalesTaxCode",
    "CustomerSalesTaxCodeRef": "SalesTaxCode",
    "PurchaseTaxCodeRef": "SalesTaxCode",
}

_ID = re.compile(r"^([0-9A-Fa-f]+)-")
_FIRST_LIST_ID = 0x80000001


class Books:
    """The contents of one company file, in memory (see the module docstring)."""

    def __init__(self, name: str = "", file_path: str = "") -> None:
        self.name = name
        self.file_path = file_path
        # ListID/TxnID -> *Ret element, in creation order.
        self.customers: dict[str, Element] = {}
        self.items: dict[str, Element] = {}
        self.invoices: dict[str, Element] = {}
        # The company file's own private data (the Web Connector's FileID lives here).
        self.data_ext: list[Element] = []
        self._names: dict[str, dict[str, str]] = {"customer": {}, "item": {}}
        self._other_lists: dict[tuple[str, str], str] = {}
        self._next_list_id = _FIRST_LIST_ID
        self._next_txn_id = 1
        self._last_txn_number = 0
        self._last_ref_number = 1000

    def copy(self) -> Books:
        """An independent deep copy (to compare the books before and after a run)."""
        return copy.deepcopy(self)

    # ------------------------------------------------------------------
    # Registering objects (keeps the name indexes and ID counters in step)
    # ------------------------------------------------------------------

    def register_customer(self, ret: Element) -> Element:
        """Store a ``CustomerRet`` (replacing the one with the same ListID)."""
        return self._register_list_object("customer", self.customers, ret)

    def register_item(self, ret: Element) -> Element:
        """Store an item ``*Ret`` (any kind)."""
        return self._register_list_object("item", self.items, ret)

    def _register_list_object(
        self, kind: str, objects: dict[str, Element], ret: Element
    ) -> Element:
        list_id = el.text_of(ret, "ListID") or ""
        objects[list_id] = ret
        self._names[kind][_key(full_name(ret))] = list_id
        self._see_id(list_id, list_ids=True)
        return ret

    def register_invoice(self, ret: Element) -> Element:
        """Store an ``InvoiceRet`` with its lines."""
        txn_id = el.text_of(ret, "TxnID") or ""
        self.invoices[txn_id] = ret
        self._see_id(txn_id, list_ids=False)
        for line_id in ret.iterfind(".//TxnLineID"):
            self._see_id(line_id.text or "", list_ids=False)
        number = el.text_of(ret, "TxnNumber")
        if number and number.isdigit():
            self._last_txn_number = max(self._last_txn_number, int(number))
        ref_number = el.text_of(ret, "RefNumber")
        if ref_number and ref_number.isdigit():
            self._last_ref_number = max(self._last_ref_number, int(ref_number))
        return ret

    def _see_id(self, object_id: str, *, list_ids: bool) -> None:
        match = _ID.match(object_id)
        if not match:
            return
        value = int(match.group(1), 16)
        if list_ids and value >= _FIRST_LIST_ID:
            self._next_list_id = max(self._next_list_id, value + 1)
        elif not list_ids:
            self._next_txn_id = max(self._next_txn_id, value + 1)

    # ------------------------------------------------------------------
    # Identifiers, as QuickBooks makes them: a hex sequence and the creation time
    # ------------------------------------------------------------------

    def new_list_id(self, moment: dt.datetime) -> str:
        """A new ListID (``80000001-1764590400``)."""
        value, self._next_list_id = self._next_list_id, self._next_list_id + 1
        return f"{value:X}-{_epoch(moment)}"

    def new_txn_id(self, moment: dt.datetime) -> str:
        """A new TxnID or TxnLineID (one sequence, as in QuickBooks)."""
        value, self._next_txn_id = self._next_txn_id, self._next_txn_id + 1
        return f"{value:X}-{_epoch(moment)}"

    def next_txn_number(self) -> int:
        """The next transaction number."""
        self._last_txn_number += 1
        return self._last_txn_number

    def next_ref_number(self) -> str:
        """The invoice number QuickBooks proposes: one more than the highest numeric one."""
        return str(self._last_ref_number + 1)

    def other_list_id(self, ref_tag: str, name: str) -> str:
        """A stable ListID for a name in a list the simulator does not model."""
        key = (_OTHER_LISTS.get(ref_tag, ref_tag), _key(name))
        if key not in self._other_lists:
            self._other_lists[key] = f"{0x10000 + len(self._other_lists):X}-1167609600"
        return self._other_lists[key]

    def complete_refs(self, element: Element) -> Element:
        """Give every ``*Ref`` under ``element`` that names a FullName its ListID."""
        for node in element.iter():
            if not (isinstance(node.tag, str) and node.tag.endswith("Ref")):
                continue
            name = el.text_of(node, "FullName")
            if name is not None and node.find("ListID") is None:
                el.place(node, etree.Element("ListID")).text = self.other_list_id(node.tag, name)
        return element

    # ------------------------------------------------------------------
    # Lookups
    # ------------------------------------------------------------------

    def customer(self, key: str) -> Element | None:
        """The ``CustomerRet`` with this ListID or FullName (case-insensitive), if any."""
        return self._lookup("customer", self.customers, key)

    def item(self, key: str) -> Element | None:
        """The item ``*Ret`` with this ListID or FullName (case-insensitive), if any."""
        return self._lookup("item", self.items, key)

    def _lookup(self, kind: str, objects: dict[str, Element], key: str) -> Element | None:
        if key in objects:
            return objects[key]
        list_id = self._names[kind].get(_key(key))
        return objects.get(list_id) if list_id else None

    def resolve(self, kind: str, ref: Element | None) -> Element | None:
        """The object a ``*Ref`` points to (ListID wins over FullName, as in QuickBooks)."""
        if ref is None:
            return None
        objects = self.customers if kind == "customer" else self.items
        list_id = el.text_of(ref, "ListID")
        if list_id is not None:
            return objects.get(list_id)
        name = el.text_of(ref, "FullName")
        return self._lookup(kind, objects, name) if name is not None else None

    def invoice(self, txn_id: str) -> Element | None:
        """The ``InvoiceRet`` with this TxnID, if any."""
        return self.invoices.get(txn_id)

    def invoices_of(self, customer: str) -> list[Element]:
        """The invoices of a customer (ListID or FullName), in creation order."""
        found = self.customer(customer)
        if found is None:
            return []
        list_id = el.text_of(found, "ListID")
        return [
            ret
            for ret in self.invoices.values()
            if el.text_of(ret, "CustomerRef/ListID") == list_id
        ]

    def find_invoice(self, external_guid: str) -> Element | None:
        """The invoice carrying this ExternalGUID (case-insensitive), if any."""
        wanted = external_guid.lower()
        return next(
            (
                ret
                for ret in self.invoices.values()
                if (el.text_of(ret, "ExternalGUID") or "").lower() == wanted
            ),
            None,
        )

    def children_of(self, kind: str, ret: Element) -> Iterator[Element]:
        """The sub-customers (jobs) or sub-items of a list object, at any depth."""
        objects = self.customers if kind == "customer" else self.items
        prefix = _key(full_name(ret)) + ":"
        return (other for other in objects.values() if _key(full_name(other)).startswith(prefix))

    def balances(self) -> dict[str, tuple[Decimal, Decimal]]:
        """Each customer's (Balance, TotalBalance): its own open invoices, then with its jobs'."""
        own: dict[str, Decimal] = {}
        for ret in self.invoices.values():
            list_id = el.text_of(ret, "CustomerRef/ListID") or ""
            remaining = el.decimal(el.text_of(ret, "BalanceRemaining")) or Decimal(0)
            own[list_id] = own.get(list_id, Decimal(0)) + remaining
        total: dict[str, Decimal] = {}
        for list_id, ret in self.customers.items():
            amount = own.get(list_id, Decimal(0))
            if not amount:
                continue
            # A job's balance counts in every customer above it.
            parts = full_name(ret).split(":")
            for depth in range(1, len(parts) + 1):
                ancestor = self._names["customer"].get(_key(":".join(parts[:depth])))
                if ancestor is not None:
                    total[ancestor] = total.get(ancestor, Decimal(0)) + amount
        return {
            list_id: (own.get(list_id, Decimal(0)), total.get(list_id, Decimal(0)))
            for list_id in self.customers
        }

    def customer_view(
        self, ret: Element, balances: Mapping[str, tuple[Decimal, Decimal]]
    ) -> Element:
        """A copy of a ``CustomerRet`` with its current Balance and TotalBalance."""
        view = copy.deepcopy(ret)
        own, total = balances.get(el.text_of(ret, "ListID") or "", (Decimal(0), Decimal(0)))
        el.put(view, "Balance", el.money(own))
        el.put(view, "TotalBalance", el.money(total))
        return view


def full_name(ret: Element) -> str:
    """A list object's FullName (Name for the kinds that have no FullName)."""
    return el.text_of(ret, "FullName") or el.text_of(ret, "Name") or ""


def _key(name: str) -> str:
    return name.strip().casefold()


def _epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())
