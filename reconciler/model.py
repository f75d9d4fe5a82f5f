"""The domain model: configuration, charges, and QuickBooks Desktop objects.

Everything here is a frozen dataclass: the reconciler is a pure function of
these values. Money and quantities are :class:`~decimal.Decimal`, never floats.
Objects that came from a file carry a ``where`` (excluded from equality) so
that errors can name the file and line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from reconciler.errors import Location

# --------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------


class BillingMode(StrEnum):
    """Which service period an invoice bills."""

    ADVANCE = "advance"  # the coming service period
    ARREARS = "arrears"  # the period that just ended


class Proration(StrEnum):
    """Which mid-period licence changes are billed pro rata."""

    INCREASES = "increases"
    DECREASES = "decreases"


class InvoiceAction(StrEnum):
    """What the reconciler does with an organization's invoice."""

    CREATE = "create"  # a separate invoice holding only the Sherweb products
    UPDATE = "update"  # the customer's existing unsent invoice for the period


class UnsentInvoices(StrEnum):
    """Which invoices count as not yet sent to the customer (action ``update``).

    QuickBooks Desktop keeps no "sent" flag: an invoice is marked "Print
    later" or "Email later" (``IsToBePrinted``, ``IsToBeEmailed``) until it
    goes out, when Print Forms or Send Forms clears the mark.
    """

    MARKED = "marked"  # marked Print later or Email later: the marks clear when it is sent
    UNPAID = "unpaid"  # any invoice without a payment or credit (books that skip the marks)


# The qbXML fields of the two marks, in the schema's order.
SEND_MARK_FIELDS = ("IsToBePrinted", "IsToBeEmailed")


class SendMark(StrEnum):
    """The mark the reconciler gives the invoices it creates (``billing.mark_created``).

    Marked, a new invoice joins the user's send queue, and under
    :attr:`UnsentInvoices.MARKED` counts as unsent (so later corrections of
    its charges still reach it) until Send Forms or Print Forms clears the mark.
    """

    EMAIL = "email"  # Email later (IsToBeEmailed): Send Forms e-mails it
    PRINT = "print"  # Print later (IsToBePrinted): Print Forms prints it
    NONE = "none"  # neither mark is written: QuickBooks' own default applies

    @property
    def flags(self) -> dict[str, str]:
        """What an InvoiceAdd writes, in the schema's order: ``IsToBePrinted`` and
        ``IsToBeEmailed``, exactly one of them ``true``; nothing for :attr:`NONE`."""
        if self is SendMark.NONE:
            return {}
        printed, emailed = SEND_MARK_FIELDS
        return {
            printed: "true" if self is SendMark.PRINT else "false",
            emailed: "true" if self is SendMark.EMAIL else "false",
        }


LAST_DAY = "last"


@dataclass(frozen=True)
class Company:
    """The QuickBooks company file this repository manages."""

    name: str
    # Full path of the .qbw file; empty means "whichever company is open".
    file: str = ""


@dataclass(frozen=True)
class Safety:
    """Thresholds that make a plan ask for ``--force`` (as octoDNS does)."""

    max_change_ratio: Decimal = Decimal("0.30")
    min_existing: int = 10


@dataclass(frozen=True)
class SherwebSettings:
    """How to reach Sherweb's Service Provider API; secrets by variable name."""

    api_url: str = "https://api.sherweb.com/service-provider/v1"
    token_url: str = "https://api.sherweb.com/auth/oidc/connect/token"  # noqa: S105 (a URL)
    client_id_env: str = "SHERWEB_CLIENT_ID"
    client_secret_env: str = "SHERWEB_CLIENT_SECRET"  # noqa: S105 (a variable name)
    subscription_key_env: str = "SHERWEB_SUBSCRIPTION_KEY"


@dataclass(frozen=True)
class BillingOptions:
    """The billing and synchronisation settings (``billing.yaml``)."""

    company: Company
    mode: BillingMode
    proration: frozenset[Proration] = frozenset()
    invoice_day: int | str = 1  # 1..28 or LAST_DAY
    invoice_time: dt.time = dt.time(5, 0)
    timezone: str = "America/New_York"
    safety: Safety = field(default_factory=Safety)
    sherweb: SherwebSettings = field(default_factory=SherwebSettings)
    unsent_invoices: UnsentInvoices = UnsentInvoices.MARKED
    mark_created: SendMark = SendMark.EMAIL
    where: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Offer:
    """A Sherweb offer (SKU) mapped to a QuickBooks item."""

    sku: str
    item: str  # QuickBooks item full name, e.g. "Cloud:Microsoft 365 E3"
    sync: bool = True
    # Jinja template for the line description; None uses the default.
    description: str | None = None
    where: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Organization:
    """A Sherweb customer (organization) mapped to a QuickBooks customer."""

    id: str  # Sherweb customer id (a UUID)
    name: str  # Sherweb display name
    customer: str  # QuickBooks customer full name, e.g. "Contoso:Head office"
    action: InvoiceAction
    # Per-offer sync overrides: SKU -> sync. Absent SKUs follow the offer.
    offers: tuple[tuple[str, bool], ...] = ()
    # With action "update": create a new invoice when no open one exists.
    create_if_missing: bool = False
    where: Location | None = field(default=None, compare=False, repr=False)

    def syncs(self, offer: Offer) -> bool:
        """Whether this organization's charges for ``offer`` are synced."""
        for sku, sync in self.offers:
            if sku == offer.sku:
                return sync
        return offer.sync


@dataclass(frozen=True)
class Config:
    """The whole configuration of one repository."""

    billing: BillingOptions
    offers: tuple[Offer, ...]
    organizations: tuple[Organization, ...]

    def offer(self, sku: str) -> Offer | None:
        """The offer for ``sku``, if mapped."""
        return next((o for o in self.offers if o.sku == sku), None)

    def organization(self, org_id: str) -> Organization | None:
        """The organization with Sherweb id ``org_id``, if mapped."""
        wanted = org_id.lower()
        return next((o for o in self.organizations if o.id.lower() == wanted), None)


# --------------------------------------------------------------------------
# Charges (Sherweb Service Provider API)
# --------------------------------------------------------------------------


class ChargeType(StrEnum):
    """A charge's kind, as Sherweb names it (``Unknown``: older invoices whose kind it lost)."""

    SETUP = "Setup"
    RECURRING = "Recurring"
    USAGE = "Usage"
    UNKNOWN = "Unknown"


class BillingCycle(StrEnum):
    """How often a charge recurs, as Sherweb names it (``billingCycleType``)."""

    ONE_TIME = "OneTime"
    MONTHLY = "Monthly"
    YEARLY = "Yearly"


@dataclass(frozen=True)
class Charge:
    """One receivable charge of one customer, as Sherweb reports it."""

    product_name: str
    sku: str
    charge_name: str
    charge_type: ChargeType
    period_from: dt.date
    period_to: dt.date
    quantity: Decimal
    cost_price: Decimal
    cost_price_prorated: Decimal
    currency: str
    is_proratable: bool
    charge_id: str | None = None
    billing_cycle: BillingCycle | None = None


@dataclass(frozen=True)
class Subscription:
    """A customer's subscription; its commitment term tells annual from monthly."""

    id: str
    product_name: str
    sku: str
    quantity: int
    billing_cycle: str
    commitment_term: str | None = None  # Monthly, Annual, Biennial, Triennial
    term_end_date: dt.date | None = None


@dataclass(frozen=True)
class CustomerCharges:
    """The receivable charges of one Sherweb customer for one billing period."""

    customer_id: str
    display_name: str
    period_from: dt.date
    period_to: dt.date
    charges: tuple[Charge, ...]
    subscriptions: tuple[Subscription, ...] = ()


@dataclass(frozen=True)
class ChargesBundle:
    """Every customer's charges as fetched on one date."""

    date: dt.date
    customers: tuple[CustomerCharges, ...]


# --------------------------------------------------------------------------
# QuickBooks Desktop
# --------------------------------------------------------------------------


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
