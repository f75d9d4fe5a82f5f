"""What the store keeps, by concern: one small interface each, documented here once.

A :class:`~reconciler.store.base.Store` composes one implementation of each
(``store.sessions.open(...)``, ``store.queue.next(...)``). Each method is one
atomic change; ``store.atomic()`` groups calls to any of them into one
transaction. Implementations inherit these docstrings.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Sequence
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


class InstallationStore(abc.ABC):
    """What identifies this installation, and the clock its state is written on."""

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


class CompanyStore(abc.ABC):
    """The company files served, their Web Connector's credentials and profile."""

    @abc.abstractmethod
    def register(self, name: str, *, username: str, company_file: str) -> CompanyRecord:
        """Create the company (with a new FileID) or update its user name and file."""

    @abc.abstractmethod
    def get(self, company_id: int) -> CompanyRecord:
        """The company with this id (KeyError when there is none)."""

    @abc.abstractmethod
    def by_name(self, name: str) -> CompanyRecord | None:
        """The company registered under this configured name, if any."""

    @abc.abstractmethod
    def by_username(self, username: str) -> CompanyRecord | None:
        """The company whose Web Connector signs in as ``username``, if any."""

    @abc.abstractmethod
    def all(self) -> list[CompanyRecord]:
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


class SignInThrottle(abc.ABC):
    """Failed sign-ins, counted per client address to slow down password guessing."""

    @abc.abstractmethod
    def failures(self, client: str, since: dt.datetime) -> int:
        """Failed sign-ins from this client address since ``since``, whatever the user name."""

    @abc.abstractmethod
    def record_failure(self, username: str, client: str, at: dt.datetime) -> None:
        """Count one failed sign-in (old ones are forgotten)."""

    @abc.abstractmethod
    def clear_failures(self, client: str) -> None:
        """Forget the failures of this client (after a success)."""


class RejectedCallLog(abc.ABC):
    """Calls the server refused: the callers' doing, never a company's sync error."""

    @abc.abstractmethod
    def record(self, reason: RejectReason, at: dt.datetime) -> None:
        """Count one call the server refused."""

    @abc.abstractmethod
    def by_reason(self) -> list[RejectedCalls]:
        """The refused calls, counted by reason (the most frequent first)."""


class SessionStore(abc.ABC):
    """Web Connector sessions, and the query responses of a refresh still running."""

    @abc.abstractmethod
    def open(
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
    def for_ticket(self, ticket_hash: str) -> SessionRecord | None:
        """The session a ticket (by its hash) belongs to."""

    @abc.abstractmethod
    def unclosed(self, company_id: int) -> list[SessionRecord]:
        """The company's sessions that were never closed."""

    @abc.abstractmethod
    def update(
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
    def close(self, session_id: int, at: dt.datetime) -> None:
        """End a session (its ticket stops working) and drop its refresh responses."""

    @abc.abstractmethod
    def last(self, company_id: int) -> SessionRecord | None:
        """The company's most recent session, open or closed."""

    @abc.abstractmethod
    def add_document(self, session_id: int, kind: str, document: str) -> None:
        """Keep one raw query response of the session's refresh."""

    @abc.abstractmethod
    def documents(self, session_id: int, kind: str | None = None) -> list[str]:
        """The session's refresh responses (of one kind), in the order they came."""

    @abc.abstractmethod
    def clear_documents(self, session_id: int, *, keep: Sequence[str] = ()) -> None:
        """Drop the session's refresh responses (once a snapshot holds them), but
        those of the kinds in ``keep``."""


class SnapshotStore(abc.ABC):
    """Versioned copies of what QuickBooks held, as its raw responses say."""

    @abc.abstractmethod
    def save_from_session(
        self,
        company_id: int,
        session_id: int,
        *,
        taken_at: dt.datetime,
        qbxml_version: str,
        coverage: dict[str, Any] | None = None,
    ) -> SnapshotRecord:
        """Store a new snapshot version holding the session's refresh documents, in the
        order they were added (:meth:`SessionStore.add_document`), copied as stored rather
        than read and written again, and what of the invoices the refresh read
        (``coverage``). The company's snapshot is no longer outdated."""

    @abc.abstractmethod
    def set_fingerprint(self, snapshot_id: int, fingerprint: str) -> None:
        """Record a snapshot's fingerprint once it is computed."""

    @abc.abstractmethod
    def mark_outdated(self, company_id: int) -> None:
        """Note that requests went out since the latest snapshot (the next one clears it;
        :attr:`CompanyRecord.snapshot_outdated` tells)."""

    @abc.abstractmethod
    def latest(self, company_id: int) -> SnapshotRecord | None:
        """The company's newest snapshot, if any."""

    @abc.abstractmethod
    def documents(self, snapshot_id: int) -> list[str]:
        """The raw qbXML responses of a snapshot, in order."""


class CreatedInvoiceStore(abc.ABC):
    """The invoices reconciler created, found again by TxnID wherever they moved."""

    @abc.abstractmethod
    def record(self, company_id: int, invoices: Sequence[CreatedInvoice], at: dt.datetime) -> None:
        """Remember invoices reconciler created (or found created): their ExternalGUID and
        TxnID. A GUID recorded before (one deleted and created again) takes the new
        TxnID; ``deleted_at`` is not read: recorded, an invoice is no longer deleted."""

    @abc.abstractmethod
    def for_company(self, company_id: int) -> list[CreatedInvoice]:
        """Every invoice reconciler created for the company, deleted ones too."""

    @abc.abstractmethod
    def mark_deleted(self, company_id: int, txn_id: str, at: dt.datetime) -> None:
        """Note that QuickBooks no longer has the created invoice ``txn_id``."""


class PlanStore(abc.ABC):
    """Applied plans: what each was computed from, where it is, its history."""

    @abc.abstractmethod
    def queue(
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
    def get(self, plan_id: int) -> PlanRecord:
        """The plan with this id (KeyError when there is none)."""

    @abc.abstractmethod
    def for_company(self, company_id: int) -> list[PlanRecord]:
        """The company's applied plans, newest first."""

    @abc.abstractmethod
    def document(self, plan_id: int) -> str:
        """The plan file as it was applied."""

    @abc.abstractmethod
    def mark_stale(self, plan_id: int, reason: str, at: dt.datetime) -> int:
        """Stop a plan: its unsent requests become stale. Returns how many."""

    @abc.abstractmethod
    def history(self, company_id: int, limit: int = 20) -> list[PlanHistoryEntry]:
        """The company's applied plans, newest first, with who applied each and its progress."""


class RequestQueue(abc.ABC):
    """The queued qbXML requests of the plans, their attempts and responses."""

    @abc.abstractmethod
    def release_due(self, company_id: int, now: dt.datetime) -> int:
        """Make held requests whose time has come, and failed ones, due again."""

    @abc.abstractmethod
    def has_due(self, company_id: int, now: dt.datetime) -> bool:
        """Whether a run would send anything now (due, held-but-due, failed or sent)."""

    @abc.abstractmethod
    def next(self, company_id: int, limit: int = 1) -> list[QueuedRequest]:
        """The next due requests (at most ``limit``), in plan and sequence order."""

    @abc.abstractmethod
    def count(
        self, company_id: int, states: Sequence[RequestState], kind: str | None = None
    ) -> int:
        """How many of the company's requests are in these states (and of this ``kind``,
        say ``InvoiceModRq``, when given)."""

    @abc.abstractmethod
    def awaiting_outcome(self, company_id: int) -> list[QueuedRequest]:
        """Requests sent whose response never arrived."""

    @abc.abstractmethod
    def get(self, request_id: int) -> QueuedRequest:
        """The queued request with this id (KeyError when there is none)."""

    @abc.abstractmethod
    def requests(
        self, company_id: int, states: Sequence[RequestState] | None = None
    ) -> list[QueuedRequest]:
        """The company's requests (in these states), in plan and sequence order."""

    @abc.abstractmethod
    def mark_sent(self, request_id: int, *, session_id: int, at: dt.datetime) -> None:
        """Record that a request is handed to the Web Connector (one more attempt)."""

    @abc.abstractmethod
    def mark_all_sent(
        self, request_ids: Sequence[int], *, session_id: int, at: dt.datetime
    ) -> None:
        """:meth:`mark_sent` for each of ``request_ids`` (a document of several requests)."""

    @abc.abstractmethod
    def finish(
        self, request_id: int, state: RequestState, at: dt.datetime, response: ResponseRecord | None
    ) -> None:
        """Set a request's outcome and keep the response; a plan whose requests
        are all done is done."""

    @abc.abstractmethod
    def finish_all(
        self,
        outcomes: Sequence[tuple[int, ResponseRecord | None]],
        state: RequestState,
        at: dt.datetime,
    ) -> None:
        """:meth:`finish` for each (request id, response) of ``outcomes``, all
        ending in ``state`` (the answers to a document of several requests)."""

    @abc.abstractmethod
    def requeue(self, request_id: int, at: dt.datetime, *, unsent: bool = False) -> None:
        """Make a request due again; ``unsent``: QuickBooks never processed it (the
        attempt does not count)."""

    @abc.abstractmethod
    def responses(self, request_id: int) -> list[ResponseRecord]:
        """Every response recorded for a request, oldest first."""

    @abc.abstractmethod
    def counts(self, company_id: int) -> QueueCounts:
        """How many of the company's requests are in each state."""


class StatusErrorStore(abc.ABC):
    """The sync errors the status view lists, until a later run resolves them."""

    @abc.abstractmethod
    def record(self, company_id: int, error: NewStatusError, at: dt.datetime) -> StatusError:
        """Add an error to the status list (a repeat of an open one counts again)."""

    @abc.abstractmethod
    def resolve_request(self, company_id: int, request_id: int, at: dt.datetime) -> int:
        """Resolve the errors of one request (it went through). Returns how many."""

    @abc.abstractmethod
    def resolve_run(self, company_id: int, at: dt.datetime) -> int:
        """Resolve the errors not tied to a request (a run read QuickBooks fine)."""

    @abc.abstractmethod
    def resolve_other_plans(self, company_id: int, at: dt.datetime, *, keep_plan_id: int) -> int:
        """Resolve the errors of every plan but ``keep_plan_id`` (a newer plan replaced them)."""

    @abc.abstractmethod
    def unresolved(self, company_id: int) -> list[StatusError]:
        """Errors not yet resolved, oldest first."""


class BillingLockStore(abc.ABC):
    """The billing mode of each company, locked by its first apply."""

    @abc.abstractmethod
    def get(self, company_id: int) -> BillingLock | None:
        """The locked billing mode, if a plan was ever applied."""

    @abc.abstractmethod
    def lock(self, company_id: int, mode: str, at: dt.datetime, plan_id: int | None) -> BillingLock:
        """Lock the billing mode unless it is already locked; returns the lock."""


class ApiTokenStore(abc.ABC):
    """Bearer tokens of the server's API, kept as hashes."""

    @abc.abstractmethod
    def add(
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
    def by_key_id(self, key_id: str) -> ApiToken | None:
        """The token (live or revoked) whose public part is ``key_id``."""

    @abc.abstractmethod
    def by_name(self, name: str) -> ApiToken | None:
        """The live token called ``name``, if any."""

    @abc.abstractmethod
    def all(self, *, include_revoked: bool = False) -> list[ApiToken]:
        """Every live token (and the revoked ones when asked), oldest first."""

    @abc.abstractmethod
    def revoke(self, name: str, at: dt.datetime) -> ApiToken | None:
        """Revoke the live token called ``name``; None when there is none."""

    @abc.abstractmethod
    def touch(self, token_id: int, at: dt.datetime) -> None:
        """Remember when a token was last used."""


class AuditLog(abc.ABC):
    """Who did what to a company, when, from which commit."""

    @abc.abstractmethod
    def add(
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
    def newest(self, company_id: int, limit: int = 50) -> list[AuditEntry]:
        """The company's audit entries, newest first (at most ``limit``)."""
