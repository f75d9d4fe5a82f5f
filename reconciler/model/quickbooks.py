"""QuickBooks Desktop objects as qbXML describes them: customers, items, invoices.

Money and quantities are :class:`~decimal.Decimal`, never floats.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from reconciler.model.config import UnsentInvoices


@dataclass(frozen=True)
class Ref:
    """A reference to a list object (ListID and/or FullName)."""

    list_id: str | None = None
    full_name: str | None = None


@dataclass(frozen=True)
class DataExt:
    """A custom field (private or public data extension) value."""

    owner_id: str  # "0" for public custom fields, a GUID for private data
    name: str
    value: str
    type: str | None = None


@dataclass(frozen=True)
class HostInfo:
    """What HostQuery says about the QuickBooks that answers."""

    product_name: str
    major_version: int | None = None
    minor_version: int | None = None
    country: str | None = None
    supported_versions: tuple[str, ...] = ()
    is_automatic_login: bool | None = None
    qb_file_mode: str | None = None
    # From CompanyQuery: the open company file, checked against the configuration.
    company_name: str | None = None


@dataclass(frozen=True)
class CompanyInfo:
    """What CompanyQuery says about the open company file."""

    company_name: str | None = None
    legal_company_name: str | None = None
    is_sample_company: bool | None = None
    data_ext: tuple[DataExt, ...] = ()


@dataclass(frozen=True)
class Customer:
    """A QuickBooks customer or job."""

    list_id: str
    full_name: str
    name: str
    edit_sequence: str
    is_active: bool = True
    parent: Ref | None = None
    sublevel: int = 0
    time_created: dt.datetime | None = None
    time_modified: dt.datetime | None = None
    data_ext: tuple[DataExt, ...] = ()


class ItemKind(StrEnum):
    """The qbXML item types (the ``*Ret`` element names without ``Ret``)."""

    SERVICE = "ItemService"
    NON_INVENTORY = "ItemNonInventory"
    OTHER_CHARGE = "ItemOtherCharge"
    INVENTORY = "ItemInventory"
    INVENTORY_ASSEMBLY = "ItemInventoryAssembly"
    FIXED_ASSET = "ItemFixedAsset"
    SUBTOTAL = "ItemSubtotal"
    DISCOUNT = "ItemDiscount"
    PAYMENT = "ItemPayment"
    SALES_TAX = "ItemSalesTax"
    SALES_TAX_GROUP = "ItemSalesTaxGroup"
    GROUP = "ItemGroup"


# Item kinds whose purchase cost the reconciler may set (through
# SalesAndPurchaseMod); the others cannot carry a synced unit cost.
COSTED_ITEM_KINDS = frozenset({ItemKind.SERVICE, ItemKind.NON_INVENTORY, ItemKind.OTHER_CHARGE})

# The box to tick in QuickBooks (Edit Item) before an item of these kinds has a
# purchase cost (SalesAndPurchase), by kind.
COST_CHECKBOX = {
    ItemKind.SERVICE: "This service is used in assemblies or is performed by a subcontractor "
    "or partner",
    ItemKind.NON_INVENTORY: "This item is used in assemblies or is purchased for a specific "
    "customer:job",
    ItemKind.OTHER_CHARGE: "This item is used in assemblies or is a reimbursable charge",
}


@dataclass(frozen=True)
class Item:
    """A QuickBooks item (product or service)."""

    list_id: str
    full_name: str
    name: str
    kind: ItemKind
    edit_sequence: str
    is_active: bool = True
    # True when the item holds both sales and purchase information
    # (SalesAndPurchase): only then does it have a purchase cost.
    sales_and_purchase: bool = False
    sales_price: Decimal | None = None  # SalesOrPurchase/Price or SalesAndPurchase/SalesPrice
    sales_price_percent: Decimal | None = None  # PricePercent (other-charge items)
    purchase_cost: Decimal | None = None
    sales_desc: str | None = None
    time_created: dt.datetime | None = None
    time_modified: dt.datetime | None = None
    # The account an invoice line of it posts to: the one account of a sales-or-
    # purchase item (SalesOrPurchase/AccountRef, income or expense), else IncomeAccountRef.
    account: Ref | None = None


@dataclass(frozen=True)
class InvoiceLine:
    """A line of an invoice as QuickBooks holds it."""

    txn_line_id: str
    item: Ref | None = None  # None for description-only lines
    desc: str | None = None
    quantity: Decimal | None = None
    rate: Decimal | None = None
    rate_percent: Decimal | None = None
    amount: Decimal | None = None
    service_date: dt.date | None = None
    sales_tax_code: Ref | None = None
    class_ref: Ref | None = None
    other1: str | None = None
    other2: str | None = None
    data_ext: tuple[DataExt, ...] = ()


@dataclass(frozen=True)
class InvoiceLineGroup:
    """A group line (an item group expanded on the invoice) and its lines."""

    txn_line_id: str
    item_group: Ref
    desc: str | None = None
    quantity: Decimal | None = None
    is_print_items_in_group: bool = False
    total_amount: Decimal | None = None
    lines: tuple[InvoiceLine, ...] = ()
    data_ext: tuple[DataExt, ...] = ()


@dataclass(frozen=True)
class LinkedTxn:
    """A transaction linked to an invoice (payment, credit memo, ...)."""

    txn_id: str
    txn_type: str
    txn_date: dt.date | None = None
    ref_number: str | None = None
    link_type: str | None = None
    amount: Decimal | None = None


@dataclass(frozen=True)
class Invoice:
    """A QuickBooks invoice with its lines, in QuickBooks' order."""

    txn_id: str
    edit_sequence: str
    customer: Ref
    txn_date: dt.date
    time_created: dt.datetime | None = None
    time_modified: dt.datetime | None = None
    txn_number: int | None = None
    ref_number: str | None = None
    is_pending: bool = False
    due_date: dt.date | None = None
    subtotal: Decimal | None = None
    applied_amount: Decimal | None = None
    balance_remaining: Decimal | None = None
    is_paid: bool = False
    is_to_be_printed: bool | None = None
    is_to_be_emailed: bool | None = None
    memo: str | None = None
    external_guid: str | None = None
    linked_txns: tuple[LinkedTxn, ...] = ()
    lines: tuple[InvoiceLine | InvoiceLineGroup, ...] = ()
    data_ext: tuple[DataExt, ...] = ()

    @property
    def has_payment_or_credit(self) -> bool:
        """Whether any payment or credit has been applied to the invoice."""
        if self.applied_amount is not None and self.applied_amount != 0:
            return True
        return any(
            link.txn_type in {"ReceivePayment", "CreditMemo", "JournalEntry", "Deposit"}
            for link in self.linked_txns
        )

    @property
    def is_settled(self) -> bool:
        """Paid, partly paid or credited: the reconciler must never touch it."""
        return self.is_paid or self.has_payment_or_credit

    @property
    def is_marked_to_send(self) -> bool:
        """Marked "Print later" or "Email later": not sent yet (the mark clears when it is)."""
        return bool(self.is_to_be_printed or self.is_to_be_emailed)

    def is_sent(self, rule: UnsentInvoices) -> bool:
        """Whether the invoice counts as sent under ``rule``: the reconciler must not touch it."""
        return rule is UnsentInvoices.MARKED and not self.is_marked_to_send


@dataclass(frozen=True)
class ListHeader:
    """A list object QuickBooks returned only in part: which one, and which version.

    QuickBooks returns part of a ``*Ret`` when the request names the fields it
    wants (``IncludeRetElement``). Where a ``CustomerRet`` or item lacks what a
    :class:`Customer` or :class:`Item` needs, the parser returns this header
    rather than an object with made-up values.
    """

    object_type: str  # the *Ret element without "Ret": "Customer", "ItemService", ...
    list_id: str
    edit_sequence: str | None = None
    time_created: dt.datetime | None = None
    time_modified: dt.datetime | None = None


@dataclass(frozen=True)
class TxnHeader:
    """A transaction QuickBooks returned only in part (see :class:`ListHeader`)."""

    object_type: str  # "Invoice"
    txn_id: str
    edit_sequence: str | None = None
    time_created: dt.datetime | None = None
    time_modified: dt.datetime | None = None


@dataclass(frozen=True)
class QBState:
    """What the reconciler knows of one QuickBooks company file."""

    host: HostInfo | None = None
    customers: tuple[Customer, ...] = ()
    items: tuple[Item, ...] = ()
    invoices: tuple[Invoice, ...] = ()


def canonical_guid(value: str | None) -> str:
    """A GUID as the model keeps it: lower case, no braces (what InvoiceCreate holds).

    The one normaliser of GUIDs (ExternalGUID, OwnerID, FileID): QuickBooks
    writes them in braces and upper case, ``{ABC-...}`` == ``abc-...``; None is "".
    """
    return (value or "").strip().strip("{}").lower()
