"""An in-memory QuickBooks company file: customers, items and invoices.

Every object is kept as the ``*Ret`` element QuickBooks would return for it
(``CustomerRet``, ``ItemServiceRet``…, ``InvoiceRet`` with all its lines,
linked transactions and private data). Queries answer with filtered copies, so
what a client reads is exactly what QuickBooks would send.

A company comes from a compact fixture (:meth:`Company.from_fixture`, format in
:mod:`reconciler.sandbox.fixture`), from real qbXML query responses
(:meth:`Company.from_qbxml`) or from :func:`reconciler.sandbox.generate.generate_company`;
:meth:`Company.to_qbxml` dumps it back as one response document.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from reconciler.base.xmlsafe import XMLInputError, parse_xml
from reconciler.sandbox import elements as el
from reconciler.sandbox.elements import Element
from reconciler.sandbox.status import OK

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


class Company:
    """An in-memory company file (see the module docstring)."""

    def __init__(self, name: str = "", file_path: str = "") -> None:
        self.name = name
        self.file_path = file_path
        # ListID/TxnID -> *Ret element, in creation order.
        self.customers: dict[str, Element] = {}
        self.items: dict[str, Element] = {}
        self.invoices: dict[str, Element] = {}
        # Company-level private data (the Web Connector's FileID lives here).
        self.data_ext: list[Element] = []
        self._names: dict[str, dict[str, str]] = {"customer": {}, "item": {}}
        self._other_lists: dict[tuple[str, str], str] = {}
        self._next_list_id = _FIRST_LIST_ID
        self._next_txn_id = 1
        self._last_txn_number = 0
        self._last_ref_number = 1000

    # ------------------------------------------------------------------
    # Construction
    # ------------------------------------------------------------------

    @classmethod
    def from_fixture(cls, path_or_data: Path | str | Mapping[str, Any]) -> Company:
        """A company from a compact YAML/JSON fixture (a path or the loaded data)."""
        from reconciler.sandbox.fixture import load_fixture

        return load_fixture(path_or_data)

    @classmethod
    def from_qbxml(
        cls,
        sources: Iterable[Path | bytes | str],
        *,
        name: str | None = None,
        file_path: str = "",
    ) -> Company:
        """A company from qbXML response documents (``*QueryRs``, ``*AddRs``, ``*ModRs``).

        ``sources`` are paths or document bytes/text, plain or still inside the
        Web Connector's ``receiveResponseXML`` SOAP envelope. The company name
        comes from a ``CompanyRet`` when ``name`` is not given. A source that
        is not a qbXML response raises :class:`~reconciler.base.xmlsafe.XMLInputError`.
        """
        company = cls(name or "", file_path)
        for source in sources:
            where = str(source) if isinstance(source, Path) else "qbXML response"
            data = source.read_bytes() if isinstance(source, Path) else source
            root = _unwrap(parse_xml(data, source=where), where)
            company._load_responses(el.strip_blank_text(root), keep_name=name is not None)
        return company

    def _load_responses(self, root: Element, *, keep_name: bool) -> None:
        for ret in root.iterfind("QBXMLMsgsRs/*/*"):
            tag = ret.tag
            if tag == "CustomerRet":
                self.register_customer(copy.deepcopy(ret))
            elif tag in ITEM_RETS:
                self.register_item(copy.deepcopy(ret))
            elif tag == "InvoiceRet":
                self.register_invoice(copy.deepcopy(ret))
            elif tag == "CompanyRet" and not keep_name:
                self.name = el.text_of(ret, "CompanyName", self.name) or ""

    def copy(self) -> Company:
        """An independent deep copy (to compare a company before and after a run)."""
        return copy.deepcopy(self)

    # ------------------------------------------------------------------
    # Registering objects (keeps the name indexes and ID counters in step)
    # ------------------------------------------------------------------

    def register_customer(self, ret: Element) -> Element:
        """Store a ``CustomerRet`` (replacing the one with the same ListID)."""
        list_id = el.text_of(ret, "ListID") or ""
        self.customers[list_id] = ret
        self._names["customer"][_key(full_name(ret))] = list_id
        self._see_id(list_id, list_ids=True)
        return ret

    def register_item(self, ret: Element) -> Element:
        """Store an item ``*Ret`` (any kind)."""
        list_id = el.text_of(ret, "ListID") or ""
        self.items[list_id] = ret
        self._names["item"][_key(full_name(ret))] = list_id
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

    # ------------------------------------------------------------------
    # Changes made by hand in QuickBooks (for tests)
    # ------------------------------------------------------------------

    def apply_payment(
        self,
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
        from reconciler.sandbox.invoices import receive_payment

        return receive_payment(
            self,
            txn_id,
            None if amount is None else Decimal(str(amount)),
            date=date,
            ref_number=ref_number,
            moment=moment or _default_moment(),
        )

    def human_edit(
        self,
        txn_id: str,
        *,
        moment: dt.datetime | None = None,
        edit: Callable[[Element], None] | None = None,
    ) -> Element:
        """Edit an invoice as a person would in QuickBooks: a new EditSequence and a changed line.

        ``edit(invoice_ret)`` makes the change; by default the first line's
        quantity goes up by one (or its description changes when it has none).
        """
        from reconciler.sandbox.invoices import edit_by_hand

        return edit_by_hand(self, txn_id, moment=moment or _default_moment(), edit=edit)

    def send_forms(self, txn_id: str, *, moment: dt.datetime | None = None) -> Element:
        """Send an invoice as Send Forms (or Print Forms) does: its Email later
        and Print later marks clear, and it counts as sent."""

        def clear_marks(ret: Element) -> None:
            for tag in ("IsToBePrinted", "IsToBeEmailed"):
                el.put(ret, tag, "false")

        return self.human_edit(txn_id, moment=moment, edit=clear_marks)

    # ------------------------------------------------------------------
    # Dump
    # ------------------------------------------------------------------

    def to_qbxml(self, *, version: str = "13.0") -> str:
        """One qbXML response document holding everything this company holds.

        ``HostQueryRs`` (supported versions up to ``version``), ``CustomerQueryRs``,
        ``ItemQueryRs`` and ``InvoiceQueryRs`` with lines, linked transactions
        and all private data: what the product reads as ``--qb-state``.
        """
        from reconciler.sandbox.host import host_ret, versions_up_to

        ok = OK
        host = el.response_element("HostQueryRs", request_id=None, status=ok)
        host.append(host_ret("QuickBooks Pro", versions_up_to(version)))
        customers = el.response_element("CustomerQueryRs", request_id=None, status=ok)
        balances = self.balances()
        customers.extend(self.customer_view(ret, balances) for ret in self.customers.values())
        items = el.response_element("ItemQueryRs", request_id=None, status=ok)
        items.extend(copy.deepcopy(ret) for ret in self.items.values())
        invoices = el.response_element("InvoiceQueryRs", request_id=None, status=ok)
        invoices.extend(copy.deepcopy(ret) for ret in self.invoices.values())
        return el.document([host, customers, items, invoices])

    def customer_view(
        self, ret: Element, balances: Mapping[str, tuple[Decimal, Decimal]]
    ) -> Element:
        """A copy of a ``CustomerRet`` with its current Balance and TotalBalance."""
        view = copy.deepcopy(ret)
        own, total = balances.get(el.text_of(ret, "ListID") or "", (Decimal(0), Decimal(0)))
        el.put(view, "Balance", el.money(own))
        el.put(view, "TotalBalance", el.money(total))
        return view


def _unwrap(root: Element, where: str) -> Element:
    """The QBXML root of a response, taken out of a SOAP envelope when it is in one."""
    if etree.QName(root).localname == "Envelope":
        response = root.find(".//{http://developer.intuit.com/}response")
        if response is not None and response.text and response.text.strip():
            root = parse_xml(response.text.strip(), source=f"{where} (response)")
    if root.tag != "QBXML" or root.find("QBXMLMsgsRs") is None:
        raise XMLInputError(f"{where}: not a qbXML response document")
    return root


def full_name(ret: Element) -> str:
    """A list object's FullName (Name for the kinds that have no FullName)."""
    return el.text_of(ret, "FullName") or el.text_of(ret, "Name") or ""


def _key(name: str) -> str:
    return name.strip().casefold()


def _epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _default_moment() -> dt.datetime:
    return dt.datetime.now().astimezone()
