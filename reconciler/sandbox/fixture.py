"""The compact fixture format of sandbox books (YAML or JSON): one company file's contents.

.. code-block:: yaml

    company:
      name: Northwind IT Services LLC
      file: C:\\Company Files\\Northwind.qbw   # the .qbw path authenticate may name
      timezone: America/New_York               # of the times below (default)
      created: 2025-01-02T09:00:00             # TimeCreated of lists without their own

    customers:                    # parents before their jobs ("Parent:Job")
      - name: Fabrikam Inc.
      - name: Fabrikam Inc.:Manufacturing
        company_name: Fabrikam, Inc.            # optional, like every key below
        email: ap@fabrikam.example
        phone: 555-0100
        address: {addr1: 1 Main St, city: Springfield, state: IL, postal_code: "62701"}
        active: true
        list_id: 80000001-1735826400            # default: the next ListID
        created: 2025-01-02T09:00:00

    items:                        # parents before their sub-items
      - name: Cloud Services:Microsoft 365 Business Premium
        type: service             # service | non-inventory | other-charge (writable);
                                  # inventory | discount | subtotal | group (read-only)
        description: Microsoft 365 Business Premium (monthly)
        price: 26.40              # sales price
        cost: 22.00               # purchase cost: the item then holds SalesAndPurchase
        purchase_description: ...
        price_percent: 10         # other-charge items priced as a percentage
        income_account: Services  # defaults: Services, Cost of Goods Sold
        expense_account: Cost of Goods Sold
        tax_code: Non
        rate: 5.00 / rate_percent: 10     # discount items
        on_hand: 12               # inventory items
        lines: [{item: ..., quantity: 1}] # group items; print_items: true
        active: true
        list_id, created          # as for customers

    invoices:
      - customer: Contoso Dental Group
        date: 2026-12-01
        ref_number: "1105"        # default: the next number
        txn_id, created           # default: next TxnID; the date at 05:00
        memo: Monthly services
        external_guid: "{...}"
        to_be_printed: false
        to_be_emailed: true       # not yet sent
        lines:
          - item: Managed services
            quantity: 1           # rate: the item's price unless given
            rate: 1200.00
            amount: 1200.00       # default: quantity x rate
            description: ...      # default: the item's description
            service_date: 2026-12-01
            other1: ..., other2: ...
            data_ext: [{owner_id: "{GUID}", name: SyncedBy, value: reconciler}]
          - description: Thank you for your business.   # a text-only line
          - group: Onboarding bundle                     # an item group
            quantity: 1
        payment:                  # a payment received against it
          amount: full            # or an amount (a partial payment)
          date: 2026-11-20
          ref_number: CHK-2041

Invoices are built by the same code that answers ``InvoiceAdd``, so a
fixture's amounts, descriptions and totals are what QuickBooks would compute.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
from lxml import etree

from reconciler.base.errors import Diagnostic, InvalidInput, Location
from reconciler.base.jsonschemas import schema_problems
from reconciler.config.yamlsource import PathKey, YamlDocument, YamlSyntaxError, load_yaml
from reconciler.sandbox import elements as el
from reconciler.sandbox.books import Books
from reconciler.sandbox.by_hand import receive_payment
from reconciler.sandbox.elements import Element
from reconciler.sandbox.invoices import add_invoice
from reconciler.sandbox.lists import add_list_object
from reconciler.sandbox.status import StatusError

_NUMBER = {"type": ["number", "string"], "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}
_DATE = {"type": "string", "format": "date"}
_TIME = {"type": "string"}
_TEXT = {"type": "string"}

_LINE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "item": _TEXT,
        "group": _TEXT,
        "description": _TEXT,
        "quantity": _NUMBER,
        "rate": _NUMBER,
        "amount": _NUMBER,
        "service_date": _DATE,
        "other1": _TEXT,
        "other2": _TEXT,
        "data_ext": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "value"],
                "properties": {"owner_id": _TEXT, "name": _TEXT, "value": _TEXT},
            },
        },
    },
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["company"],
    "properties": {
        "company": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name"],
            "properties": {
                "name": _TEXT,
                "file": _TEXT,
                "timezone": _TEXT,
                "created": _TIME,
            },
        },
        "customers": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "name": _TEXT,
                    "company_name": _TEXT,
                    "email": _TEXT,
                    "phone": _TEXT,
                    "address": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            key: _TEXT
                            for key in (
                                "addr1",
                                "addr2",
                                "addr3",
                                "city",
                                "state",
                                "postal_code",
                                "country",
                            )
                        },
                    },
                    "active": {"type": "boolean"},
                    "list_id": _TEXT,
                    "created": _TIME,
                },
            },
        },
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "type"],
                "properties": {
                    "name": _TEXT,
                    "type": {
                        "enum": [
                            "service",
                            "non-inventory",
                            "other-charge",
                            "inventory",
                            "discount",
                            "subtotal",
                            "group",
                        ]
                    },
                    "description": _TEXT,
                    "price": _NUMBER,
                    "price_percent": _NUMBER,
                    "cost": _NUMBER,
                    "purchase_description": _TEXT,
                    "income_account": _TEXT,
                    "expense_account": _TEXT,
                    "tax_code": _TEXT,
                    "rate": _NUMBER,
                    "rate_percent": _NUMBER,
                    "on_hand": _NUMBER,
                    "print_items": {"type": "boolean"},
                    "lines": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["item"],
                            "properties": {"item": _TEXT, "quantity": _NUMBER},
                        },
                    },
                    "active": {"type": "boolean"},
                    "list_id": _TEXT,
                    "created": _TIME,
                },
            },
        },
        "invoices": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["customer", "date"],
                "properties": {
                    "customer": _TEXT,
                    "date": _DATE,
                    "ref_number": _TEXT,
                    "txn_id": _TEXT,
                    "created": _TIME,
                    "memo": _TEXT,
                    "external_guid": _TEXT,
                    "to_be_printed": {"type": "boolean"},
                    "to_be_emailed": {"type": "boolean"},
                    "lines": {"type": "array", "items": _LINE},
                    "payment": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "amount": {"anyOf": [{"const": "full"}, _NUMBER]},
                            "date": _DATE,
                            "ref_number": _TEXT,
                        },
                    },
                },
            },
        },
    },
}

_ITEM_ADDS = {
    "service": "ItemServiceAdd",
    "non-inventory": "ItemNonInventoryAdd",
    "other-charge": "ItemOtherChargeAdd",
    "inventory": "ItemInventoryAdd",
    "discount": "ItemDiscountAdd",
    "subtotal": "ItemSubtotalAdd",
    "group": "ItemGroupAdd",
}


def load_fixture(source: Path | str | Mapping[str, Any]) -> Books:
    """Books from a fixture file (YAML or JSON) or from already loaded data.

    Raises :class:`~reconciler.base.errors.InvalidInput` naming the file and line of
    every problem.
    """
    document = _document(source)
    data = _plain(document.data)
    validator = jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    problems = [
        Diagnostic(document.where(p.at, key=p.key is not None), str(p))
        for p in schema_problems(validator, data, written=document.written.get)
    ]
    if problems:
        raise InvalidInput(problems, subject="sandbox company fixture")
    return _Builder(document, data).build()


def build_books(data: Mapping[str, Any]) -> Books:
    """Books from fixture data known to be valid (generated data: no schema pass)."""
    return _Builder(_document(data), dict(data)).build()


def _document(source: Path | str | Mapping[str, Any]) -> YamlDocument:
    if isinstance(source, Mapping):
        where = Location(Path("<fixture>"))
        return YamlDocument(Path("<fixture>"), dict(source), {(): where}, {})
    path = Path(source)
    try:
        # JSON is YAML: one loader keeps line numbers for both.
        return load_yaml(path)
    except YamlSyntaxError as exc:
        raise InvalidInput(exc.diagnostics, subject="sandbox company fixture") from None
    except OSError as exc:
        raise InvalidInput(
            [Diagnostic(Location(path), f"cannot read the fixture: {exc.strerror}")],
            subject="sandbox company fixture",
        ) from None


def _plain(value: Any) -> Any:
    """YAML dates and times as ISO text, so one schema serves YAML and JSON."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


class _Builder:
    def __init__(self, document: YamlDocument, data: dict[str, Any]) -> None:
        self.document = document
        self.data = data
        settings = data["company"]
        self.tz = ZoneInfo(settings.get("timezone", "America/New_York"))
        self.books = Books(settings["name"], settings.get("file", ""))
        self.created = self._time(settings.get("created", "2025-01-02T09:00:00"))
        self.problems: list[Diagnostic] = []

    def build(self) -> Books:
        for index, spec in enumerate(self.data.get("customers", [])):
            self._guard(("customers", index), lambda spec=spec: self._customer(spec))
        for index, spec in enumerate(self.data.get("items", [])):
            self._guard(("items", index), lambda spec=spec: self._item(spec))
        for index, spec in enumerate(self.data.get("invoices", [])):
            self._guard(("invoices", index), lambda spec=spec: self._invoice(spec))
        if self.problems:
            raise InvalidInput(self.problems, subject="sandbox company fixture")
        return self.books

    def _guard(self, path: PathKey, build: Callable[[], None]) -> None:
        try:
            build()
        except StatusError as error:
            self.problems.append(Diagnostic(self.document.where(path), error.message))

    def _time(self, text: str) -> dt.datetime:
        moment = dt.datetime.fromisoformat(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=self.tz)

    # Lists ------------------------------------------------------------------

    def _customer(self, spec: dict[str, Any]) -> None:
        add = etree.Element("CustomerAdd")
        parent, name = _split(spec["name"])
        el.leaf(add, "Name", name)
        el.leaf(add, "IsActive", el.boolean(spec.get("active", True)))
        if parent:
            add.append(el.ref("ParentRef", None, parent))
        if "company_name" in spec:
            el.leaf(add, "CompanyName", spec["company_name"])
        if "address" in spec:
            address = etree.SubElement(add, "BillAddress")
            for key, tag in (
                ("addr1", "Addr1"),
                ("addr2", "Addr2"),
                ("addr3", "Addr3"),
                ("city", "City"),
                ("state", "State"),
                ("postal_code", "PostalCode"),
                ("country", "Country"),
            ):
                if key in spec["address"]:
                    el.leaf(address, tag, spec["address"][key])
        for key, tag in (("phone", "Phone"), ("email", "Email")):
            if key in spec:
                el.leaf(add, tag, spec[key])
        el.leaf(add, "JobStatus", "None")
        moment = self._time(spec["created"]) if "created" in spec else self.created
        add_list_object(self.books, add, moment=moment, list_id=spec.get("list_id"))

    def _item(self, spec: dict[str, Any]) -> None:
        kind = spec["type"]
        add = etree.Element(_ITEM_ADDS[kind])
        parent, name = _split(spec["name"])
        el.leaf(add, "Name", name)
        el.leaf(add, "IsActive", el.boolean(spec.get("active", True)))
        if parent:
            add.append(el.ref("ParentRef", None, parent))
        _ITEM_BODIES[kind](add, spec)
        moment = self._time(spec["created"]) if "created" in spec else self.created
        add_list_object(self.books, add, moment=moment, list_id=spec.get("list_id"))

    # Invoices ---------------------------------------------------------------

    def _invoice(self, spec: dict[str, Any]) -> None:
        add = etree.Element("InvoiceAdd")
        add.append(el.ref("CustomerRef", None, spec["customer"]))
        el.leaf(add, "TxnDate", spec["date"])
        if "ref_number" in spec:
            el.leaf(add, "RefNumber", str(spec["ref_number"]))
        if "memo" in spec:
            el.leaf(add, "Memo", spec["memo"])
        el.leaf(add, "IsToBePrinted", el.boolean(spec.get("to_be_printed", False)))
        el.leaf(add, "IsToBeEmailed", el.boolean(spec.get("to_be_emailed", False)))
        if "external_guid" in spec:
            el.leaf(add, "ExternalGUID", spec["external_guid"])
        for line in spec.get("lines", []):
            add.append(_line_add(line))
        if "created" in spec:
            moment = self._time(spec["created"])
        else:
            day = dt.date.fromisoformat(spec["date"])
            moment = dt.datetime.combine(day, dt.time(5, 0), tzinfo=self.tz)
        ret = add_invoice(self.books, add, moment=moment, txn_id=spec.get("txn_id"))
        payment = spec.get("payment")
        if payment is not None:
            amount = payment.get("amount", "full")
            date = dt.date.fromisoformat(payment["date"]) if "date" in payment else moment.date()
            receive_payment(
                self.books,
                el.text_of(ret, "TxnID") or "",
                None if amount == "full" else Decimal(str(amount)),
                date=date,
                ref_number=payment.get("ref_number"),
                moment=max(moment, dt.datetime.combine(date, dt.time(12, 0), tzinfo=self.tz)),
            )


def _split(full_name: str) -> tuple[str, str]:
    parent, _, name = full_name.rpartition(":")
    return parent, name


def _line_add(spec: dict[str, Any]) -> Element:
    if "group" in spec:
        add = etree.Element("InvoiceLineGroupAdd")
        add.append(el.ref("ItemGroupRef", None, spec["group"]))
        if "quantity" in spec:
            el.leaf(add, "Quantity", str(spec["quantity"]))
        return add
    add = etree.Element("InvoiceLineAdd")
    if "item" in spec:
        add.append(el.ref("ItemRef", None, spec["item"]))
    for key, tag in (("description", "Desc"), ("quantity", "Quantity"), ("rate", "Rate")):
        if key in spec:
            el.leaf(add, tag, str(spec[key]))
    for key, tag in (
        ("amount", "Amount"),
        ("service_date", "ServiceDate"),
        ("other1", "Other1"),
        ("other2", "Other2"),
    ):
        if key in spec:
            value = spec[key]
            el.leaf(add, tag, el.money(Decimal(str(value))) if key == "amount" else str(value))
    for data_ext in spec.get("data_ext", []):
        node = etree.SubElement(add, "DataExt")
        el.leaf(node, "OwnerID", data_ext.get("owner_id", "0"))
        el.leaf(node, "DataExtName", data_ext["name"])
        el.leaf(node, "DataExtValue", data_ext["value"])
    return add


# Item bodies -----------------------------------------------------------------


def _sales_item(add: Element, spec: dict[str, Any]) -> None:
    _tax_code(add, spec)
    if "cost" in spec:
        sales = etree.SubElement(add, "SalesAndPurchase")
        _optional(sales, "SalesDesc", spec.get("description"))
        _optional(sales, "SalesPrice", _price(spec.get("price")))
        sales.append(el.ref("IncomeAccountRef", None, spec.get("income_account", "Services")))
        _optional(sales, "PurchaseDesc", spec.get("purchase_description"))
        el.leaf(sales, "PurchaseCost", el.price(Decimal(str(spec["cost"]))))
        sales.append(
            el.ref("ExpenseAccountRef", None, spec.get("expense_account", "Cost of Goods Sold"))
        )
        return
    sales = etree.SubElement(add, "SalesOrPurchase")
    _optional(sales, "Desc", spec.get("description"))
    if "price_percent" in spec:
        el.leaf(sales, "PricePercent", str(spec["price_percent"]))
    else:
        _optional(sales, "Price", _price(spec.get("price")))
    sales.append(el.ref("AccountRef", None, spec.get("income_account", "Services")))


def _inventory_item(add: Element, spec: dict[str, Any]) -> None:
    _tax_code(add, spec)
    _optional(add, "SalesDesc", spec.get("description"))
    _optional(add, "SalesPrice", _price(spec.get("price")))
    add.append(el.ref("IncomeAccountRef", None, spec.get("income_account", "Sales")))
    _optional(add, "PurchaseDesc", spec.get("purchase_description"))
    _optional(add, "PurchaseCost", _price(spec.get("cost")))
    add.append(el.ref("COGSAccountRef", None, spec.get("expense_account", "Cost of Goods Sold")))
    add.append(el.ref("AssetAccountRef", None, "Inventory Asset"))
    _optional(add, "QuantityOnHand", str(spec["on_hand"]) if "on_hand" in spec else None)


def _discount_item(add: Element, spec: dict[str, Any]) -> None:
    _optional(add, "ItemDesc", spec.get("description"))
    _tax_code(add, spec)
    if "rate_percent" in spec:
        el.leaf(add, "DiscountRatePercent", str(spec["rate_percent"]))
    else:
        el.leaf(add, "DiscountRate", el.price(Decimal(str(spec.get("rate", 0)))))
    add.append(el.ref("AccountRef", None, spec.get("income_account", "Discounts Given")))


def _subtotal_item(add: Element, spec: dict[str, Any]) -> None:
    _optional(add, "ItemDesc", spec.get("description"))


def _group_item(add: Element, spec: dict[str, Any]) -> None:
    _optional(add, "ItemDesc", spec.get("description"))
    el.leaf(add, "IsPrintItemsInGroup", el.boolean(spec.get("print_items", False)))
    for line in spec.get("lines", []):
        member = etree.SubElement(add, "ItemGroupLine")
        member.append(el.ref("ItemRef", None, line["item"]))
        el.leaf(member, "Quantity", str(line.get("quantity", 1)))


_ITEM_BODIES: dict[str, Callable[[Element, dict[str, Any]], None]] = {
    "service": _sales_item,
    "non-inventory": _sales_item,
    "other-charge": _sales_item,
    "inventory": _inventory_item,
    "discount": _discount_item,
    "subtotal": _subtotal_item,
    "group": _group_item,
}


def _tax_code(add: Element, spec: dict[str, Any]) -> None:
    add.append(el.ref("SalesTaxCodeRef", None, spec.get("tax_code", "Non")))


def _price(value: Any) -> str | None:
    return None if value is None else el.price(Decimal(str(value)))


def _optional(parent: Element, tag: str, text: str | None) -> None:
    if text is not None:
        el.leaf(parent, tag, text)
