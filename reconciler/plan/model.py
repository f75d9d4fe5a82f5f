"""Plan objects: the ordered changes, notices, safety check and fingerprints."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from reconciler.engine.changes import (
    AddLine,
    Change,
    InvoiceCreate,
    InvoiceUpdate,
    ItemCostUpdate,
    ModifyLine,
)
from reconciler.engine.notices import Level, Notice
from reconciler.engine.period import InvoiceSchedule
from reconciler.model.config import BillingOptions, Organization
from reconciler.model.quickbooks import HostInfo

# Bumped whenever the plan file format changes incompatibly (3: created
# invoices carry their Print/Email later mark).
FORMAT_VERSION = 3


@dataclass(frozen=True)
class Fingerprints:
    """sha256 of each input; ``state`` must match the snapshot ``apply`` sees."""

    config: str
    charges: str
    state: str


@dataclass(frozen=True)
class SafetyCheck:
    """Of the existing invoices the plan looks at, how many it changes.

    Only changes to lines already on an invoice count (adding lines to the
    period's invoice is the normal monthly work), as octoDNS counts updates
    and deletes but not creates.
    """

    existing_invoices: int
    changed_invoices: int
    max_change_ratio: Decimal
    min_existing: int

    @property
    def ratio(self) -> Decimal:
        """Changed over existing invoices, to four decimal places (0 when there are none)."""
        if not self.existing_invoices:
            return Decimal(0)
        return (Decimal(self.changed_invoices) / Decimal(self.existing_invoices)).quantize(
            Decimal("0.0001")
        )

    @property
    def exceeded(self) -> bool:
        """Whether the plan changes too many existing invoices: more than ``max_change_ratio`` of
        them, once there are at least ``min_existing``."""
        return (
            self.existing_invoices >= self.min_existing
            and Decimal(self.changed_invoices) > self.max_change_ratio * self.existing_invoices
        )


@dataclass(frozen=True)
class PlannedChange:
    """One change of a plan: what it does, who it bills, when it may be sent."""

    key: str  # stable: item:<ListID>, invoice-add:<ExternalGUID>, invoice-mod:<TxnID>
    change: Change
    request_id: str  # the qbXML requestID, deterministic from the plan
    organizations: tuple[Organization, ...] = ()
    # Invoices only: the period billed and the moment (05:00 New York on the
    # invoice day) before which the server holds the request.
    schedule: InvoiceSchedule | None = None


@dataclass(frozen=True)
class Summary:
    """Counts a reviewer reads first."""

    item_cost_updates: int
    invoice_creates: int
    invoice_updates: int
    lines_added: int
    lines_modified: int
    lines_removed: int
    errors: int
    warnings: int
    infos: int

    @property
    def changes(self) -> int:
        """How many changes: item cost updates, invoices created and invoices updated."""
        return self.item_cost_updates + self.invoice_creates + self.invoice_updates


@dataclass(frozen=True)
class Plan:
    """What ``apply`` would write to QuickBooks, and why."""

    fingerprints: Fingerprints
    billing: BillingOptions
    changes: tuple[PlannedChange, ...]
    notices: tuple[Notice, ...]
    safety: SafetyCheck
    host: HostInfo | None = None  # from the state; decides the qbXML version
    format_version: int = FORMAT_VERSION

    @property
    def plan_id(self) -> str:
        """sha256 of the inputs' fingerprints: the same inputs, the same plan."""
        return plan_id(self.fingerprints)

    @property
    def has_changes(self) -> bool:
        """Whether the plan writes anything to QuickBooks."""
        return bool(self.changes)

    @property
    def errors(self) -> tuple[Notice, ...]:
        """The plan's error notices."""
        return tuple(n for n in self.notices if n.level is Level.ERROR)

    @property
    def summary(self) -> Summary:
        """The plan's counts, from its changes and notices."""
        kinds = [type(c.change) for c in self.changes]
        updates = [c.change for c in self.changes if isinstance(c.change, InvoiceUpdate)]
        creates = [c.change for c in self.changes if isinstance(c.change, InvoiceCreate)]
        levels = [n.level for n in self.notices]
        return Summary(
            item_cost_updates=kinds.count(ItemCostUpdate),
            invoice_creates=len(creates),
            invoice_updates=len(updates),
            lines_added=sum(len(c.lines) for c in creates)
            + sum(isinstance(op, AddLine) for u in updates for op in u.lines),
            lines_modified=sum(isinstance(op, ModifyLine) for u in updates for op in u.lines),
            lines_removed=sum(len(u.removed) for u in updates),
            errors=levels.count(Level.ERROR),
            warnings=levels.count(Level.WARNING),
            infos=levels.count(Level.INFO),
        )


def plan_id(fingerprints: Fingerprints) -> str:
    """The identity of a plan computed from these inputs."""
    text = f"{FORMAT_VERSION}:{fingerprints.config}:{fingerprints.charges}:{fingerprints.state}"
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def request_id(plan_identity: str, position: int) -> str:
    """The qbXML requestID of the change at ``position`` (1-based) of a plan."""
    return f"{plan_identity[:12]}-{position}"
