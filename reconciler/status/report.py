"""What ``reconcile status`` prints: last run, snapshot age, queue, errors.

Pure functions of the store's records and "now", so that the text is tested
without a terminal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reconciler.base.times import SIMULATED_NOTE, when
from reconciler.plan.profile import Profile
from reconciler.store import Store
from reconciler.store.records import (
    BillingLock,
    CompanyRecord,
    PlanRecord,
    QueueCounts,
    RejectedCalls,
    RejectReason,
    RequestState,
    SessionRecord,
    SnapshotRecord,
    StatusError,
)


def company_timezone(company: CompanyRecord) -> str:
    """The time zone the company's times are shown in: its configuration's (UTC before
    `reconcile qwc` recorded one)."""
    profile = Profile.from_dict(company.profile)
    return profile.timezone if profile else "UTC"


# How the status line says each reason for refusing a call.
REJECTED = {
    RejectReason.MALFORMED: "malformed",
    RejectReason.TOO_LARGE: "too large",
    RejectReason.SIGN_IN: "failed sign-ins",
    RejectReason.UNKNOWN_TICKET: "with an unknown or expired ticket",
    RejectReason.OUT_OF_TURN: "out of turn",
}


def snapshot_age(
    snapshot: SnapshotRecord | None,
    now: dt.datetime,
    timezone: str = "UTC",
    *,
    simulated: bool = False,
) -> str:
    """Which snapshot, when it was taken and how long ago, for `plan` and `status`."""
    if snapshot is None:
        return "no snapshot yet: let the Web Connector sync once"
    taken = when(snapshot.taken_at, now, timezone, simulated=simulated)
    return f"snapshot {snapshot.version} taken {taken}"


def resolved_note(errors: int, resolved: int) -> str:
    """What follows a run's error count when some of them are resolved since."""
    if not resolved:
        return ""
    return " (resolved since)" if resolved >= errors else f" ({resolved} resolved since)"


@dataclass(frozen=True)
class StatusReport:
    """Everything `reconcile status` shows for one company."""

    company: CompanyRecord
    timezone: str
    last_session: SessionRecord | None
    snapshot: SnapshotRecord | None
    lock: BillingLock | None
    queue: QueueCounts
    plans: list[PlanRecord]
    errors: list[StatusError]
    # Server-wide: calls refused before any company's run could see them.
    rejected: list[RejectedCalls]
    simulated: bool = False  # the state is on the demo's simulated clock

    @classmethod
    def read(cls, store: Store, company: CompanyRecord) -> StatusReport:
        """The company's status as the store holds it now."""
        return cls(
            company=company,
            timezone=company_timezone(company),
            last_session=store.sessions.last(company.id),
            snapshot=store.snapshots.latest(company.id),
            lock=store.billing_locks.get(company.id),
            queue=store.queue.counts(company.id),
            plans=store.plans.for_company(company.id),
            errors=store.errors.unresolved(company.id),
            rejected=store.rejected_calls.by_reason(),
            simulated=store.installation.clock_shift() is not None,
        )

    def lines(self, now: dt.datetime) -> list[str]:
        """The report as ``reconcile status`` prints it, one string a line; times relative to
        ``now`` (on the state's clock), in the company's time zone, each with its zone. Only
        the three newest plans are listed."""
        at = self._when
        out = [f"Company: {self.company.name} (Web Connector user {self.company.username})"]
        if self.simulated:
            out.append(SIMULATED_NOTE)
        if self.company.last_contact is None:
            out.append("Web Connector: never signed in; add the QWC file and click Update Selected")
        else:
            out.append(f"Web Connector: last signed in {at(self.company.last_contact, now)}")
        out.append(f"Last run: {self._last_run(now)}")
        if self.snapshot is None:
            out.append("Snapshot: none yet (the next Web Connector run reads QuickBooks)")
        else:
            fingerprint = self.snapshot.fingerprint
            out.append(
                f"Snapshot: version {self.snapshot.version}, taken "
                f"{at(self.snapshot.taken_at, now)}"
                + (f", fingerprint {fingerprint[:12]}" if fingerprint else "")
            )
        if self.lock is not None:
            out.append(
                f"Billing mode: {self.lock.mode}, locked since {at(self.lock.locked_at, now)}"
            )
        if self.company.snapshot_outdated:
            out.append(
                "Note: requests went out after this snapshot; the next Web Connector run "
                "reads QuickBooks again (plan after it)."
            )
        out.append(f"Queue: {self._queue(now)}")
        for plan in self.plans[:3]:
            reason = f": {plan.status_reason}" if plan.status_reason else ""
            out.append(
                f"Plan {plan.key[:12]} applied {at(plan.applied_at, now)}: "
                f"{plan.status.value}{reason}"
            )
        if not self.errors:
            out.append("Errors: none")
        else:
            out.append(f"Errors ({len(self.errors)} unresolved):")
        for error in self.errors:
            repeat = f", {error.occurrences} times" if error.occurrences > 1 else ""
            out.append(f"  {error.object}: {error.code} {error.message}")
            out.append(f"    last seen {at(error.last_seen, now)}{repeat}")
            out.append(f"    what to do: {error.what_to_do}")
        if self.rejected:
            out.append(f"Rejected calls: {self.rejected_text(now)}")
        return out

    def _when(self, moment: dt.datetime, now: dt.datetime) -> str:
        return when(moment, now, self.timezone, simulated=self.simulated)

    def resolved_since(self) -> int:
        """How many of the last run's errors are resolved since (by a new plan, say): the
        run's errors still open were last seen in it, since it is the last."""
        session = self.last_session
        if session is None or not session.errors:
            return 0
        still_open = sum(
            e.occurrences if e.first_seen >= session.created_at else 1
            for e in self.errors
            if e.last_seen >= session.created_at
        )
        return max(0, session.errors - still_open)

    def rejected_text(self, now: dt.datetime) -> str:
        """The calls the server refused, by reason: none reached a sync, so none is a sync
        error (of this company or another: the count is the server's)."""
        total = sum(r.count for r in self.rejected)
        first = min(r.first_at for r in self.rejected)
        last = max(r.last_at for r in self.rejected)
        reasons = ", ".join(f"{r.count} {REJECTED[r.reason]}" for r in self.rejected)
        span = (
            f"at {self._when(last, now)}"
            if first == last
            else f"from {self._when(first, now)} to {self._when(last, now)}"
        )
        return (
            f"{total} ({reasons}) {span}; none reached a sync, so none is a sync error "
            "(the server log names the senders)"
        )

    def _last_run(self, now: dt.datetime) -> str:
        session = self.last_session
        if session is None:
            return "never"
        ended = session.closed_at or session.last_seen_at
        outcome = f"applied {session.applied} change{'s' if session.applied != 1 else ''}"
        if session.errors:
            outcome += f", {session.errors} error{'s' if session.errors != 1 else ''}"
            outcome += resolved_note(session.errors, self.resolved_since())
        if session.closed_at is None:
            outcome += " (still open)"
        return f"{self._when(ended, now)}, {outcome}"

    def _queue(self, now: dt.datetime) -> str:
        counts = self.queue
        parts = [
            f"{counts.count(state)} {state.value}"
            for state in RequestState
            if counts.count(state) or state in {RequestState.QUEUED, RequestState.DONE}
        ]
        text = ", ".join(parts)
        if counts.count(RequestState.HELD) and counts.next_due is not None:
            text += f"; held requests are due {self._when(counts.next_due, now)}"
        return text
