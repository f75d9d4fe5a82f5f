"""The API's JSON documents (pure: "now" is an input).

The status document renders a :class:`~reconciler.status.view.StatusView`, and
:func:`status_from_document` reads one back into the view, so that
``status --server`` prints what ``status`` prints.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from reconciler import __version__
from reconciler.qbstate.snapshot import StoredSnapshot
from reconciler.status.view import (
    CompanyView,
    ErrorView,
    LockView,
    PlanView,
    RunView,
    SnapshotView,
    StatusClock,
    StatusView,
)
from reconciler.store.records import (
    PlanStatus,
    QueueCounts,
    RejectedCalls,
    RejectReason,
    RequestState,
)

Json = dict[str, Any]


def iso(moment: dt.datetime | None) -> str | None:
    """A moment as RFC 3339 text in UTC (``...Z``)."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _moment(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def _required(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def company_view(company: CompanyView) -> Json:
    """The company as the API shows it: name, Web Connector user, time zone, last contact."""
    return {
        "name": company.name,
        "username": company.username,
        "timezone": company.timezone,
        "last_contact": iso(company.last_contact),
    }


def snapshot_view(snapshot: SnapshotView, *, outdated: bool, now: dt.datetime) -> Json:
    """A snapshot's summary (not its documents); ``age_seconds`` is never negative."""
    return {
        "version": snapshot.version,
        "taken_at": iso(snapshot.taken_at),
        "age_seconds": max(0, int((now - snapshot.taken_at).total_seconds())),
        "fingerprint": snapshot.fingerprint,
        "qbxml_version": snapshot.qbxml_version,
        "document_count": snapshot.document_count,
        "outdated": outdated,
    }


def lock_view(lock: LockView | None) -> Json | None:
    """The billing lock as the API shows it; None when the mode was never locked."""
    return None if lock is None else {"mode": lock.mode, "locked_at": iso(lock.locked_at)}


def latest_snapshot_document(source: StoredSnapshot, now: dt.datetime) -> Json:
    """``GET /api/v1/snapshot``: what a plan elsewhere needs (read back by
    :class:`~reconciler.api.server_snapshot.ServerSnapshot`)."""
    lock = source.lock()
    snapshot = replace(source.snapshot, fingerprint=source.fingerprint())
    return {
        "company": company_view(CompanyView.of(source.company)),
        "server_version": __version__,
        "snapshot": snapshot_view(SnapshotView.of(snapshot), outdated=source.outdated(), now=now),
        "billing_lock": lock_view(None if lock is None else LockView(lock.mode.value, lock.since)),
        "coverage": source.snapshot.coverage,
        "documents": source.documents(),
    }


def counts_view(counts: dict[RequestState, int]) -> Json:
    """The number of requests in every state, 0 for a state with none."""
    return {state.value: counts.get(state, 0) for state in RequestState}


def plan_view(plan: PlanView) -> Json:
    """One applied plan: who applied it from which commit, where it is."""
    return {
        "id": plan.id,
        "key": plan.key,
        "applied_at": iso(plan.applied_at),
        "applied_by": plan.applied_by,
        "commit": plan.commit,
        "requested_by": plan.requested_by,
        "billing_mode": plan.billing_mode,
        "status": plan.status.value,
        "status_reason": plan.status_reason,
        "progress": {"done": plan.done, "total": plan.total},
        "requests": counts_view(plan.requests),
    }


def error_view(error: ErrorView) -> Json:
    """A status error as the API shows it."""
    return {
        "object": error.object,
        "code": error.code,
        "message": error.message,
        "what_to_do": error.what_to_do,
        "first_seen": iso(error.first_seen),
        "last_seen": iso(error.last_seen),
        "occurrences": error.occurrences,
    }


def rejected_view(rejected: RejectedCalls) -> Json:
    """The calls refused for one reason, as the API shows them."""
    return {
        "reason": rejected.reason.value,
        "count": rejected.count,
        "first_at": iso(rejected.first_at),
        "last_at": iso(rejected.last_at),
    }


def _last_run(run: RunView | None) -> Json | None:
    if run is None:
        return None
    return {
        "started_at": iso(run.started_at),
        "last_seen_at": iso(run.last_seen_at),
        "closed_at": iso(run.closed_at),
        "applied": run.applied,
        "errors": run.errors,
        "last_error": run.last_error,
    }


def status_document(view: StatusView) -> Json:
    """``GET /api/v1/status``: the last run, the snapshot, the queue, the errors."""
    return {
        "company": company_view(view.company),
        "last_run": _last_run(view.last_run),
        "snapshot": (
            None
            if view.snapshot is None
            else snapshot_view(view.snapshot, outdated=view.snapshot_outdated, now=view.clock.now)
        ),
        "billing_lock": lock_view(view.lock),
        "queue": {
            "counts": counts_view(view.queue.by_state),
            "next_due": iso(view.queue.next_due),
        },
        "plans": [plan_view(plan) for plan in view.plans],
        "errors": [error_view(error) for error in view.errors],
        "rejected_calls": [rejected_view(rejected) for rejected in view.rejected],
    }


def status_from_document(document: Json, now: dt.datetime) -> StatusView:
    """The status view a status document describes, at ``now`` (on the reader's clock)."""
    company = document["company"]
    snapshot = document["snapshot"]
    run = document["last_run"]
    lock = document["billing_lock"]
    queue = document["queue"]
    return StatusView(
        company=CompanyView(
            name=company["name"],
            username=company["username"],
            timezone=company["timezone"],
            last_contact=_moment(company["last_contact"]),
        ),
        last_run=(
            None
            if run is None
            else RunView(
                started_at=_required(run["started_at"]),
                last_seen_at=_required(run["last_seen_at"]),
                closed_at=_moment(run["closed_at"]),
                applied=run["applied"],
                errors=run["errors"],
                last_error=run["last_error"],
            )
        ),
        snapshot=(
            None
            if snapshot is None
            else SnapshotView(
                version=snapshot["version"],
                taken_at=_required(snapshot["taken_at"]),
                fingerprint=snapshot["fingerprint"],
                qbxml_version=snapshot["qbxml_version"],
                document_count=snapshot["document_count"],
            )
        ),
        # The document says it of a snapshot only.
        snapshot_outdated=bool(snapshot and snapshot["outdated"]),
        lock=None if lock is None else LockView(lock["mode"], _required(lock["locked_at"])),
        queue=QueueCounts(
            by_state=_counts(queue["counts"]),
            next_due=_moment(queue["next_due"]),
        ),
        plans=[
            PlanView(
                id=plan["id"],
                key=plan["key"],
                applied_at=_required(plan["applied_at"]),
                applied_by=plan["applied_by"],
                commit=plan["commit"],
                requested_by=plan["requested_by"],
                billing_mode=plan["billing_mode"],
                status=PlanStatus(plan["status"]),
                status_reason=plan["status_reason"],
                requests=_counts(plan["requests"]),
                done=plan["progress"]["done"],
                total=plan["progress"]["total"],
            )
            for plan in document["plans"]
        ],
        errors=[
            ErrorView(
                object=error["object"],
                code=error["code"],
                message=error["message"],
                what_to_do=error["what_to_do"],
                first_seen=_required(error["first_seen"]),
                last_seen=_required(error["last_seen"]),
                occurrences=error["occurrences"],
            )
            for error in document["errors"]
        ],
        rejected=[
            RejectedCalls(
                RejectReason(rejected["reason"]),
                rejected["count"],
                _required(rejected["first_at"]),
                _required(rejected["last_at"]),
            )
            for rejected in document["rejected_calls"]
        ],
        clock=StatusClock(now),
    )


def _counts(counts: Json) -> dict[RequestState, int]:
    """Requests by state, as the store counts them: a state with none is left out."""
    return {RequestState(state): n for state, n in counts.items() if n}
