"""What a plan tells the user besides its changes: errors, warnings, notes.

Nothing the reconciler leaves out is left out silently: every charge, mapping
or invoice it cannot bill becomes a notice in the plan, with a stable ``code``
that scripts can match and a ``message`` a person reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    """How much a notice matters; errors make ``reconcile plan`` exit 1."""

    ERROR = "error"  # something that should be billed cannot be
    WARNING = "warning"  # something left out or that needs a change in QuickBooks
    INFO = "info"  # a rule of the configuration at work

    @property
    def rank(self) -> int:
        """The level's place in sort order: errors first (0), then warnings, then notes."""
        return _RANKS[self]


_RANKS = {Level.ERROR: 0, Level.WARNING: 1, Level.INFO: 2}


class Code(StrEnum):
    """Stable identifiers of every kind of notice."""

    UNMAPPED_SKU = "unmapped-sku"
    UNMAPPED_CUSTOMER = "unmapped-customer"
    OFFER_NOT_SYNCED = "offer-not-synced"
    PRORATION_OFF = "proration-off"
    CHARGE_OUT_OF_PERIOD = "charge-out-of-period"
    NO_CHARGES = "no-charges"
    COST_DISAGREES = "cost-disagrees"
    CUSTOMER_MISSING = "customer-missing"
    CUSTOMER_INACTIVE = "customer-inactive"
    ITEM_MISSING = "item-missing"
    ITEM_INACTIVE = "item-inactive"
    ITEM_HAS_NO_COST = "item-has-no-cost"
    INVOICE_SETTLED = "invoice-settled"
    INVOICE_SENT = "invoice-sent"
    INVOICE_CUSTOMER_CHANGED = "invoice-customer-changed"
    INVOICE_WOULD_BE_EMPTY = "invoice-would-be-empty"
    NO_OPEN_INVOICE = "no-open-invoice"
    OTHER_OPEN_INVOICES = "other-open-invoices"
    GROUP_HOLDS_SYNCED_ITEM = "group-holds-synced-item"
    INVOICES_NOT_READ = "invoices-not-read"
    CREATED_INVOICE_DELETED = "created-invoice-deleted"
    NEGATIVE_QUANTITY = "negative-quantity"


@dataclass(frozen=True)
class Notice:
    """One error, warning or note, about the object named in ``context``."""

    level: Level
    code: Code
    message: str
    # Which objects it is about, as sorted (key, value) pairs: organization,
    # sku, customer, item, invoice... for scripts that filter notices.
    context: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, level: Level, code: Code, message: str, **context: str | None) -> Notice:
        """A notice with its context given as keywords (``None`` values dropped)."""
        pairs = tuple(sorted((k, v) for k, v in context.items() if v is not None))
        return cls(level, code, message, pairs)

    def sort_key(self) -> tuple[int, str, str]:
        """The order of notices: errors first, then by code, then by message."""
        return (self.level.rank, self.code.value, self.message)
