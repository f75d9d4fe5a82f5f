"""Which record each table of the schema (:mod:`reconciler.store.schema`) holds.

One :class:`~reconciler.store.rows.RecordTable` per table: the record's fields
are its columns (a differently named one is said), plus the columns the record
does not carry, with their types.
"""

from __future__ import annotations

import datetime as dt

from reconciler.store.records import (
    ApiToken,
    AuditEntry,
    BillingLock,
    CompanyRecord,
    CreatedInvoice,
    PlanRecord,
    QueuedRequest,
    RejectedCalls,
    ResponseRecord,
    SessionRecord,
    SnapshotRecord,
    StatusError,
)
from reconciler.store.rows import RecordTable

COMPANIES = RecordTable(CompanyRecord, "companies", extra={"updated_at": dt.datetime})
SESSIONS = RecordTable(
    SessionRecord,
    "sessions",
    extra={"ticket_hash": str},
    # Written at every call of the session.
    unsorted_json=("state",),
)
# ``document_count`` is not a column: the store counts the snapshot's documents.
SNAPSHOTS = RecordTable(SnapshotRecord, "snapshots", extra={"session_id": int})
CREATED_INVOICES = RecordTable(
    CreatedInvoice, "created_invoices", extra={"company_id": int, "recorded_at": dt.datetime}
)
PLANS = RecordTable(
    PlanRecord,
    "plans",
    extra={"document": str, "updated_at": dt.datetime},
    packed=("document",),
)
REQUESTS = RecordTable(QueuedRequest, "requests", extra={"session_id": int})
RESPONSES = RecordTable(ResponseRecord, "responses", packed=("document",))
STATUS_ERRORS = RecordTable(StatusError, "status_errors")
REJECTED_CALLS = RecordTable(RejectedCalls, "rejected_calls")
BILLING_LOCKS = RecordTable(BillingLock, "billing_locks")
AUDIT_LOG = RecordTable(AuditEntry, "audit_log", columns={"commit": "commit_sha"})
API_TOKENS = RecordTable(ApiToken, "api_tokens")
