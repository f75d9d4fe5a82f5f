"""The configuration as the engine reads it: billing options, offers, organizations.

Frozen dataclasses; objects read from a file carry a ``where`` (excluded from
equality) so that errors can name the file and line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from reconciler.base.errors import Location


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
class CompanyFile:
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

    company: CompanyFile
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
