"""What the store holds, as plain values.

Every record is a frozen dataclass; the store hands them out and takes them
back, and no caller ever sees a row, a cursor or SQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class RequestState(StrEnum):
    """Where a queued qbXML request is in its life."""

    HELD = "held"  # waiting for its not-before time (the invoice day at 05:00)
    QUEUED = "queued"  # due: the next run sends it
    SENT = "sent"  # handed to the Web Connector; no response recorded yet
    DONE = "done"  # QuickBooks applied it (or it was found already applied)
    FAILED = "failed"  # QuickBooks refused it; retried by the next run
    STALE = "stale"  # never to be sent: its plan went stale or was superseded


# States whose requests still belong to a live plan and may be sent one day.
PENDING_STATES = frozenset({RequestState.HELD, RequestState.QUEUED, RequestState.FAILED})


class PlanStatus(StrEnum):
    """Where an applied plan is."""

    QUEUED = "queued"  # some of its requests are still to be sent
    DONE = "done"  # every request is done
    STALE = "stale"  # QuickBooks changed under it (error 3200): re-plan
    SUPERSEDED = "superseded"  # a newer plan was applied before it finished


@dataclass(frozen=True)
class AppIdentity:
    """The identity of this installation in every QWC file it writes."""

    owner_id: str  # one GUID per application, never per QWC file
    app_id: str


@dataclass(frozen=True)
class CompanyRecord:
    """A QuickBooks company file that a Web Connector syncs with this server."""

    id: int
    name: str  # the configured company name (billing.yaml)
    username: str  # the Web Connector's user name (QWC UserName)
    file_id: str  # the QWC FileID GUID
    company_file: str  # full path of the .qbw file; "" for the open company
    password_hash: str | None
    # What a run refreshes and when invoices are due: mapped items and
    # customers, the billing options. Written by `qwc` and `apply`.
    profile: dict[str, Any] = field(default_factory=dict, compare=False)
    created_at: dt.datetime | None = None
    last_contact: dt.datetime | None = None  # the Web Connector's last sign-in
    # Requests went out to QuickBooks after the latest snapshot.
    snapshot_outdated: bool = False


@dataclass(frozen=True)
class SessionRecord:
    """One Web Connector session (from authenticate to closeConnection)."""

    id: int
    company_id: int
    ticket_prefix: str  # for logs; the ticket itself is never stored
    boot_id: str  # which server process opened it
    client: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    closed_at: dt.datetime | None
    state: dict[str, Any]  # the sync run's own state machine
    last_error: str | None = None  # what getLastError shows
    applied: int = 0  # requests QuickBooks applied in this session
    errors: int = 0  # requests QuickBooks refused in this session

    def is_live(self, now: dt.datetime, boot_id: str, quiet_for: dt.timedelta) -> bool:
        """Open, unexpired, heard from within ``quiet_for``, opened by this process.

        A session opened before a restart cannot be live: the Web Connector
        that held it saw its call fail and ended the update.
        """
        return (
            self.closed_at is None
            and now < self.expires_at
            and now - self.last_seen_at < quiet_for
            and self.boot_id == boot_id
        )


@dataclass(frozen=True)
class SnapshotRecord:
    """A versioned copy of what QuickBooks held, as the raw responses say."""

    id: int
    company_id: int
    version: int  # 1, 2, 3... per company
    taken_at: dt.datetime
    fingerprint: str | None  # sha256 of the parsed state; None until first needed
    qbxml_version: str
    document_count: int
    # What its refresh read of the invoices (``reconciler.engine.coverage.Coverage`` as
    # JSON); None for snapshots taken before it was recorded.
    coverage: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class CreatedInvoice:
    """An invoice reconciler created: found again by its TxnID wherever it moved."""

    external_guid: str  # canonical (lower case, no braces)
    txn_id: str
    customer: str | None  # the customer it was created for (full name)
    txn_date: str | None  # the date it was created with (ISO)
    deleted_at: dt.datetime | None = None  # when a refresh found it deleted in QuickBooks
    request_id: int | None = None  # the queued request that created it, when known


@dataclass(frozen=True)
class PlanRecord:
    """A plan applied to a company: what it was computed from, where it is."""

    id: int
    company_id: int
    key: str  # the plan's own identifier (its fingerprint)
    qb_fingerprint: str  # the snapshot it was computed from
    billing_mode: str
    applied_at: dt.datetime
    status: PlanStatus
    status_reason: str | None = None


@dataclass(frozen=True)
class NewRequest:
    """A request to queue, as a plan renders it."""

    kind: str  # the qbXML request name, e.g. "InvoiceAddRq"
    label: str  # the object, as people read it: "Invoice for Contoso, 2024-06-01"
    qbxml: str  # the whole qbXML document, as sent
    not_before: dt.datetime | None = None  # UTC; None: due at once
    external_guid: str | None = None  # when an add: what marks it in QuickBooks
    # What a look-up before a re-send needs (customer, date) for an add.
    lookup: dict[str, Any] = field(default_factory=dict, compare=False)
    # The requestID the plan rendered into ``qbxml``; None: the store makes one.
    request_id: str | None = None


@dataclass(frozen=True)
class QueuedRequest:
    """A queued request and where it is."""

    id: int
    plan_id: int
    company_id: int
    sequence: int
    kind: str
    label: str
    qbxml: str
    request_id: str  # the qbXML requestID it is sent with
    external_guid: str | None
    lookup: dict[str, Any]
    not_before: dt.datetime | None
    state: RequestState
    attempts: int
    sent_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@dataclass(frozen=True)
class ResponseRecord:
    """What QuickBooks answered to one queued request."""

    request_id: int
    session_id: int | None
    received_at: dt.datetime
    status_code: int
    status_severity: str
    status_message: str
    txn_id: str | None = None  # TxnID or ListID of the object written
    document: str | None = None  # the raw qbXML response


@dataclass(frozen=True)
class StatusError:
    """A sync error as the status view shows it."""

    id: int
    company_id: int
    object: str
    code: str  # QuickBooks' statusCode, an HRESULT, or a reconciler code
    message: str  # QuickBooks' own message
    what_to_do: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    occurrences: int
    request_id: int | None = None
    plan_id: int | None = None
    resolved_at: dt.datetime | None = None


class RejectReason(StrEnum):
    """Why the server refused a call: the caller's doing, never a company's sync error."""

    MALFORMED = "malformed"  # not a well-formed SOAP call of a known operation
    TOO_LARGE = "too-large"  # larger than its operation may be
    SIGN_IN = "sign-in"  # a wrong user name or password, or from a throttled address
    UNKNOWN_TICKET = "unknown-ticket"  # a session's call with a ticket no open session holds
    OUT_OF_TURN = "out-of-turn"  # a call the protocol does not allow at that point of a session


@dataclass(frozen=True)
class RejectedCalls:
    """How many calls were refused for one reason, since when and until when."""

    reason: RejectReason
    count: int
    first_at: dt.datetime
    last_at: dt.datetime


@dataclass(frozen=True)
class NewStatusError:
    """A sync error to record (or to count again when it repeats)."""

    object: str
    code: str
    message: str
    what_to_do: str
    request_id: int | None = None
    plan_id: int | None = None


@dataclass(frozen=True)
class BillingLock:
    """The billing mode, locked by the first apply."""

    company_id: int
    mode: str
    locked_at: dt.datetime
    plan_id: int | None


@dataclass(frozen=True)
class AuditEntry:
    """Who did what, when, from which commit."""

    id: int
    company_id: int
    at: dt.datetime
    actor: str
    action: str
    plan_id: int | None
    commit: str | None
    detail: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class QueueCounts:
    """How many requests of a company are in each state."""

    by_state: dict[RequestState, int]
    next_due: dt.datetime | None  # the earliest not-before of a held request

    def count(self, state: RequestState) -> int:
        """How many requests are in ``state`` (0 when none)."""
        return self.by_state.get(state, 0)


class TokenScope(StrEnum):
    """What an API token may do."""

    PLAN = "plan"  # read the snapshot, the status and the plan history
    APPLY = "apply"  # and submit plans


@dataclass(frozen=True)
class ApiToken:
    """A bearer token of the server's API (the token itself is never stored)."""

    id: int
    company_id: int  # the one company the token may see and change
    name: str
    scope: TokenScope
    key_id: str  # the public part of the token, to find it and to recognise it
    token_hash: str  # sha256 of the whole token
    created_at: dt.datetime
    last_used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None


@dataclass(frozen=True)
class PlanHistoryEntry:
    """An applied plan, who applied it, and how far its requests got."""

    plan: PlanRecord
    applied: AuditEntry | None  # the audit entry of its apply: who, when, which commit
    requests: dict[RequestState, int]  # its requests by state

    @property
    def total(self) -> int:
        """Its requests that are still meant to go out, or went out (stale ones never will)."""
        return sum(n for state, n in self.requests.items() if state is not RequestState.STALE)

    @property
    def done(self) -> int:
        """How many of its requests QuickBooks applied (or were found already applied)."""
        return self.requests.get(RequestState.DONE, 0)
