"""One Web Connector call of a run: what every phase works with while it lasts.

A call runs inside the store transaction the service opened for it: what a
phase changes through :class:`RunCall` (the store, the run's state) is
committed, the state saved, before the Web Connector gets its answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from reconciler.plan.profile import Profile
from reconciler.qbwc.run.failure import RunFailed
from reconciler.qbwc.run.state import RunState
from reconciler.store import Store
from reconciler.store.records import NewStatusError, SessionRecord


@dataclass(frozen=True)
class RunLimits:
    """Bounds of a run."""

    lock_attempts: int = 3  # sends of a request refused by a lock (3170-3180)
    # Requests per qbXML document (stopOnError: QuickBooks stops at the first
    # error). Fewer round trips; every request keeps its requestID and response.
    batch_size: int = 10
    refresh_every: dt.timedelta = dt.timedelta(hours=24)  # a snapshot at least daily
    invoice_page: int = 100  # invoices per iterator page
    list_page: int = 500  # customers or items per iterator page
    created_batch: int = 50  # created invoices read by TxnID per query


class RunCall:
    """The run during one call: the store, the run's bounds, the session, its state, the time."""

    def __init__(
        self,
        store: Store,
        limits: RunLimits,
        session: SessionRecord,
        state: RunState,
        now: dt.datetime,
    ) -> None:
        self.store = store
        self.limits = limits
        self.session = session
        self.company_id = session.company_id  # the company whose file the session reads
        self.state = state
        self.now = now

    @cached_property
    def profile(self) -> Profile:
        """The configuration as last applied (a run never changes it, so it is read once a
        call); RunFailed when none was."""
        profile = Profile.from_dict(self.store.companies.get(self.company_id).profile)
        if profile is None:
            raise RunFailed("There is no configuration for this company yet: run `reconcile qwc`.")
        return profile

    def record_error(self, error: NewStatusError) -> None:
        """Count an error of this run and list it: what the run says and the status list
        agree."""
        self.store.errors.record(self.company_id, error, self.now)
        self.state.errors += 1

    def save(self) -> None:
        """Write the state to the session row (with the counts the status view shows)."""
        self.state.saves += 1
        self.store.sessions.update(
            self.session.id,
            state=self.state.dump(),
            applied=self.state.applied,
            errors=self.state.errors,
        )


def mapped_customers(profile: Profile) -> frozenset[str]:
    """The mapped customers' full names, as QuickBooks compares them (case-folded)."""
    return frozenset(name.casefold() for name in profile.customers)
