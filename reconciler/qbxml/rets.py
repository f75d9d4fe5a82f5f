"""Model objects from qbXML ``*Ret`` elements, in one pass over each element.

The streaming parser hands every complete top-level ``*Ret`` element here and
clears it afterwards. Each builder walks the element's children once (no
XPath, no repeated searches), skips the subtrees the model does not hold
(addresses, accounts, terms...), and shares identical values (references,
numbers, dates) between objects so that a large response stays small in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from reconciler.base.errors import UserError
from reconciler.model.quickbooks import (
    CompanyInfo,
    Customer,
    DataExt,
    HostInfo,
    Invoice,
    InvoiceLine,
    InvoiceLineGroup,
    Item,
    ItemKind,
    LinkedTxn,
    ListHeader,
    Ref,
    TxnHeader,
    canonical_guid,
)

# Shared values are cached up to this many distinct texts per kind.
_CACHE_LIMIT = 50_000

ITEM_RETS = {f"{kind.value}Ret": kind for kind in ItemKind}


class QbxmlParseError(UserError):
    """A qbXML response that cannot be read; names the file (or "response") and line."""


Element = Any  # lxml.etree._Element; lxml ships no type stubs


class RetBuilder:
    """Builds model objects from ``*Ret`` elements of one document."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._refs: dict[tuple[str | None, str | None], Ref] = {}
        self._decimals: dict[str, Decimal] = {}
        self._dates: dict[str, dt.date] = {}
        self._datetimes: dict[str, dt.datetime] = {}
        self._texts: dict[str, str] = {}
        self.builders: dict[str, Callable[[Element], object]] = {
            "InvoiceRet": self.invoice,
            "CustomerRet": self.customer,
            "HostRet": self.host,
            "CompanyRet": self.company,
            **dict.fromkeys(ITEM_RETS, self.item),
        }

    # ---------------------------------------------------------------- errors

    def error(self, element: Element, message: str) -> QbxmlParseError:
        """A :class:`QbxmlParseError` naming the document and the element's line (to raise)."""
        return QbxmlParseError(f"{self.source}:{element.sourceline}: {message}")

    def _require(self, element: Element, fields: dict[str, Any], names: dict[str, str]) -> None:
        missing = [tag for attr, tag in names.items() if fields.get(attr) is None]
        if missing:
            raise self.error(element, f"{element.tag} lacks {', '.join(missing)}")

    def _header(
        self, element: Element, fields: dict[str, Any], names: dict[str, str]
    ) -> ListHeader | TxnHeader | None:
        """None when ``fields`` hold every field in ``names``; otherwise the header of
        a partial ``*Ret`` (one asked for with ``IncludeRetElement``), which must
        still say which object it is."""
        missing = [tag for attr, tag in names.items() if fields.get(attr) is None]
        if not missing:
            return None
        object_type = element.tag[:-3]
        version = {
            "edit_sequence": fields.get("edit_sequence"),
            "time_created": fields.get("time_created"),
            "time_modified": fields.get("time_modified"),
        }
        if (list_id := fields.get("list_id")) is not None:
            return ListHeader(object_type, list_id, **version)
        if (txn_id := fields.get("txn_id")) is not None:
            return TxnHeader(object_type, txn_id, **version)
        raise self.error(element, f"{element.tag} lacks {', '.join(missing)}")

    # ---------------------------------------------------------------- values

    def text(self, element: Element) -> str:
        """The element's text as written ("" when empty)."""
        return element.text or ""

    def shared_text(self, element: Element) -> str:
        """Text that repeats across objects (descriptions, memos), stored once."""
        text = element.text or ""
        return self._texts.setdefault(text, text) if len(self._texts) < _CACHE_LIMIT else text

    def decimal(self, element: Element) -> Decimal:
        """The element's number; raises :class:`QbxmlParseError` when not a finite decimal."""
        text = element.text
        value = self._decimals.get(text)
        if value is None:
            try:
                value = Decimal(text)
            except (InvalidOperation, TypeError):
                raise self.error(element, f"{element.tag} {text!r} is not a number") from None
            if not value.is_finite():
                raise self.error(element, f"{element.tag} {text!r} is not a number")
            if len(self._decimals) < _CACHE_LIMIT:
                self._decimals[text] = value
        return value

    def integer(self, element: Element) -> int:
        """The element's integer; raises :class:`QbxmlParseError` when not one."""
        try:
            return int(element.text)
        except (ValueError, TypeError):
            raise self.error(element, f"{element.tag} {element.text!r} is not an integer") from None

    def boolean(self, element: Element) -> bool:
        """``true`` or ``false`` (any case) as a bool; raises :class:`QbxmlParseError` otherwise."""
        text = (element.text or "").strip().lower()
        if text == "true":
            return True
        if text == "false":
            return False
        raise self.error(element, f"{element.tag} {element.text!r} is not true or false")

    def date(self, element: Element) -> dt.date:
        """The element's ISO date; raises :class:`QbxmlParseError` when not one."""
        text = element.text
        value = self._dates.get(text)
        if value is None:
            try:
                value = dt.date.fromisoformat(text.strip())
            except (ValueError, AttributeError):
                raise self.error(element, f"{element.tag} {text!r} is not a date") from None
            if len(self._dates) < _CACHE_LIMIT:
                self._dates[text] = value
        return value

    def datetime(self, element: Element) -> dt.datetime:
        """The element's ISO date and time (aware when it carries an offset); raises
        :class:`QbxmlParseError` when not one."""
        text = element.text
        value = self._datetimes.get(text)
        if value is None:
            try:
                value = dt.datetime.fromisoformat(text.strip())
            except (ValueError, AttributeError):
                raise self.error(
                    element, f"{element.tag} {text!r} is not a date and time"
                ) from None
            if len(self._datetimes) < _CACHE_LIMIT:
                self._datetimes[text] = value
        return value

    def guid(self, element: Element) -> str:
        """The element's GUID in canonical form (see :func:`canonical_guid`)."""
        return canonical_guid(element.text or "")

    def ref(self, element: Element) -> Ref:
        """A ``*Ref`` element's ListID and full name (either may be None)."""
        list_id = full_name = None
        for child in element:
            if child.tag == "ListID":
                list_id = child.text
            else:
                full_name = child.text
        key = (list_id, full_name)
        value = self._refs.get(key)
        if value is None:
            value = Ref(list_id, full_name)
            if len(self._refs) < _CACHE_LIMIT:
                self._refs[key] = value
        return value

    def data_ext(self, element: Element) -> DataExt:
        """A ``DataExtRet`` (OwnerID ``0`` when absent); it must have a DataExtName."""
        fields = {"owner_id": "0", "name": None, "value": "", "type": None}
        for child in element:
            attr = _DATA_EXT_FIELDS.get(child.tag)
            if attr is not None:
                fields[attr] = child.text or ""
        self._require(element, fields, {"name": "DataExtName"})
        return DataExt(**fields)

    # ----------------------------------------------------------------- lists

    def host(self, element: Element) -> HostInfo:
        """A ``HostRet``; versions that are not whole numbers are None. Needs ProductName."""
        fields: dict[str, Any] = {}
        versions = []
        for child in element:
            tag = child.tag
            if tag == "SupportedQBXMLVersion":
                versions.append((child.text or "").strip())
                continue
            spec = _HOST_FIELDS.get(tag)
            if spec is not None:
                attr, convert = spec
                fields[attr] = convert(self, child)
        for attr in ("major_version", "minor_version"):
            text = fields.get(attr)
            fields[attr] = int(text) if text is not None and text.strip().isdigit() else None
        self._require(element, fields, {"product_name": "ProductName"})
        return HostInfo(**fields, supported_versions=tuple(versions))

    def company(self, element: Element) -> CompanyInfo:
        """A ``CompanyRet``: its names, whether it is a sample, and its private data (FileID)."""
        fields: dict[str, Any] = {}
        data_ext = []
        for child in element:
            tag = child.tag
            if tag == "DataExtRet":
                data_ext.append(self.data_ext(child))
                continue
            spec = _COMPANY_FIELDS.get(tag)
            if spec is not None:
                attr, convert = spec
                fields[attr] = convert(self, child)
        return CompanyInfo(**fields, data_ext=tuple(data_ext))

    def customer(self, element: Element) -> Customer | ListHeader:
        """A ``CustomerRet``, or only its header when the element is partial (the query's
        ``IncludeRetElement`` asked for some fields); a partial one must still have a ListID."""
        fields: dict[str, Any] = {}
        data_ext = []
        for child in element:
            tag = child.tag
            spec = _CUSTOMER_FIELDS.get(tag)
            if spec is not None:
                attr, convert = spec
                fields[attr] = convert(self, child)
            elif tag == "DataExtRet":
                data_ext.append(self.data_ext(child))
        header = self._header(element, fields, _LIST_REQUIRED)
        if header is not None:
            return header
        return Customer(**fields, data_ext=tuple(data_ext))

    def item(self, element: Element) -> Item | ListHeader:
        """An item of any kind (``Item*Ret``), or only its header when the element is partial;
        a partial one must still have a ListID."""
        fields: dict[str, Any] = {"kind": ITEM_RETS[element.tag]}
        for child in element:
            tag = child.tag
            spec = _ITEM_FIELDS.get(tag)
            if spec is not None:
                attr, convert = spec
                fields[attr] = convert(self, child)
            elif tag == "SalesAndPurchase":
                fields["sales_and_purchase"] = True
                self._fill(child, _SALES_AND_PURCHASE_FIELDS, fields)
            elif tag == "SalesOrPurchase":
                self._fill(child, _SALES_OR_PURCHASE_FIELDS, fields)
        # Items that cannot have a parent (groups, subtotals, payments, sales
        # tax, fixed assets) carry no FullName: their name is their full name.
        if "full_name" not in fields and "name" in fields:
            fields["full_name"] = fields["name"]
        header = self._header(element, fields, _LIST_REQUIRED)
        if header is not None:
            return header
        return Item(**fields)

    def _fill(self, element: Element, specs: dict[str, _Spec], fields: dict[str, Any]) -> None:
        for child in element:
            spec = specs.get(child.tag)
            if spec is not None:
                attr, convert = spec
                fields[attr] = convert(self, child)

    # ---------------------------------------------------------- transactions

    def invoice(self, element: Element) -> Invoice | TxnHeader:
        """An ``InvoiceRet`` with its lines, groups, linked transactions and private data, or
        only its header when the element is partial; a partial one must still have a TxnID."""
        fields: dict[str, Any] = {}
        lines: list[InvoiceLine | InvoiceLineGroup] = []
        linked: list[LinkedTxn] = []
        data_ext: list[DataExt] = []
        for child in element:
            tag = child.tag
            if tag == "InvoiceLineRet":
                lines.append(self.line(child))
                continue
            spec = _INVOICE_FIELDS.get(tag)
            if spec is not None:
                attr, convert = spec
                fields[attr] = convert(self, child)
            elif tag == "InvoiceLineGroupRet":
                lines.append(self.group(child))
            elif tag == "LinkedTxn":
                linked.append(self.linked_txn(child))
            elif tag == "DataExtRet":
                data_ext.append(self.data_ext(child))
        header = self._header(element, fields, _INVOICE_REQUIRED)
        if header is not None:
            return header
        return Invoice(
            **fields, linked_txns=tuple(linked), lines=tuple(lines), data_ext=tuple(data_ext)
        )

    def line(self, element: Element) -> InvoiceLine:
        """An ``InvoiceLineRet``; it must have a TxnLineID."""
        # The hot path of a large InvoiceQueryRs: plain locals and an if-chain
        # in the order QuickBooks writes the fields.
        txn_line_id = item = desc = quantity = rate = rate_percent = amount = None
        service_date = sales_tax_code = class_ref = other1 = other2 = None
        data_ext: list[DataExt] = []
        for child in element:
            tag = child.tag
            if tag == "TxnLineID":
                txn_line_id = child.text
            elif tag == "ItemRef":
                item = self.ref(child)
            elif tag == "Desc":
                desc = self.shared_text(child)
            elif tag == "Quantity":
                quantity = self.decimal(child)
            elif tag == "Rate":
                rate = self.decimal(child)
            elif tag == "Amount":
                amount = self.decimal(child)
            elif tag == "ServiceDate":
                service_date = self.date(child)
            elif tag == "SalesTaxCodeRef":
                sales_tax_code = self.ref(child)
            elif tag == "RatePercent":
                rate_percent = self.decimal(child)
            elif tag == "ClassRef":
                class_ref = self.ref(child)
            elif tag == "Other1":
                other1 = child.text or ""
            elif tag == "Other2":
                other2 = child.text or ""
            elif tag == "DataExtRet":
                data_ext.append(self.data_ext(child))
        if txn_line_id is None:
            raise self.error(element, "InvoiceLineRet lacks TxnLineID")
        return InvoiceLine(
            txn_line_id=txn_line_id,
            item=item,
            desc=desc,
            quantity=quantity,
            rate=rate,
            rate_percent=rate_percent,
            amount=amount,
            service_date=service_date,
            sales_tax_code=sales_tax_code,
            class_ref=class_ref,
            other1=other1,
            other2=other2,
            data_ext=tuple(data_ext),
        )

    def group(self, element: Element) -> InvoiceLineGroup:
        """An ``InvoiceLineGroupRet`` with its lines; it must have TxnLineID and ItemGroupRef."""
        fields: dict[str, Any] = {}
        lines: list[InvoiceLine] = []
        data_ext: list[DataExt] = []
        for child in element:
            tag = child.tag
            if tag == "InvoiceLineRet":
                lines.append(self.line(child))
                continue
            spec = _GROUP_FIELDS.get(tag)
            if spec is not None:
                attr, convert = spec
                fields[attr] = convert(self, child)
            elif tag == "DataExtRet":
                data_ext.append(self.data_ext(child))
        self._require(element, fields, {"txn_line_id": "TxnLineID", "item_group": "ItemGroupRef"})
        return InvoiceLineGroup(**fields, lines=tuple(lines), data_ext=tuple(data_ext))

    def linked_txn(self, element: Element) -> LinkedTxn:
        """A ``LinkedTxn`` (a payment, credit... linked to the invoice); needs TxnID and TxnType."""
        fields: dict[str, Any] = {}
        self._fill(element, _LINKED_TXN_FIELDS, fields)
        self._require(element, fields, {"txn_id": "TxnID", "txn_type": "TxnType"})
        return LinkedTxn(**fields)


_Spec = tuple[str, Callable[[RetBuilder, Element], Any]]
_B = RetBuilder

_DATA_EXT_FIELDS = {
    "OwnerID": "owner_id",
    "DataExtName": "name",
    "DataExtType": "type",
    "DataExtValue": "value",
}
_HOST_FIELDS: dict[str, _Spec] = {
    "ProductName": ("product_name", _B.text),
    "MajorVersion": ("major_version", _B.text),
    "MinorVersion": ("minor_version", _B.text),
    "Country": ("country", _B.text),
    "IsAutomaticLogin": ("is_automatic_login", _B.boolean),
    "QBFileMode": ("qb_file_mode", _B.text),
}
_COMPANY_FIELDS: dict[str, _Spec] = {
    "IsSampleCompany": ("is_sample_company", _B.boolean),
    "CompanyName": ("company_name", _B.text),
    "LegalCompanyName": ("legal_company_name", _B.text),
}
_LIST_FIELDS: dict[str, _Spec] = {
    "ListID": ("list_id", _B.text),
    "TimeCreated": ("time_created", _B.datetime),
    "TimeModified": ("time_modified", _B.datetime),
    "EditSequence": ("edit_sequence", _B.text),
    "Name": ("name", _B.text),
    "FullName": ("full_name", _B.text),
    "IsActive": ("is_active", _B.boolean),
}
_CUSTOMER_FIELDS: dict[str, _Spec] = {
    **_LIST_FIELDS,
    "ParentRef": ("parent", _B.ref),
    "Sublevel": ("sublevel", _B.integer),
}
_LIST_REQUIRED = {
    "list_id": "ListID",
    "edit_sequence": "EditSequence",
    "name": "Name",
    "full_name": "FullName",
}
# Inventory, assembly and fixed-asset items hold their prices at the top
# level; the others in SalesOrPurchase or SalesAndPurchase.
_ITEM_FIELDS: dict[str, _Spec] = {
    **_LIST_FIELDS,
    "SalesDesc": ("sales_desc", _B.text),
    "SalesPrice": ("sales_price", _B.decimal),
    "PurchaseCost": ("purchase_cost", _B.decimal),
    "ItemDesc": ("sales_desc", _B.text),
    "IncomeAccountRef": ("account", _B.ref),
    "AccountRef": ("account", _B.ref),  # discount items
}
_SALES_OR_PURCHASE_FIELDS: dict[str, _Spec] = {
    "Desc": ("sales_desc", _B.text),
    "Price": ("sales_price", _B.decimal),
    "PricePercent": ("sales_price_percent", _B.decimal),
    "AccountRef": ("account", _B.ref),
}
_SALES_AND_PURCHASE_FIELDS: dict[str, _Spec] = {
    "SalesDesc": ("sales_desc", _B.text),
    "SalesPrice": ("sales_price", _B.decimal),
    "IncomeAccountRef": ("account", _B.ref),
    "PurchaseCost": ("purchase_cost", _B.decimal),
}
_INVOICE_FIELDS: dict[str, _Spec] = {
    "TxnID": ("txn_id", _B.text),
    "TimeCreated": ("time_created", _B.datetime),
    "TimeModified": ("time_modified", _B.datetime),
    "EditSequence": ("edit_sequence", _B.text),
    "TxnNumber": ("txn_number", _B.integer),
    "CustomerRef": ("customer", _B.ref),
    "TxnDate": ("txn_date", _B.date),
    "RefNumber": ("ref_number", _B.text),
    "IsPending": ("is_pending", _B.boolean),
    "DueDate": ("due_date", _B.date),
    "Subtotal": ("subtotal", _B.decimal),
    "AppliedAmount": ("applied_amount", _B.decimal),
    "BalanceRemaining": ("balance_remaining", _B.decimal),
    "Memo": ("memo", _B.shared_text),
    "IsPaid": ("is_paid", _B.boolean),
    "IsToBePrinted": ("is_to_be_printed", _B.boolean),
    "IsToBeEmailed": ("is_to_be_emailed", _B.boolean),
    "ExternalGUID": ("external_guid", _B.guid),
}
_INVOICE_REQUIRED = {
    "txn_id": "TxnID",
    "edit_sequence": "EditSequence",
    "customer": "CustomerRef",
    "txn_date": "TxnDate",
}
_GROUP_FIELDS: dict[str, _Spec] = {
    "TxnLineID": ("txn_line_id", _B.text),
    "ItemGroupRef": ("item_group", _B.ref),
    "Desc": ("desc", _B.text),
    "Quantity": ("quantity", _B.decimal),
    "IsPrintItemsInGroup": ("is_print_items_in_group", _B.boolean),
    "TotalAmount": ("total_amount", _B.decimal),
}
_LINKED_TXN_FIELDS: dict[str, _Spec] = {
    "TxnID": ("txn_id", _B.text),
    "TxnType": ("txn_type", _B.text),
    "TxnDate": ("txn_date", _B.date),
    "RefNumber": ("ref_number", _B.text),
    "LinkType": ("link_type", _B.text),
    "Amount": ("amount", _B.decimal),
}
