"""What a run remembers between calls: JSON in its session row, loaded and saved at every call.

Each field belongs to the phase that writes it. The names and the values
(``Phase``'s included) are what session rows hold, so they stay as they are:
a session row means the same to every version of the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, TypedDict


class Phase:
    """The phases of a run, as :attr:`RunState.phase` records them."""

    START = "start"  # sign-in: the first sendRequestXML, with the Web Connector's host data
    HOST = "host"  # sign-in: that data was unusable; the run asks HostQuery itself
    REFRESH = "refresh"
    SETTLE = "verify"  # lost InvoiceAdds looked for among the invoices modified since
    WRITE = "apply"
    DONE = "done"
    FAILED = "failed"


# The refresh, step by step; each step's documents are kept under its name.
CUSTOMERS, ITEMS, INVOICES, CREATED = "customers", "items", "invoices", "created"
REFRESH_STEPS = (CUSTOMERS, ITEMS, INVOICES, CREATED)
HOST_DOCUMENT = "host"


class Pending(TypedDict, total=False):
    """The document awaiting its response: which phase takes it, and the requestIDs it holds."""

    kind: str  # "host", "refresh", "verify" (the settle phase's look-up) or "write"
    request_ids: list[str]
    queue_ids: list[int]  # writes: the queued requests, in the document's order
    txn_ids: list[str]  # a refresh of created invoices: the TxnIDs asked for


@dataclass
class RunState:
    """What a run remembers between calls (JSON in the session row)."""

    phase: str = Phase.START
    # The exchange: the document awaiting its response, the requestIDs given out,
    # and a count of saves (what a response read outside the transaction was read
    # against).
    pending: Pending | None = None
    query_seq: int = 0
    saves: int = 0
    # Sign-in and version.
    version: str | None = None
    # Refresh.
    after_changes: bool = False  # the refresh running is the one after the writes
    step: int = 0  # index into REFRESH_STEPS
    iterator_id: str | None = None  # also the settle phase's look-up
    iterator_remaining: int | None = None
    # ListIDs of the mapped customers QuickBooks has: whose invoices are read.
    customer_ids: list[str] = field(default_factory=list)
    invoice_dates: list[str] | None = None  # the invoice dates read (first, last; ISO)
    # TxnIDs of created invoices still to read by TxnID (None: not worked out yet),
    # and whether to ask one at a time (to find which of a batch is gone).
    created_pending: list[str] | None = None
    created_single: bool = False
    snapshot_version: int | None = None
    # Settle: the lost InvoiceAdds are looked for among invoices modified since (ISO date).
    lookup_from: str | None = None
    # Write.
    pause: bool = False  # answer the next sendRequestXML with NoOp (lock retry)
    changed: bool = False  # something was written: the refresh after the changes reads it
    items_changed: bool = False  # ... and it reads the items again
    # Report.
    done_steps: int = 0
    applied: int = 0
    errors: int = 0
    error: str | None = None  # what getLastError shows

    @classmethod
    def load(cls, data: dict[str, Any]) -> RunState:
        """The state a session row holds; a fresh one when it holds none."""
        return cls(**data) if data else cls()

    def dump(self) -> dict[str, Any]:
        """The state as a session row keeps it (JSON-ready)."""
        return {name: getattr(self, name) for name in _FIELD_NAMES}


# Saved at every call: the names are worked out once.
_FIELD_NAMES = tuple(f.name for f in fields(RunState))
