"""The server's latest snapshot as the QuickBooks state a plan is computed from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reconciler.base.errors import UserError
from reconciler.engine.coverage import Coverage
from reconciler.engine.fingerprint import fingerprint_state
from reconciler.model.charges import ChargesBundle
from reconciler.model.config import BillingMode, Config
from reconciler.model.quickbooks import QBState
from reconciler.plan.document import Document
from reconciler.status.report import company_timezone, snapshot_age
from reconciler.store import Store
from reconciler.store.records import CompanyRecord, SnapshotRecord


@dataclass(frozen=True)
class StoredSnapshot:
    """A state source (``load() -> QBState``) reading the company's latest snapshot."""

    store: Store
    company: CompanyRecord

    def record(self) -> SnapshotRecord:
        """The latest snapshot, or a clear error when the server never read QuickBooks."""
        snapshot = self.store.snapshots.latest(self.company.id)
        if snapshot is None:
            raise UserError(
                f"no QuickBooks snapshot of {self.company.name} in {self.store.location} yet",
                hint="Let the Web Connector sync once (Update Selected), or pass --qb-state PATH.",
            )
        return snapshot

    def load(self) -> QBState:
        """The state the latest snapshot holds; raises :class:`UserError` when there is none
        or it cannot be read."""
        return snapshot_state(self.store, self.record())

    def coverage(self) -> Coverage | None:
        """What the snapshot's refresh read of the invoices (None: not recorded)."""
        return Coverage.from_dict(self.record().coverage)

    def describe(self, now: dt.datetime) -> str:
        """Which snapshot, when it was taken (in the company's time zone, on the state's
        clock) and how long before ``now`` (for the plan's header)."""
        simulated = self.store.installation.clock_shift() is not None
        age = snapshot_age(self.record(), now, company_timezone(self.company), simulated=simulated)
        return f"QuickBooks state: {age}"


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


def plan_against(
    source: StoredSnapshot, config: Config, charges: ChargesBundle, *, force: bool = False
) -> Document:
    """The plan document for ``charges`` against the snapshot, in the locked billing mode."""
    lock = source.store.billing_locks.get(source.company.id)
    return plan_for(
        config,
        charges,
        source.load(),
        locked_mode=BillingMode(lock.mode) if lock else None,
        locked_since=lock.locked_at if lock else None,
        coverage=source.coverage(),
        force=force,
    )


def plan_for(
    config: Config,
    charges: ChargesBundle,
    state: QBState,
    *,
    locked_mode: BillingMode | None,
    locked_since: dt.datetime | None,
    coverage: Coverage | None = None,
    force: bool = False,
) -> Document:
    """The plan document for ``charges`` against ``state`` (and what the snapshot read,
    ``coverage``); refused (:class:`~reconciler.plan.safety.UnsafePlan`) over the safety
    threshold without ``force``."""
    from reconciler.plan.build import build_plan
    from reconciler.plan.requests import render_plan_document
    from reconciler.plan.safety import check_safety

    plan = build_plan(
        config,
        charges,
        state,
        locked_mode=locked_mode,
        locked_since=locked_since,
        coverage=coverage,
    )
    document = render_plan_document(plan, force=force)
    check_safety(plan, force=force)
    return document
