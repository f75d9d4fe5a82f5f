"""What ``reconcile status`` prints: last run, snapshot age, queue, errors.

Pure functions of a :class:`~reconciler.status.view.StatusView`, so that the
text is tested without a terminal, and ``status --server`` prints what
``status`` prints.
"""

from __future__ import annotations

import datetime as dt

from reconciler.base.times import SIMULATED_NOTE
from reconciler.status.view import StatusView
from reconciler.store.records import RejectReason, RequestState

# The newest plans `reconcile status` lists.
STATUS_PLANS = 3

# How the status line says each reason for refusing a call.
REJECTED = {
    RejectReason.MALFORMED: "malformed",
    RejectReason.TOO_LARGE: "too large",
    RejectReason.SIGN_IN: "failed sign-ins",
    RejectReason.UNKNOWN_TICKET: "with an unknown or expired ticket",
    RejectReason.OUT_OF_TURN: "out of turn",
}


def resolved_note(errors: int, resolved: int) -> str:
    """What follows a run's error count when some of them are resolved since."""
    if not resolved:
        return ""
    return " (resolved since)" if resolved >= errors else f" ({resolved} resolved since)"


def status_lines(view: StatusView) -> list[str]:
    """The status as ``reconcile status`` prints it, one string a line; times relative to
    the view's clock, in the company's time zone, each with its zone. Only the
    :data:`STATUS_PLANS` newest plans are listed."""
    company = view.company

    def at(moment: dt.datetime) -> str:
        return view.clock.when(moment, company.timezone)

    out = [f"Company: {company.name} (Web Connector user {company.username})"]
    if view.clock.simulated:
        out.append(SIMULATED_NOTE)
    if company.last_contact is None:
        out.append("Web Connector: never signed in; add the QWC file and click Update Selected")
    else:
        out.append(f"Web Connector: last signed in {at(company.last_contact)}")
    out.append(f"Last run: {_last_run(view)}")
    snapshot = view.snapshot
    if snapshot is None:
        out.append("Snapshot: none yet (the next Web Connector run reads QuickBooks)")
    else:
        fingerprint = snapshot.fingerprint
        out.append(
            f"Snapshot: version {snapshot.version}, taken {at(snapshot.taken_at)}"
            + (f", fingerprint {fingerprint[:12]}" if fingerprint else "")
        )
    if view.lock is not None:
        out.append(f"Billing mode: {view.lock.mode}, locked since {at(view.lock.locked_at)}")
    if view.snapshot_outdated:
        out.append(
            "Note: requests went out after this snapshot; the next Web Connector run "
            "reads QuickBooks again (plan after it)."
        )
    out.append(f"Queue: {_queue(view)}")
    for plan in view.plans[:STATUS_PLANS]:
        reason = f": {plan.status_reason}" if plan.status_reason else ""
        out.append(
            f"Plan {plan.key[:12]} applied {at(plan.applied_at)}: {plan.status.value}{reason}"
        )
    if not view.errors:
        out.append("Errors: none")
    else:
        out.append(f"Errors ({len(view.errors)} unresolved):")
    for error in view.errors:
        repeat = f", {error.occurrences} times" if error.occurrences > 1 else ""
        out.append(f"  {error.object}: {error.code} {error.message}")
        out.append(f"    last seen {at(error.last_seen)}{repeat}")
        out.append(f"    what to do: {error.what_to_do}")
    if view.rejected:
        out.append(f"Rejected calls: {rejected_text(view)}")
    return out


def rejected_text(view: StatusView) -> str:
    """The calls the server refused, by reason: none reached a sync, so none is a sync
    error (of this company or another: the count is the server's)."""
    rejected = view.rejected
    total = sum(r.count for r in rejected)
    first = min(r.first_at for r in rejected)
    last = max(r.last_at for r in rejected)
    reasons = ", ".join(f"{r.count} {REJECTED[r.reason]}" for r in rejected)
    timezone = view.company.timezone
    span = (
        f"at {view.clock.when(last, timezone)}"
        if first == last
        else f"from {view.clock.when(first, timezone)} to {view.clock.when(last, timezone)}"
    )
    return (
        f"{total} ({reasons}) {span}; none reached a sync, so none is a sync error "
        "(the server log names the senders)"
    )


def _last_run(view: StatusView) -> str:
    run = view.last_run
    if run is None:
        return "never"
    outcome = f"applied {run.applied} change{'s' if run.applied != 1 else ''}"
    if run.errors:
        outcome += f", {run.errors} error{'s' if run.errors != 1 else ''}"
        outcome += resolved_note(run.errors, view.resolved_since())
    if run.closed_at is None:
        outcome += " (still open)"
    return f"{view.clock.when(run.ended, view.company.timezone)}, {outcome}"


def _queue(view: StatusView) -> str:
    counts = view.queue
    parts = [
        f"{counts.count(state)} {state.value}"
        for state in RequestState
        if counts.count(state) or state in {RequestState.QUEUED, RequestState.DONE}
    ]
    text = ", ".join(parts)
    if counts.count(RequestState.HELD) and counts.next_due is not None:
        text += f"; held requests are due {view.clock.when(counts.next_due, view.company.timezone)}"
    return text
