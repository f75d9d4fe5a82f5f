"""What the status shows of one company, as plain values.

Built here from the store (:func:`read_status`), or from the API's status
document on another machine (``reconciler.api.views.status_from_document``);
rendered as ``reconcile status`` text (:mod:`reconciler.status.report`), as
the status page (:mod:`reconciler.status.page`) and as the API's status JSON
(``reconciler.api.views.status_document``). It holds what is shown, and none
of the store's ids.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from reconciler.base.times import when
from reconciler.plan.profile import Profile
from reconciler.store import Store
from reconciler.store.records import (
    BillingLock,
    CompanyRecord,
    PlanHistoryEntry,
    PlanStatus,
    QueueCounts,
    RejectedCalls,
    RequestState,
    SessionRecord,
    SnapshotRecord,
    StatusError,
)

View = TypeVar("View")


def _shown(view: type[View], record: object, **given: Any) -> View:
    """The ``view`` of a store ``record``: each of its fields not ``given`` is the record's
    field of the same name."""
    names = (f.name for f in fields(view))  # type: ignore[arg-type]
    return view(**{name: given[name] if name in given else getattr(record, name) for name in names})


def company_timezone(company: CompanyRecord) -> str:
    """The time zone the company's times are shown in: its configuration's (UTC before
    `reconcile qwc` recorded one)."""
    profile = Profile.from_dict(company.profile)
    return profile.timezone if profile else "UTC"


@dataclass(frozen=True)
class StatusClock:
    """The moment a status is of, and whether it is the demo's simulated clock."""

    now: dt.datetime
    simulated: bool = False

    def when(self, moment: dt.datetime, timezone: str) -> str:
        """``moment`` in ``timezone`` and how long before (or after) now."""
        return when(moment, self.now, timezone, simulated=self.simulated)


@dataclass(frozen=True)
class CompanyView:
    """The company: who the Web Connector signs in as, where its times are shown."""

    name: str
    username: str
    timezone: str
    last_contact: dt.datetime | None  # the Web Connector's last sign-in

    @classmethod
    def of(cls, company: CompanyRecord) -> CompanyView:
        """What is shown of a company record."""
        return _shown(cls, company, timezone=company_timezone(company))


@dataclass(frozen=True)
class RunView:
    """The last Web Connector run: when, and what QuickBooks applied and refused in it."""

    started_at: dt.datetime
    last_seen_at: dt.datetime
    closed_at: dt.datetime | None  # None: still open
    applied: int
    errors: int
    last_error: str | None

    @classmethod
    def of(cls, session: SessionRecord) -> RunView:
        """What is shown of a session record."""
        return _shown(cls, session, started_at=session.created_at)

    @property
    def ended(self) -> dt.datetime:
        """When it ended, or was last heard from while open."""
        return self.closed_at or self.last_seen_at


@dataclass(frozen=True)
class SnapshotView:
    """The latest snapshot (not its documents)."""

    version: int
    taken_at: dt.datetime
    fingerprint: str | None  # None until a plan or the API needed it
    qbxml_version: str
    document_count: int

    @classmethod
    def of(cls, snapshot: SnapshotRecord) -> SnapshotView:
        """What is shown of a snapshot record."""
        return _shown(cls, snapshot)


@dataclass(frozen=True)
class LockView:
    """The billing mode the first apply locked, and since when."""

    mode: str
    locked_at: dt.datetime

    @classmethod
    def of(cls, lock: BillingLock) -> LockView:
        """What is shown of the store's lock."""
        return _shown(cls, lock)


@dataclass(frozen=True)
class PlanView:
    """An applied plan: who applied it from which commit, how far its requests got."""

    id: int  # the server's number for it, as the API's plan history says
    key: str
    applied_at: dt.datetime
    applied_by: str | None
    commit: str | None
    requested_by: str | None
    billing_mode: str
    status: PlanStatus
    status_reason: str | None
    requests: dict[RequestState, int]  # by state; a state with none is left out
    done: int
    total: int  # the requests still meant to go out, or gone out (stale ones never will)

    @classmethod
    def of(cls, entry: PlanHistoryEntry) -> PlanView:
        """What is shown of a plan of the store's history."""
        plan, applied = entry.plan, entry.applied
        return _shown(
            cls,
            plan,
            applied_by=applied.actor if applied is not None else None,
            commit=applied.commit if applied is not None else None,
            requested_by=applied.detail.get("requested_by") if applied is not None else None,
            requests={state: n for state, n in entry.requests.items() if n},
            done=entry.done,
            total=entry.total,
        )


@dataclass(frozen=True)
class ErrorView:
    """An unresolved sync error and what to do about it."""

    object: str
    code: str
    message: str
    what_to_do: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    occurrences: int

    @classmethod
    def of(cls, error: StatusError) -> ErrorView:
        """What is shown of a status error record."""
        return _shown(cls, error)


@dataclass(frozen=True)
class StatusView:
    """Everything the status shows of one company."""

    company: CompanyView
    last_run: RunView | None
    snapshot: SnapshotView | None
    # Requests went out after the latest snapshot: plans made from it are refused.
    snapshot_outdated: bool
    lock: LockView | None
    queue: QueueCounts
    plans: list[PlanView]  # newest first
    errors: list[ErrorView]
    # Server-wide: calls refused before any company's run could see them.
    rejected: list[RejectedCalls]
    clock: StatusClock

    def resolved_since(self) -> int:
        """How many of the last run's errors are resolved since (by a new plan, say): the
        run's errors still open were last seen in it, since it is the last."""
        run = self.last_run
        if run is None or not run.errors:
            return 0
        still_open = sum(
            e.occurrences if e.first_seen >= run.started_at else 1
            for e in self.errors
            if e.last_seen >= run.started_at
        )
        return max(0, run.errors - still_open)


def read_status(
    store: Store, company: CompanyRecord, now: dt.datetime, *, plans: int
) -> StatusView:
    """The company's status as the store holds it at ``now`` (on the state's clock), with
    its ``plans`` newest plans."""
    session = store.sessions.last(company.id)
    snapshot = store.snapshots.latest(company.id)
    lock = store.billing_locks.get(company.id)
    return StatusView(
        company=CompanyView.of(company),
        last_run=None if session is None else RunView.of(session),
        snapshot=None if snapshot is None else SnapshotView.of(snapshot),
        snapshot_outdated=company.snapshot_outdated,
        lock=None if lock is None else LockView.of(lock),
        queue=store.queue.counts(company.id),
        plans=[PlanView.of(entry) for entry in store.plans.history(company.id, plans)],
        errors=[ErrorView.of(error) for error in store.errors.unresolved(company.id)],
        rejected=store.rejected_calls.by_reason(),
        clock=StatusClock(now, simulated=store.installation.clock_shift() is not None),
    )
