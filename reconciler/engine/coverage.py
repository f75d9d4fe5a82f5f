"""What a server snapshot read of QuickBooks' invoices: its coverage.

The server reads the invoices of the mapped customers dated in the billing
windows around the day it syncs, and every invoice reconciler created, by its
TxnID, wherever it moved and whatever its date. An invoice that is not in the
snapshot is absent only where the snapshot looked: a plan for a billing window
outside the dates read, or for a customer whose invoices were not read, cannot
tell "absent" from "not read", and must not add a second invoice (design
invariant 2). Plans made from qbXML files (``--qb-state``) have no coverage:
the user vouches for what the files hold.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from reconciler.engine.period import BillingWindow


@dataclass(frozen=True)
class Coverage:
    """The invoices a snapshot's refresh read."""

    first: dt.date  # invoice dates read, both ends included
    last: dt.date
    customer_ids: frozenset[str]  # ListIDs of the customers whose invoices were read
    # Canonical ExternalGUIDs of invoices reconciler created that are deleted in QuickBooks.
    deleted_guids: frozenset[str] = frozenset()
    # The mapped customers (full names, case-folded) the refresh looked for: the
    # server reads again as soon as the mapping differs.
    mapped_customers: frozenset[str] = frozenset()

    def reads_window(self, window: BillingWindow) -> bool:
        """Whether every invoice date of ``window`` was read."""
        return self.first <= window.start and window.end - dt.timedelta(days=1) <= self.last

    def reads_customer(self, list_id: str) -> bool:
        """Whether the invoices of the customer (by ListID) were read."""
        return list_id in self.customer_ids

    def dates(self) -> str:
        """The invoice dates read, as text (``2024-05-01 to 2024-06-30``)."""
        return f"{self.first.isoformat()} to {self.last.isoformat()}"

    def to_dict(self) -> dict[str, Any]:
        """The coverage as a snapshot records it (JSON-ready); :meth:`from_dict` reads it back."""
        return {
            "invoice_dates": [self.first.isoformat(), self.last.isoformat()],
            "customer_ids": sorted(self.customer_ids),
            "deleted_guids": sorted(self.deleted_guids),
            "mapped_customers": sorted(self.mapped_customers),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Coverage | None:
        """The coverage a snapshot recorded; None for a snapshot that recorded none."""
        if not data:
            return None
        first, last = data["invoice_dates"]
        return cls(
            first=dt.date.fromisoformat(first),
            last=dt.date.fromisoformat(last),
            customer_ids=frozenset(data.get("customer_ids", ())),
            deleted_guids=frozenset(data.get("deleted_guids", ())),
            mapped_customers=frozenset(data.get("mapped_customers", ())),
        )
