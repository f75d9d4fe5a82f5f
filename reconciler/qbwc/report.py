"""What ``reconcile status`` prints: last run, snapshot age, queue, errors.

Pure functions of the store's records and "now", so that the text is tested
without a terminal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from reconciler.qbwc.profile import Profile
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


def age(delta: dt.timedelta) -> str:
    """``delta`` as people say it: "just now", "5 minutes", "3 hours", "2 days"."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return "less than a minute"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    raise AssertionError("unreachable")


def when(moment: dt.datetime, now: dt.datetime, timezone: str = "UTC") -> str:
    """A moment in the company's time zone, with how long ago (or from now) it is."""
    local = moment.astimezone(ZoneInfo(timezone))
    stamp = f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
    if moment <= now:
        return f"{stamp} ({age(now - moment)} ago)"
    return f"{stamp} (in {age(moment - now)})"


# How the status line says each reason for refusing a call.
REJECTED = {
    RejectReason.MALFORMED: "malformed",
    RejectReason.TOO_LARGE: "too large",
    RejectReason.SIGN_IN: "failed sign-ins",
    RejectReason.UNKNOWN_TICKET: "with an unknown or expired ticket",
    RejectReason.OUT_OF_TURN: "out of turn",
}


def snapshot_age(snapshot: SnapshotRecord | None, now: dt.datetime) -> str:
    """How old the latest snapshot is, for `plan` and `status`."""
    if snapshot is None:
        return "no snapshot yet: let the Web Connector sync once"
    return f"snapshot {snapshot.version} taken {age(now - snapshot.taken_at)} ago"


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

    @classmethod
    def read(cls, store: Store, company: CompanyRecord) -> StatusReport:
        """The company's status as the store holds it now."""
        profile = Profile.from_dict(company.profile)
        return cls(
            company=company,
            timezone=profile.timezone if profile else "UTC",
            last_session=store.last_session(company.id),
            snapshot=store.latest_snapshot(company.id),
            lock=store.billing_lock(company.id),
            queue=store.queue_counts(company.id),
            plans=store.plans(company.id),
            errors=store.open_errors(company.id),
            rejected=store.rejected_calls(),
        )

    def lines(self, now: dt.datetime) -> list[str]:
        """The report as ``reconcile status`` prints it, one string a line; times relative to
        ``now``, in the company's time zone. Only the three newest plans are listed."""
        tz = self.timezone
        out = [f"Company: {self.company.name} (Web Connector user {self.company.username})"]
        if self.company.last_contact is None:
            out.append("Web Connector: never signed in; add the QWC file and click Update Selected")
        else:
            out.append(f"Web Connector: last signed in {when(self.company.last_contact, now, tz)}")
        out.append(f"Last run: {self._last_run(now)}")
        if self.snapshot is None:
            out.append("Snapshot: none yet (the next Web Connector run reads QuickBooks)")
        else:
            fingerprint = self.snapshot.fingerprint
            out.append(
                f"Snapshot: version {self.snapshot.version}, taken "
                f"{when(self.snapshot.taken_at, now, tz)}"
                + (f", fingerprint {fingerprint[:12]}" if fingerprint else "")
            )
        if self.lock is not None:
            out.append(
                f"Billing mode: {self.lock.mode} (locked since {self.lock.locked_at:%Y-%m-%d})"
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
                f"Plan {plan.key[:12]} applied {when(plan.applied_at, now, tz)}: "
                f"{plan.status.value}{reason}"
            )
        if not self.errors:
            out.append("Errors: none")
        else:
            out.append(f"Errors ({len(self.errors)} unresolved):")
        for error in self.errors:
            repeat = f", {error.occurrences} times" if error.occurrences > 1 else ""
            out.append(f"  {error.object}: {error.code} {error.message}")
            out.append(f"    last seen {when(error.last_seen, now, tz)}{repeat}")
            out.append(f"    what to do: {error.what_to_do}")
        if self.rejected:
            out.append(f"Rejected calls: {self.rejected_text(now)}")
        return out

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
            f"at {when(last, now, self.timezone)}"
            if first == last
            else f"from {when(first, now, self.timezone)} to {when(last, now, self.timezone)}"
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
        return f"{when(ended, now, self.timezone)}, {outcome}"

    def _queue(self, now: dt.datetime) -> str:
        counts = self.queue
        parts = [
            f"{counts.count(state)} {state.value}"
            for state in RequestState
            if counts.count(state) or state in {RequestState.QUEUED, RequestState.DONE}
        ]
        text = ", ".join(parts)
        if counts.count(RequestState.HELD) and counts.next_due is not None:
            text += f"; held requests are due {when(counts.next_due, now, self.timezone)}"
        return text
