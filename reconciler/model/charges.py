"""Sherweb's receivable charges and subscriptions, as the engine reads them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


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
