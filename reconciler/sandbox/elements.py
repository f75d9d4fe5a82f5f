"""Building qbXML response elements in the order QuickBooks writes them.

The qbXML schema is a sequence: a ``*Ret`` element whose children are out of
order does not validate, and QuickBooks never sends one. The orders below come
from Intuit's field-order reference (``qbxmlops130.xml``); members of one
``OR`` group (``Rate``/``RatePercent``, the two line kinds, the item kinds)
share a position, as the schema lets them interleave.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lxml import etree

Element = etree._Element

_REF = ("ListID", "FullName")
_ADDRESS = (
    "Addr1",
    "Addr2",
    "Addr3",
    "Addr4",
    "Addr5",
    "City",
    "State",
    "PostalCode",
    "Country",
    "Note",
)
_LIST_HEAD = ("ListID", "TimeCreated", "TimeModified", "EditSequence", "Name", "FullName")
_ITEM_HEAD = (*_LIST_HEAD, "BarCodeValue", "IsActive", "ClassRef", "ParentRef", "Sublevel")
# SalesOrPurchase and SalesAndPurchase are one OR group: a tuple entry holds a group.
_SALES = ("SalesOrPurchase", "SalesAndPurchase")

ORDERS: dict[str, tuple[str | tuple[str, ...], ...]] = {
    "InvoiceRet": (
        "TxnID",
        "TimeCreated",
        "TimeModified",
        "EditSequence",
        "TxnNumber",
        "CustomerRef",
        "ClassRef",
        "ARAccountRef",
        "TemplateRef",
        "TxnDate",
        "RefNumber",
        "BillAddress",
        "BillAddressBlock",
        "ShipAddress",
        "ShipAddressBlock",
        "IsPending",
        "IsFinanceCharge",
        "PONumber",
        "TermsRef",
        "DueDate",
        "SalesRepRef",
        "FOB",
        "ShipDate",
        "ShipMethodRef",
        "Subtotal",
        "ItemSalesTaxRef",
        "SalesTaxPercentage",
        "SalesTaxTotal",
        "AppliedAmount",
        "BalanceRemaining",
        "CurrencyRef",
        "ExchangeRate",
        "BalanceRemainingInHomeCurrency",
        "Memo",
        "IsPaid",
        "CustomerMsgRef",
        "IsToBePrinted",
        "IsToBeEmailed",
        "IsTaxIncluded",
        "CustomerSalesTaxCodeRef",
        "SuggestedDiscountAmount",
        "SuggestedDiscountDate",
        "Other",
        "ExternalGUID",
        "LinkedTxn",
        ("InvoiceLineRet", "InvoiceLineGroupRet"),
        "DiscountLineRet",
        "SalesTaxLineRet",
        "ShippingLineRet",
        "DataExtRet",
    ),
    "InvoiceLineRet": (
        "TxnLineID",
        "ItemRef",
        "Desc",
        "Quantity",
        "UnitOfMeasure",
        "OverrideUOMSetRef",
        ("Rate", "RatePercent"),
        "ClassRef",
        "Amount",
        "TaxAmount",
        "InventorySiteRef",
        "InventorySiteLocationRef",
        ("SerialNumber", "LotNumber"),
        "ServiceDate",
        "SalesTaxCodeRef",
        "IsTaxable",
        "Other1",
        "Other2",
        "DataExtRet",
    ),
    "InvoiceLineGroupRet": (
        "TxnLineID",
        "ItemGroupRef",
        "Desc",
        "Quantity",
        "UnitOfMeasure",
        "OverrideUOMSetRef",
        "IsPrintItemsInGroup",
        "TotalAmount",
        "ServiceDate",
        "InvoiceLineRet",
        "DataExtRet",
    ),
    "LinkedTxn": ("TxnID", "TxnType", "TxnDate", "RefNumber", "LinkType", "Amount"),
    "DataExtRet": ("OwnerID", "DataExtName", "DataExtType", "DataExtValue"),
    "CustomerRet": (
        *_LIST_HEAD,
        "IsActive",
        "ClassRef",
        "ParentRef",
        "Sublevel",
        "CompanyName",
        "Salutation",
        "FirstName",
        "MiddleName",
        "LastName",
        "Suffix",
        "JobTitle",
        "BillAddress",
        "BillAddressBlock",
        "ShipAddress",
        "ShipAddressBlock",
        "ShipToAddress",
        "PrintAs",
        "Phone",
        "Mobile",
        "Pager",
        "AltPhone",
        "Fax",
        "Email",
        "Cc",
        "Contact",
        "AltContact",
        "AdditionalContactRef",
        "ContactsRet",
        "CustomerTypeRef",
        "TermsRef",
        "SalesRepRef",
        "Balance",
        "TotalBalance",
        "SalesTaxCodeRef",
        "ItemSalesTaxRef",
        "SalesTaxCountry",
        "ResaleNumber",
        "AccountNumber",
        "CreditLimit",
        "PreferredPaymentMethodRef",
        "CreditCardInfo",
        "JobStatus",
        "JobStartDate",
        "JobProjectedEndDate",
        "JobEndDate",
        "JobDesc",
        "JobTypeRef",
        "Notes",
        "AdditionalNotesRet",
        "IsStatementWithParent",
        "DeliveryMethod",
        "PreferredDeliveryMethod",
        "PriceLevelRef",
        "ExternalGUID",
        "TaxRegistrationNumber",
        "CurrencyRef",
        "DataExtRet",
    ),
    "ItemServiceRet": (
        *_ITEM_HEAD,
        "UnitOfMeasureSetRef",
        "IsTaxIncluded",
        "SalesTaxCodeRef",
        _SALES,
        "ExternalGUID",
        "DataExtRet",
    ),
    "ItemNonInventoryRet": (
        *_ITEM_HEAD,
        "ManufacturerPartNumber",
        "UnitOfMeasureSetRef",
        "IsTaxIncluded",
        "SalesTaxCodeRef",
        _SALES,
        "ExternalGUID",
        "DataExtRet",
    ),
    "ItemOtherChargeRet": (
        *_ITEM_HEAD,
        "IsTaxIncluded",
        "SalesTaxCodeRef",
        _SALES,
        "SpecialItemType",
        "ExternalGUID",
        "DataExtRet",
    ),
    "ItemInventoryRet": (
        *_ITEM_HEAD,
        "ManufacturerPartNumber",
        "UnitOfMeasureSetRef",
        "IsTaxIncluded",
        "SalesTaxCodeRef",
        "SalesDesc",
        "SalesPrice",
        "IncomeAccountRef",
        "PurchaseDesc",
        "PurchaseCost",
        "PurchaseTaxCodeRef",
        "COGSAccountRef",
        "PrefVendorRef",
        "AssetAccountRef",
        "ReorderPoint",
        "Max",
        "QuantityOnHand",
        "AverageCost",
        "QuantityOnOrder",
        "QuantityOnSalesOrder",
        "ExternalGUID",
        "DataExtRet",
    ),
    "ItemDiscountRet": (
        *_ITEM_HEAD,
        "ItemDesc",
        "SalesTaxCodeRef",
        ("DiscountRate", "DiscountRatePercent"),
        "AccountRef",
        "ExternalGUID",
        "DataExtRet",
    ),
    "ItemSubtotalRet": (
        "ListID",
        "TimeCreated",
        "TimeModified",
        "EditSequence",
        "Name",
        "BarCodeValue",
        "IsActive",
        "ItemDesc",
        "SpecialItemType",
        "ExternalGUID",
        "DataExtRet",
    ),
    "ItemGroupRet": (
        "ListID",
        "TimeCreated",
        "TimeModified",
        "EditSequence",
        "Name",
        "BarCodeValue",
        "IsActive",
        "ItemDesc",
        "UnitOfMeasureSetRef",
        "IsPrintItemsInGroup",
        "SpecialItemType",
        "ExternalGUID",
        "ItemGroupLine",
        "DataExtRet",
    ),
    "ItemGroupLine": ("ItemRef", "Quantity", "UnitOfMeasure"),
    "SalesOrPurchase": ("Desc", ("Price", "PricePercent"), "AccountRef"),
    "SalesAndPurchase": (
        "SalesDesc",
        "SalesPrice",
        "IncomeAccountRef",
        "PurchaseDesc",
        "PurchaseCost",
        "PurchaseTaxCodeRef",
        "ExpenseAccountRef",
        "PrefVendorRef",
    ),
    "BillAddress": _ADDRESS,
    "ShipAddress": _ADDRESS,
}


def _positions(tag: str) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, entry in enumerate(ORDERS[tag]):
        for name in (entry,) if isinstance(entry, str) else entry:
            positions[name] = index
    return positions


_POSITIONS = {tag: _positions(tag) for tag in ORDERS}
_REF_POSITIONS = {name: index for index, name in enumerate(_REF)}


def _position(parent_tag: str, tag: str) -> int:
    order = _POSITIONS[parent_tag] if not parent_tag.endswith("Ref") else _REF_POSITIONS
    try:
        return order[tag]
    except KeyError:
        raise KeyError(f"{tag} has no place in {parent_tag}") from None


def place(parent: Element, child: Element) -> Element:
    """Insert ``child`` after every sibling that QuickBooks writes before it."""
    where = _position(parent.tag, child.tag)
    # Scanning from the end makes building a Ret in order cost nothing extra.
    for sibling in parent.iterchildren(reversed=True):
        if isinstance(sibling.tag, str) and _position(parent.tag, sibling.tag) <= where:
            sibling.addnext(child)
            return child
    parent.insert(0, child)
    return child


def put(parent: Element, tag: str, text: str | None = None) -> Element:
    """Set the single child ``tag`` of ``parent`` (created in order when absent)."""
    child = parent.find(tag)
    if child is None:
        child = place(parent, etree.Element(tag))
    if text is not None:
        child.text = text
    return child


def drop(parent: Element, *tags: str) -> None:
    """Remove every child of ``parent`` named in ``tags``."""
    for tag in tags:
        for child in parent.findall(tag):
            parent.remove(child)


def leaf(parent: Element, tag: str, text: str) -> Element:
    """Append a text child (for elements built in order from scratch)."""
    child = etree.SubElement(parent, tag)
    child.text = text
    return child


def ref(tag: str, list_id: str | None, full_name: str | None) -> Element:
    """A ``*Ref`` aggregate: ``ListID`` then ``FullName``, each when known."""
    element = etree.Element(tag)
    if list_id is not None:
        leaf(element, "ListID", list_id)
    if full_name is not None:
        leaf(element, "FullName", full_name)
    return element


def text_of(element: Element | None, path: str, default: str | None = None) -> str | None:
    """The stripped text at ``path`` under ``element`` (``default`` when absent)."""
    if element is None:
        return default
    found = element.findtext(path)
    return default if not found else found.strip()


def strip_blank_text(element: Element) -> Element:
    """Drop indentation whitespace so that re-serialised documents stay tidy."""
    for node in element.iter():
        if len(node):
            if node.text is not None and not node.text.strip():
                node.text = None
            for child in node:
                if child.tail is not None and not child.tail.strip():
                    child.tail = None
    return element


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------

CENT = Decimal("0.01")


def decimal(text: str | None) -> Decimal | None:
    """A qbXML number as a Decimal (None when absent or not a number)."""
    if text is None or not text.strip():
        return None
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        return None


def money(value: Decimal) -> str:
    """AMTTYPE: two decimals, rounded half up as QuickBooks rounds."""
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):f}"


def price(value: Decimal) -> str:
    """PRICETYPE: at least two decimals, at most five (QuickBooks writes ``22.50``)."""
    value = value.quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP).normalize()
    if -value.as_tuple().exponent < 2:  # type: ignore[operator]
        value = value.quantize(CENT)
    return f"{value:f}"


def quantity(value: Decimal) -> str:
    """QUANTYPE: up to five decimals without trailing zeros (``1``, ``0.5``)."""
    value = value.quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP).normalize()
    return f"{value:f}"


def boolean(value: bool) -> str:
    """BOOLTYPE as qbXML writes it: ``true`` or ``false``."""
    return "true" if value else "false"


def is_true(text: str | None) -> bool:
    """Whether a qbXML BOOLTYPE text says ``true`` (any case, spaces ignored); absent is false."""
    return (text or "").strip().lower() == "true"


def timestamp(moment: dt.datetime) -> str:
    """DATETIMETYPE as QuickBooks writes it: local time with its UTC offset."""
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.replace(microsecond=0).isoformat()


def parse_timestamp(text: str, *, default_tz: dt.tzinfo, end_of_day: bool = False) -> dt.datetime:
    """A DATETIMETYPE (or a bare date) as an aware datetime."""
    text = text.strip()
    if "T" not in text:
        day = dt.date.fromisoformat(text)
        clock = dt.time.max if end_of_day else dt.time.min
        return dt.datetime.combine(day, clock, tzinfo=default_tz)
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=default_tz)


def children(parent: Element, *tags: str) -> Iterable[Element]:
    """Child elements of ``parent`` with one of ``tags`` (all elements when none given)."""
    for child in parent:
        if not isinstance(child.tag, str):
            continue
        if not tags or child.tag in tags:
            yield child


# --------------------------------------------------------------------------
# Response documents
# --------------------------------------------------------------------------


def response_element(
    tag: str,
    *,
    request_id: str | None,
    status: tuple[int, str, str],
    **attributes: str,
) -> Element:
    """A ``*Rs`` element with QuickBooks' attribute order (requestID first)."""
    element = etree.Element(tag)
    if request_id is not None:
        element.set("requestID", request_id)
    code, severity, message = status
    element.set("statusCode", str(code))
    element.set("statusSeverity", severity)
    element.set("statusMessage", message)
    for name, value in attributes.items():
        element.set(name, value)
    return element


def document(responses: Iterable[Element]) -> str:
    """A whole qbXML response document, as QuickBooks returns it (no qbxml instruction)."""
    root = etree.Element("QBXML")
    messages = etree.SubElement(root, "QBXMLMsgsRs")
    messages.extend(responses)
    body = etree.tostring(root, encoding="unicode", pretty_print=True)
    return f'<?xml version="1.0" ?>\n{body}'
