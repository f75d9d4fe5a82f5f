"""The store access layer: what the server and the commands may ask of the state.

Callers speak in intentions ("queue this plan", "the next due request",
"record this response"), never in SQL. Each method is one atomic change;
:meth:`Store.atomic` groups several into one transaction, so that a SOAP
answer is sent only after every change it depends on is committed. SQLite is
the embedded default (:mod:`reconciler.store.sqlite`); another backend (say,
PostgreSQL) implements this class and nothing else changes.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from reconciler.store.records import (
    ApiToken,
    AppIdentity,
    AuditEntry,
    BillingLock,
    CompanyRecord,
    CreatedInvoice,
    NewRequest,
    NewStatusError,
    PlanHistoryEntry,
    PlanRecord,
    QueueCounts,
    QueuedRequest,
    RejectedCalls,
    RejectReason,
    RequestState,
    ResponseRecord,
    SessionRecord,
    SnapshotRecord,
    StatusError,
    TokenScope,
)


class StoreError(Exception):
    """The state directory cannot be used (newer schema, corrupt file...)."""


class Store(abc.ABC):
    """Everything the reconciler keeps between runs."""

    # ------------------------------------------------------------------ basics

    @abc.abstractmethod
    def atomic(self) -> AbstractContextManager[None]:
        """Group the calls made inside into one transaction.

        A nested block joins the enclosing transaction: everything commits at
        the end of the outermost block, or rolls back if an exception leaves it.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Release the store's connections."""

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """Where the state lives, as people read it."""

    # ---------------------------------------------------------------- identity

    @abc.abstractmethod
    def app_identity(self) -> AppIdentity:
        """The OwnerID and AppID of this installation (created on first use)."""

    @abc.abstractmethod
    def clock_shift(self) -> dt.timedelta | None:
        """How far the clock this state is written on is from the wall clock; None for the
        wall clock (``reconcile demo`` writes on a simulated one, see :meth:`set_clock_shift`)."""

    @abc.abstractmethod
    def set_clock_shift(self, shift: dt.timedelta) -> None:
        """Record that this state is written on the wall clock moved by ``shift``: every
        command reading it then shows its times on that clock, and says so."""

    @abc.abstractmethod
    def register_company(self, name: str, *, username: str, company_file: str) -> CompanyRecord:
        """Create the company (with a new FileID) or update its user name and file."""

    @abc.abstractmethod
    def company(self, company_id: int) -> CompanyRecord:
        """The company with this id."""

    @abc.abstractmethod
    def company_by_name(self, name: str) -> CompanyRecord | None:
        """The company registered under this configured name, if any."""

    @abc.abstractmethod
    def company_by_username(self, username: str) -> CompanyRecord | None:
        """The company whose Web Connector signs in as ``username``, if any."""

    @abc.abstractmethod
    def companies(self) -> list[CompanyRecord]:
        """Every registered company."""

    @abc.abstractmethod
    def set_password_hash(self, company_id: int, password_hash: str) -> None:
        """Replace the company's password hash (the password itself is never stored)."""

    @abc.abstractmethod
    def record_contact(self, company_id: int, at: dt.datetime) -> None:
        """Remember when the company's Web Connector last signed in."""

    @abc.abstractmethod
    def set_profile(self, company_id: int, profile: dict[str, Any]) -> None:
        """Record what a run refreshes and when invoices are due."""

    # ----------------------------------------------------- sign-in throttling

    @abc.abstractmethod
    def failed_sign_ins(self, client: str, since: dt.datetime) -> int:
        """Failed sign-ins from this client address since ``since``, whatever the user name."""

    @abc.abstractmethod
    def record_failed_sign_in(self, username: str, client: str, at: dt.datetime) -> None:
        """Count one failed sign-in (old ones are forgotten)."""

    @abc.abstractmethod
    def clear_failed_sign_ins(self, client: str) -> None:
        """Forget the failures of this client (after a success)."""

    # ---------------------------------------------------------------- sessions

    @abc.abstractmethod
    def open_session(
        self,
        company_id: int,
        *,
        ticket_hash: str,
        ticket_prefix: str,
        boot_id: str,
        client: str,
        now: dt.datetime,
        expires_at: dt.datetime,
        state: dict[str, Any],
    ) -> SessionRecord:
        """Start a session; only the ticket's hash is kept."""

    @abc.abstractmethod
    def session_for_ticket(self, ticket_hash: str) -> SessionRecord | None:
        """The session a ticket (by its hash) belongs to."""

    @abc.abstractmethod
    def open_sessions(self, company_id: int) -> list[SessionRecord]:
        """The company's sessions that were never closed."""

    @abc.abstractmethod
    def update_session(
        self,
        session_id: int,
        *,
        state: dict[str, Any] | None = None,
        last_seen_at: dt.datetime | None = None,
        expires_at: dt.datetime | None = None,
        last_error: str | None = None,
        applied: int | None = None,
        errors: int | None = None,
    ) -> None:
        """Change what is given; leave the rest."""

    @abc.abstractmethod
    def close_session(self, session_id: int, at: dt.datetime) -> None:
        """End a session (its ticket stops working)."""

    @abc.abstractmethod
    def last_session(self, company_id: int) -> SessionRecord | None:
        """The company's most recent session, open or closed."""

    # --------------------------------------------- documents of a running refresh

    @abc.abstractmethod
    def add_session_document(self, session_id: int, kind: str, document: str) -> None:
        """Keep one raw query response of the session's refresh."""

    @abc.abstractmethod
    def session_documents(self, session_id: int, kind: str | None = None) -> list[str]:
        """The session's refresh responses (of one kind), in the order they came."""

    @abc.abstractmethod
    def clear_session_documents(self, session_id: int, *, keep: Sequence[str] = ()) -> None:
        """Drop the session's refresh responses (once a snapshot holds them), but
        those of the kinds in ``keep``."""

    # --------------------------------------------------------------- snapshots

    @abc.abstractmethod
    def save_session_snapshot(
        self,
        company_id: int,
        session_id: int,
        *,
        taken_at: dt.datetime,
        qbxml_version: str,
        coverage: dict[str, Any] | None = None,
    ) -> SnapshotRecord:
        """Store a new snapshot version holding the session's refresh documents, in the
        order they were added (:meth:`add_session_document`), copied as stored rather
        than read and written again, and what of the invoices the refresh read
        (``coverage``)."""

    @abc.abstractmethod
    def set_snapshot_fingerprint(self, snapshot_id: int, fingerprint: str) -> None:
        """Record a snapshot's fingerprint once it is computed."""

    @abc.abstractmethod
    def mark_snapshot_outdated(self, company_id: int) -> None:
        """Note that requests went out since the latest snapshot (the next one clears it)."""

    @abc.abstractmethod
    def latest_snapshot(self, company_id: int) -> SnapshotRecord | None:
        """The company's newest snapshot, if any."""

    @abc.abstractmethod
    def snapshot_documents(self, snapshot_id: int) -> list[str]:
        """The raw qbXML responses of a snapshot, in order."""

    # -------------------------------------------------------- created invoices

    @abc.abstractmethod
    def record_created_invoices(
        self, company_id: int, invoices: Sequence[CreatedInvoice], at: dt.datetime
    ) -> None:
        """Remember invoices reconciler created (or found created): their ExternalGUID and
        TxnID. A GUID recorded before (one deleted and created again) takes the new
        TxnID; ``deleted_at`` is not read: recorded, an invoice is no longer deleted."""

    @abc.abstractmethod
    def created_invoices(self, company_id: int) -> list[CreatedInvoice]:
        """Every invoice reconciler created for the company, deleted ones too."""

    @abc.abstractmethod
    def mark_created_invoice_deleted(self, company_id: int, txn_id: str, at: dt.datetime) -> None:
        """Note that QuickBooks no longer has the created invoice ``txn_id``."""

    # ----------------------------------------------------------- plans, queue

    @abc.abstractmethod
    def queue_plan(
        self,
        company_id: int,
        *,
        key: str,
        qb_fingerprint: str,
        billing_mode: str,
        document: str,
        requests: Sequence[NewRequest],
        applied_at: dt.datetime,
    ) -> PlanRecord:
        """Queue a plan's requests, in order.

        Requests of earlier plans that were never sent become stale (the new
        plan was computed without them and holds what is still needed).
        Requests with a future not-before time are held until then.
        """

    @abc.abstractmethod
    def plan(self, plan_id: int) -> PlanRecord:
        """The plan with this id."""

    @abc.abstractmethod
    def plans(self, company_id: int) -> list[PlanRecord]:
        """The company's applied plans, newest first."""

    @abc.abstractmethod
    def plan_document(self, plan_id: int) -> str:
        """The plan file as it was applied."""

    @abc.abstractmethod
    def mark_plan_stale(self, plan_id: int, reason: str, at: dt.datetime) -> int:
        """Stop a plan: its unsent requests become stale. Returns how many."""

    @abc.abstractmethod
    def release_due_requests(self, company_id: int, now: dt.datetime) -> int:
        """Make held requests whose time has come, and failed ones, due again."""

    @abc.abstractmethod
    def has_due_requests(self, company_id: int, now: dt.datetime) -> bool:
        """Whether a run would send anything now (due, held-but-due, failed or sent)."""

    @abc.abstractmethod
    def next_queued_requests(self, company_id: int, limit: int = 1) -> list[QueuedRequest]:
        """The next due requests (at most ``limit``), in plan and sequence order."""

    @abc.abstractmethod
    def count_requests(
        self, company_id: int, states: Sequence[RequestState], kind: str | None = None
    ) -> int:
        """How many of the company's requests are in these states (and of this ``kind``,
        say ``InvoiceModRq``, when given)."""

    @abc.abstractmethod
    def requests_awaiting_outcome(self, company_id: int) -> list[QueuedRequest]:
        """Requests sent whose response never arrived."""

    @abc.abstractmethod
    def queued_request(self, request_id: int) -> QueuedRequest:
        """The queued request with this id."""

    @abc.abstractmethod
    def requests(
        self, company_id: int, states: Sequence[RequestState] | None = None
    ) -> list[QueuedRequest]:
        """The company's requests (in these states), in plan and sequence order."""

    @abc.abstractmethod
    def mark_sent(self, request_id: int, *, session_id: int, at: dt.datetime) -> None:
        """Record that a request is handed to the Web Connector (one more attempt)."""

    @abc.abstractmethod
    def finish_request(
        self, request_id: int, state: RequestState, at: dt.datetime, response: ResponseRecord | None
    ) -> None:
        """Set a request's outcome and keep the response; a plan whose requests
        are all done is done."""

    def mark_all_sent(
        self, request_ids: Sequence[int], *, session_id: int, at: dt.datetime
    ) -> None:
        """:meth:`mark_sent` for each of ``request_ids`` (a document of several requests)."""
        with self.atomic():
            for request_id in request_ids:
                self.mark_sent(request_id, session_id=session_id, at=at)

    def finish_requests(
        self,
        outcomes: Sequence[tuple[int, ResponseRecord | None]],
        state: RequestState,
        at: dt.datetime,
    ) -> None:
        """:meth:`finish_request` for each (request id, response) of ``outcomes``, all
        ending in ``state`` (the answers to a document of several requests)."""
        with self.atomic():
            for request_id, response in outcomes:
                self.finish_request(request_id, state, at, response)

    @abc.abstractmethod
    def requeue(self, request_id: int, at: dt.datetime, *, unsent: bool = False) -> None:
        """Make a request due again; ``unsent``: QuickBooks never processed it (the
        attempt does not count)."""

    @abc.abstractmethod
    def responses(self, request_id: int) -> list[ResponseRecord]:
        """Every response recorded for a request, oldest first."""

    @abc.abstractmethod
    def queue_counts(self, company_id: int) -> QueueCounts:
        """How many of the company's requests are in each state."""

    # ----------------------------------------------------------- status errors

    @abc.abstractmethod
    def record_error(self, company_id: int, error: NewStatusError, at: dt.datetime) -> StatusError:
        """Add an error to the status list (a repeat of an open one counts again)."""

    @abc.abstractmethod
    def resolve_request_errors(self, company_id: int, request_id: int, at: dt.datetime) -> int:
        """Resolve the errors of one request (it went through). Returns how many."""

    @abc.abstractmethod
    def resolve_run_errors(self, company_id: int, at: dt.datetime) -> int:
        """Resolve the errors not tied to a request (a run read QuickBooks fine)."""

    @abc.abstractmethod
    def resolve_plan_errors(self, company_id: int, at: dt.datetime, *, keep_plan_id: int) -> int:
        """Resolve the errors of every plan but ``keep_plan_id`` (a newer plan replaced them)."""

    @abc.abstractmethod
    def open_errors(self, company_id: int) -> list[StatusError]:
        """Errors not yet resolved, oldest first."""

    # ---------------------------------------------------------- rejected calls

    @abc.abstractmethod
    def record_rejected_call(self, reason: RejectReason, at: dt.datetime) -> None:
        """Count one call the server refused."""

    @abc.abstractmethod
    def rejected_calls(self) -> list[RejectedCalls]:
        """The refused calls, counted by reason (the most frequent first)."""

    # -------------------------------------------------------------- billing lock

    @abc.abstractmethod
    def billing_lock(self, company_id: int) -> BillingLock | None:
        """The locked billing mode, if a plan was ever applied."""

    @abc.abstractmethod
    def lock_billing_mode(
        self, company_id: int, mode: str, at: dt.datetime, plan_id: int | None
    ) -> BillingLock:
        """Lock the billing mode unless it is already locked; returns the lock."""

    # --------------------------------------------------------------------- audit

    @abc.abstractmethod
    def add_audit(
        self,
        company_id: int,
        *,
        actor: str,
        action: str,
        at: dt.datetime,
        plan_id: int | None = None,
        commit: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """Append to the audit log."""

    @abc.abstractmethod
    def audit_log(self, company_id: int, limit: int = 50) -> list[AuditEntry]:
        """The newest audit entries first."""

    @abc.abstractmethod
    def plan_history(self, company_id: int, limit: int = 20) -> list[PlanHistoryEntry]:
        """The company's applied plans, newest first, with who applied each and its progress."""

    # ---------------------------------------------------------------- API tokens

    @abc.abstractmethod
    def add_api_token(
        self,
        company_id: int,
        *,
        name: str,
        scope: TokenScope,
        key_id: str,
        token_hash: str,
        at: dt.datetime,
    ) -> ApiToken:
        """Record a new token (its hash only); ``name`` must not name a live token."""

    @abc.abstractmethod
    def api_token(self, key_id: str) -> ApiToken | None:
        """The token (live or revoked) whose public part is ``key_id``."""

    @abc.abstractmethod
    def api_token_by_name(self, name: str) -> ApiToken | None:
        """The live token called ``name``, if any."""

    @abc.abstractmethod
    def api_tokens(self, *, include_revoked: bool = False) -> list[ApiToken]:
        """Every live token (and the revoked ones when asked), oldest first."""

    @abc.abstractmethod
    def revoke_api_token(self, name: str, at: dt.datetime) -> ApiToken | None:
        """Revoke the live token called ``name``; None when there is none."""

    @abc.abstractmethod
    def touch_api_token(self, token_id: int, at: dt.datetime) -> None:
        """Remember when a token was last used."""
