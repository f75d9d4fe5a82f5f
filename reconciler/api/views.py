"""The API's JSON documents, built from the store's records (pure: "now" is an input).

:func:`report_from_status` reads a status document back into the
:class:`~reconciler.status.report.StatusReport` that ``reconcile status``
prints, so that ``status --server`` prints what ``status`` prints.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from reconciler import __version__
from reconciler.qbstate.snapshot import StoredSnapshot
from reconciler.status.report import StatusReport, company_timezone
from reconciler.store.records import (
    BillingLock,
    CompanyRecord,
    PlanHistoryEntry,
    PlanRecord,
    PlanStatus,
    QueueCounts,
    RejectedCalls,
    RejectReason,
    RequestState,
    SessionRecord,
    SnapshotRecord,
    StatusError,
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


def company_view(company: CompanyRecord, timezone: str) -> Json:
    """The company as the API shows it: name, Web Connector user, time zone, last contact."""
    return {
        "name": company.name,
        "username": company.username,
        "timezone": timezone,
        "last_contact": iso(company.last_contact),
    }


def snapshot_view(snapshot: SnapshotRecord, *, outdated: bool, now: dt.datetime) -> Json:
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


def lock_view(lock: BillingLock | None) -> Json | None:
    """The billing lock as the API shows it; None when the mode was never locked."""
    return None if lock is None else {"mode": lock.mode, "locked_at": iso(lock.locked_at)}


def latest_snapshot_document(source: StoredSnapshot, now: dt.datetime) -> Json:
    """``GET /api/v1/snapshot``: what a plan elsewhere needs (read back by
    :class:`~reconciler.api.server_snapshot.ServerSnapshot`)."""
    lock = source.lock()
    snapshot = replace(source.snapshot, fingerprint=source.fingerprint())
    return {
        "company": company_view(source.company, company_timezone(source.company)),
        "server_version": __version__,
        "snapshot": snapshot_view(snapshot, outdated=source.outdated(), now=now),
        "billing_lock": (
            None if lock is None else {"mode": lock.mode.value, "locked_at": iso(lock.since)}
        ),
        "coverage": snapshot.coverage,
        "documents": source.documents(),
    }


def counts_view(counts: dict[RequestState, int]) -> Json:
    """The number of requests in every state, 0 for a state with none."""
    return {state.value: counts.get(state, 0) for state in RequestState}


def plan_view(entry: PlanHistoryEntry) -> Json:
    """One applied plan: who applied it from which commit, where it is."""
    plan, applied = entry.plan, entry.applied
    detail = applied.detail if applied is not None else {}
    return {
        "id": plan.id,
        "key": plan.key,
        "applied_at": iso(plan.applied_at),
        "applied_by": applied.actor if applied is not None else None,
        "commit": applied.commit if applied is not None else None,
        "requested_by": detail.get("requested_by"),
        "billing_mode": plan.billing_mode,
        "status": plan.status.value,
        "status_reason": plan.status_reason,
        "progress": {"done": entry.done, "total": entry.total},
        "requests": counts_view(entry.requests),
    }


def error_view(error: StatusError) -> Json:
    """A status error as the API shows it (without the store's ids)."""
    return {
        "object": error.object,
        "code": error.code,
        "message": error.message,
        "what_to_do": error.what_to_do,
        "first_seen": iso(error.first_seen),
        "last_seen": iso(error.last_seen),
        "occurrences": error.occurrences,
    }


def _last_run(session: SessionRecord | None) -> Json | None:
    if session is None:
        return None
    return {
        "started_at": iso(session.created_at),
        "last_seen_at": iso(session.last_seen_at),
        "closed_at": iso(session.closed_at),
        "applied": session.applied,
        "errors": session.errors,
        "last_error": session.last_error,
    }


def status_document(
    report: StatusReport, history: list[PlanHistoryEntry], now: dt.datetime
) -> Json:
    """``GET /api/v1/status``: the last run, the snapshot, the queue, the errors."""
    snapshot = report.snapshot
    return {
        "company": company_view(report.company, report.timezone),
        "last_run": _last_run(report.last_session),
        "snapshot": (
            None
            if snapshot is None
            else snapshot_view(snapshot, outdated=report.company.snapshot_outdated, now=now)
        ),
        "billing_lock": lock_view(report.lock),
        "queue": {
            "counts": counts_view(report.queue.by_state),
            "next_due": iso(report.queue.next_due),
        },
        "plans": [plan_view(entry) for entry in history],
        "errors": [error_view(error) for error in report.errors],
        "rejected_calls": [rejected_view(rejected) for rejected in report.rejected],
    }


def rejected_view(rejected: RejectedCalls) -> Json:
    """The calls refused for one reason, as the API shows them."""
    return {
        "reason": rejected.reason.value,
        "count": rejected.count,
        "first_at": iso(rejected.first_at),
        "last_at": iso(rejected.last_at),
    }


def report_from_status(document: Json) -> StatusReport:
    """The status report a status document describes (ids the API leaves out are 0)."""
    company = document["company"]
    snapshot = document["snapshot"]
    run = document["last_run"]
    lock = document["billing_lock"]
    queue = document["queue"]
    return StatusReport(
        company=CompanyRecord(
            id=0,
            name=company["name"],
            username=company["username"],
            file_id="",
            company_file="",
            password_hash=None,
            last_contact=_moment(company["last_contact"]),
            snapshot_outdated=bool(snapshot and snapshot["outdated"]),
        ),
        timezone=company["timezone"],
        last_session=(
            None
            if run is None
            else SessionRecord(
                id=0,
                company_id=0,
                ticket_prefix="",
                boot_id="",
                client="",
                created_at=_required(run["started_at"]),
                last_seen_at=_required(run["last_seen_at"]),
                expires_at=_required(run["last_seen_at"]),
                closed_at=_moment(run["closed_at"]),
                state={},
                last_error=run["last_error"],
                applied=run["applied"],
                errors=run["errors"],
            )
        ),
        snapshot=(
            None
            if snapshot is None
            else SnapshotRecord(
                id=0,
                company_id=0,
                version=snapshot["version"],
                taken_at=_required(snapshot["taken_at"]),
                fingerprint=snapshot["fingerprint"],
                qbxml_version=snapshot["qbxml_version"],
                document_count=snapshot["document_count"],
            )
        ),
        lock=(
            None
            if lock is None
            else BillingLock(0, lock["mode"], _required(lock["locked_at"]), plan_id=None)
        ),
        queue=QueueCounts(
            by_state={RequestState(state): n for state, n in queue["counts"].items() if n},
            next_due=_moment(queue["next_due"]),
        ),
        plans=[
            PlanRecord(
                id=plan["id"],
                company_id=0,
                key=plan["key"],
                qb_fingerprint="",
                billing_mode=plan["billing_mode"],
                applied_at=_required(plan["applied_at"]),
                status=PlanStatus(plan["status"]),
                status_reason=plan["status_reason"],
            )
            for plan in document["plans"]
        ],
        errors=[
            StatusError(
                id=0,
                company_id=0,
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
    )
