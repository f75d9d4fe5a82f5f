"""The latest snapshot in the state directory as the QuickBooks state a plan is computed from."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from reconciler.base.clock import Clock
from reconciler.base.errors import UserError
from reconciler.base.times import when
from reconciler.engine.coverage import Coverage
from reconciler.engine.fingerprint import fingerprint_state
from reconciler.model.config import BillingMode
from reconciler.model.quickbooks import QBState
from reconciler.qbstate.source import LockedMode
from reconciler.status.view import company_timezone
from reconciler.store import Store
from reconciler.store.records import CompanyRecord, SnapshotRecord


@dataclass(frozen=True)
class StoredSnapshot:
    """A :class:`~reconciler.qbstate.source.StateSource`: one snapshot of the company in the
    store, read on the state's ``clock`` (which says how old it is)."""

    store: Store
    company: CompanyRecord
    snapshot: SnapshotRecord
    clock: Clock

    @classmethod
    def latest(cls, store: Store, company: CompanyRecord, clock: Clock) -> StoredSnapshot:
        """The company's latest snapshot, or a clear error when the server never read QuickBooks.

        Taken once: a sync writing a newer one meanwhile does not mix two snapshots.
        """
        snapshot = store.snapshots.latest(company.id)
        if snapshot is None:
            raise UserError(
                f"no QuickBooks snapshot of {company.name} in {store.location} yet",
                hint="Let the Web Connector sync once (Update Selected), or pass --qb-state PATH.",
            )
        return cls(store, company, snapshot, clock)

    @cached_property
    def _state(self) -> QBState:
        return snapshot_state(self.store, self.snapshot)

    def state(self) -> QBState:
        """The state the snapshot holds (parsed once); raises :class:`UserError` when it
        cannot be read."""
        return self._state

    def coverage(self) -> Coverage | None:
        """What the snapshot's refresh read of the invoices (None: not recorded)."""
        return Coverage.from_dict(self.snapshot.coverage)

    def lock(self) -> LockedMode | None:
        """The company's billing-mode lock, as the store holds it."""
        lock = self.store.billing_locks.get(self.company.id)
        return None if lock is None else LockedMode(BillingMode(lock.mode), lock.locked_at)

    def outdated(self) -> bool:
        """Whether requests went out after the snapshot (as the company record said)."""
        return self.company.snapshot_outdated

    def describe(self) -> str:
        """Which snapshot, when it was taken (in the company's time zone, on the state's
        clock) and how long ago."""
        simulated = self.store.installation.clock_shift() is not None
        taken = when(
            self.snapshot.taken_at,
            self.clock.now(),
            company_timezone(self.company),
            simulated=simulated,
        )
        return f"QuickBooks state: snapshot {self.snapshot.version} taken {taken}"

    def fingerprint(self) -> str:
        """The snapshot's fingerprint (computed once, then kept in the store)."""
        return snapshot_fingerprint(self.store, self.snapshot)

    def documents(self) -> list[str]:
        """The qbXML response documents the snapshot keeps, in the order they came."""
        return self.store.snapshots.documents(self.snapshot.id)


def snapshot_state(store: Store, snapshot: SnapshotRecord) -> QBState:
    """The QuickBooks state a snapshot's documents hold."""
    from reconciler.qbxml.parse import QbxmlParseError, parse_state

    documents = store.snapshots.documents(snapshot.id)
    try:
        return parse_state(document.encode("utf-8") for document in documents)
    except QbxmlParseError as exc:
        raise UserError(f"snapshot {snapshot.version} cannot be read: {exc}") from None


def snapshot_fingerprint(store: Store, snapshot: SnapshotRecord) -> str:
    """The snapshot's fingerprint (``fingerprint_state`` of its state), computed once."""
    if snapshot.fingerprint is not None:
        return snapshot.fingerprint
    fingerprint = fingerprint_state(snapshot_state(store, snapshot))
    store.snapshots.set_fingerprint(snapshot.id, fingerprint)
    return fingerprint
