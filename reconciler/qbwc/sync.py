"""The sync run behind a Web Connector session: a state machine kept in the store.

A run, one request at a time:

1. **start**: the first ``sendRequestXML`` brings QuickBooks' HostQuery,
   CompanyQuery and PreferencesQuery responses. The run negotiates the qbXML
   version (QuickBooks 2015, qbXML 13.0, at least), and refuses a company file
   that is not the configured one (its file name, or the FileID the Web
   Connector stored in it). Without usable host data it asks HostQuery itself.
2. **refresh**: every customer and item (small lists, so that a customer or
   item mapped since is never taken for missing), then the invoices of the
   mapped customers in the billing windows around today, then every invoice
   reconciler created that those did not hold, by TxnID, wherever it moved and
   whatever its date (one QuickBooks no longer has is recorded as deleted);
   iterators followed. The responses become a new snapshot (its fingerprint is
   what ``apply`` compares a plan's with), with its coverage: which invoice
   dates and whose invoices it read, so that a plan tells "not read" from
   "absent". Requests are settled against it: an InvoiceAdd found by its
   ExternalGUID is done (never a duplicate invoice); a modification of an
   invoice now paid or sent is not sent (its plan is stale); a modification
   whose answer was lost is done if QuickBooks reads as it asked, sent again
   if its EditSequence is untouched, else left to a new plan.
3. **verify**: InvoiceAdds whose answer was lost and whose invoice the refresh
   did not find are looked for among every invoice modified since they were
   sent, whatever its customer or date (a person may have moved it since).
4. **apply**: queued requests in plan order, each with its requestID and
   matched to its response. Lock errors (3170-3180) are retried a bounded
   number of times after a pause; 3200 marks the plan stale and nothing more of
   it is sent; other errors go to the status list. The TxnID of every invoice
   added is recorded with its ExternalGUID.
5. **refresh** again when anything changed, so that planning again is empty.

Every transition is written to the session's state in the store within the
call's transaction, before the Web Connector gets its answer. Reading a
response (the slow part) happens before the transaction (:meth:`SyncRun.prepare`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import ntpath
import re
from dataclasses import dataclass, field, fields
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from reconciler.base.clock import Clock
from reconciler.base.xmlsafe import XMLInputError, parse_xml
from reconciler.engine.coverage import Coverage
from reconciler.engine.period import invoice_day_after, invoice_day_on_or_before
from reconciler.model.config import UnsentInvoices
from reconciler.model.quickbooks import (
    CompanyInfo,
    Customer,
    HostInfo,
    Invoice,
    QBState,
    TxnHeader,
    canonical_guid,
)
from reconciler.plan.profile import Profile
from reconciler.qbwc.outcome import Outcome, modification_outcome
from reconciler.qbwc.service import DONE, NO_OP, CallRefused, SendRequest
from reconciler.qbxml.parse import (
    QbxmlParseError,
    Response,
    parse_response,
    parse_state,
    read_fields,
)
from reconciler.qbxml.queries import (
    CompanyQuery,
    CustomerQuery,
    HostQuery,
    InvoiceQuery,
    ItemQuery,
    Query,
)
from reconciler.qbxml.queries import Iterator as IteratorMode
from reconciler.qbxml.render import render_document, render_request
from reconciler.qbxml.status import Action, Severity, Status
from reconciler.qbxml.version import (
    MIN_VERSION,
    UnsupportedQuickBooks,
    negotiate_version,
    version_key,
)
from reconciler.store import Store
from reconciler.store.records import (
    CompanyRecord,
    CreatedInvoice,
    NewStatusError,
    QueuedRequest,
    RequestState,
    ResponseRecord,
    SessionRecord,
)

log = logging.getLogger("reconciler.qbwc")

# The request processor's HRESULT for a request it could not parse: nothing
# reached the company file.
PARSE_ERROR_HRESULT = "0x80040400"
STATUS_HINT = "run `reconcile status`"


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


class Phase:
    """The steps of a run, as :attr:`RunState.phase` records them."""

    START = "start"
    HOST = "host"
    REFRESH = "refresh"
    VERIFY = "verify"
    APPLY = "apply"
    DONE = "done"
    FAILED = "failed"


# The refresh, step by step.
CUSTOMERS, ITEMS, INVOICES, CREATED = "customers", "items", "invoices", "created"
REFRESH_STEPS = (CUSTOMERS, ITEMS, INVOICES, CREATED)
# QuickBooks' status for a ListID or TxnID it does not have.
OBJECT_NOT_FOUND = 3120
# Invoices modified since this long before a lost InvoiceAdd was sent are looked
# through for it: QuickBooks' clock may differ from the server's.
LOOKUP_MARGIN = dt.timedelta(days=1)


@dataclass
class RunState:
    """What a run remembers between calls (JSON in the session row)."""

    phase: str = Phase.START
    version: str | None = None
    after_changes: bool = False  # the refresh running is the one after changes
    step: int = 0
    iterator_id: str | None = None
    iterator_remaining: int | None = None
    # ListIDs of the mapped customers QuickBooks has: whose invoices are read.
    customer_ids: list[str] = field(default_factory=list)
    invoice_dates: list[str] | None = None  # the invoice dates read (first, last; ISO)
    # TxnIDs of created invoices still to read by TxnID (None: not worked out yet),
    # and whether to ask one at a time (to find which of a batch is gone).
    created_pending: list[str] | None = None
    created_single: bool = False
    lookup_from: str | None = None  # lost InvoiceAdds: modified since (ISO date)
    pending: dict[str, Any] | None = None  # the request awaiting its response
    pause: bool = False  # answer the next sendRequestXML with NoOp (lock retry)
    saves: int = 0  # bumped at every save: what a prepared response was read against
    query_seq: int = 0
    done_steps: int = 0
    applied: int = 0
    errors: int = 0
    changed: bool = False
    items_changed: bool = False
    snapshot_version: int | None = None
    error: str | None = None  # what getLastError shows

    @classmethod
    def load(cls, data: dict[str, Any]) -> RunState:
        """The state a session row holds; a fresh one when it holds none."""
        return cls(**data) if data else cls()

    def dump(self) -> dict[str, Any]:
        """The state as a session row keeps it (JSON-ready)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Refreshed:
    """A complete refresh, read for settling: its documents, the TxnID of each
    invoice by ExternalGUID, and (when a request's answer was lost) the whole state."""

    documents: list[str]
    guids: dict[str, str]
    state: QBState | None


@dataclass(frozen=True)
class WriteAnswer:
    """QuickBooks' answer to one write: its status and what it wrote."""

    status: Status
    object_id: str | None  # TxnID or ListID of the object written
    raw: str  # the response element, as the store keeps it


@dataclass(frozen=True)
class Prepared:
    """A response read outside the store transaction, for the state it was read against."""

    saves: int
    responses: list[Response] | None
    problem: str | None = None  # why the response could not be read
    refreshed: Refreshed | None = None  # when this response completes a refresh
    writes: dict[str, WriteAnswer] | None = None  # answers to writes, by requestID


class RunFailed(Exception):
    """Ends the run: the message goes to getLastError, the errors to the status list (one
    saying the message and what to do when none is given: every error a run counts is
    listed)."""

    def __init__(self, message: str, *errors: NewStatusError) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


def _same_file(open_file: str, configured: str) -> bool:
    """Whether QuickBooks' open file is the configured one (by file name)."""
    return ntpath.basename(open_file).casefold() == ntpath.basename(configured).casefold()


_VERSION_PI = re.compile(r'<\?qbxml\s+version\s*=\s*"([0-9.]+)"\s*\?>')


class SyncRun:
    """The sync run of every session, persisted in the store."""

    def __init__(self, store: Store, clock: Clock, *, limits: RunLimits | None = None) -> None:
        self.store = store
        self.clock = clock
        self.limits = limits or RunLimits()

    # ------------------------------------------------------------- sign-in

    def has_work(self, company: CompanyRecord, now: dt.datetime) -> bool:
        """Whether a session now would do anything: a profile is recorded, and the snapshot is
        missing, older than ``refresh_every``, outdated or read for other customers, or
        requests are due."""
        profile = Profile.from_dict(company.profile)
        if profile is None:
            return False
        snapshot = self.store.snapshots.latest(company.id)
        if snapshot is None or now - snapshot.taken_at >= self.limits.refresh_every:
            return True
        coverage = Coverage.from_dict(snapshot.coverage)
        if coverage is not None and coverage.mapped_customers != _mapped(profile):
            return True  # customers mapped since are read at the next run
        if company.snapshot_outdated:
            return True  # requests went out and no run has read QuickBooks since
        return self.store.queue.has_due(company.id, now)

    def start(self, company: CompanyRecord, session: SessionRecord, now: dt.datetime) -> None:
        """Start a session's run from scratch; failed requests, and held ones now due, are
        queued again."""
        released = self.store.queue.release_due(company.id, now)
        if released:
            log.info("%s: %d request(s) due", company.name, released)
        self._save(session, RunState())

    # -------------------------------------------------------- the exchange

    def next_request(self, session: SessionRecord, call: SendRequest, now: dt.datetime) -> str:
        """The next qbXML document, or "" when the run is over, failed, or pauses after a lock
        error (getLastError then says which: the summary, the failure, or NoOp)."""
        state = RunState.load(session.state)
        if state.pause:
            # After a lock error "NoOp" makes the Web Connector wait, then ask again.
            state.pause = False
            state.error = NO_OP
            self._save(session, state)
            return ""
        try:
            if state.phase == Phase.START:
                self._begin(session, state, call)
            self._advance(session, state, now, None)
            document = self._request(session, state, now)
        except RunFailed as failure:
            self._fail(session, state, failure, now)
            return ""
        if not document:
            state.error = self._summary(state)
        self._save(session, state)
        return document

    def prepare(self, session: SessionRecord, response: str) -> Prepared | None:
        """Read a response; when it completes a refresh with requests to settle, the
        whole state too (reads only: called outside the store transaction).

        None when it cannot tell: :meth:`take_response` then reads it itself,
        and reports what is wrong.
        """
        try:
            return self._prepare(session, response)
        except RunFailed:
            return None

    def _prepare(self, session: SessionRecord, response: str) -> Prepared:
        state = RunState.load(session.state)
        pending = state.pending or {}
        if pending.get("kind") == "write":
            try:
                return Prepared(state.saves, [], writes=_write_answers(response))
            except XMLInputError as exc:
                return Prepared(state.saves, None, problem=str(exc))
        try:
            responses = parse_response(response)
        except QbxmlParseError as exc:
            return Prepared(state.saves, None, problem=str(exc))
        refreshed = None
        if (
            pending.get("kind") == "refresh"
            and not state.after_changes
            and self._completes_refresh(session, state, responses)
            and self._to_settle(session.company_id)
        ):
            documents = [*self.store.sessions.documents(session.id), response]
            # A state that cannot be read is said, and recorded, within the transaction.
            with contextlib.suppress(RunFailed):
                refreshed = self._read_for_settling(session.company_id, documents)
        return Prepared(state.saves, responses, refreshed=refreshed)

    def take_response(
        self,
        session: SessionRecord,
        response: str,
        hresult: str,
        message: str,
        now: dt.datetime,
        prepared: object = None,
    ) -> int:
        """Consume a response (and what :meth:`prepare` made of it, unless a save came between).

        The percentage done (100 only when nothing remains), or -1 when the run failed.
        """
        state = RunState.load(session.state)
        pending, state.pending = state.pending, None
        if pending is None:
            # Not the Web Connector's doing (it answers only what it was sent): the run
            # goes on as if the call had not come.
            raise CallRefused("a response that no request of this run asked for")
        try:
            if hresult:
                self._request_processor_error(pending, hresult, message, now)
            if not isinstance(prepared, Prepared) or prepared.saves != state.saves:
                prepared = self._prepare(session, response)
            if pending["kind"] == "write":
                self._written_batch(session, state, pending, prepared, now)
            else:
                answers = self._matching(prepared, pending)
                self._consume(session, state, pending, answers, response, now)
            self._advance(session, state, now, prepared.refreshed)
        except RunFailed as failure:
            self._fail(session, state, failure, now)
            return -1
        self._save(session, state)
        return self._progress(session, state)

    def connection_error(
        self, session: SessionRecord, hresult: str, message: str, now: dt.datetime
    ) -> str:
        """Record why the Web Connector could not open QuickBooks and end the run: always
        ``done`` (no other company file to try)."""
        state = RunState.load(session.state)
        company = self.store.companies.get(session.company_id)
        failure = RunFailed(
            f"The Web Connector could not open QuickBooks ({hresult}: {message}).",
            NewStatusError(
                object=f"company file {company.company_file or '(the open one)'}",
                code=hresult or "connection",
                message=message,
                what_to_do="Start QuickBooks with the company file open (or allow unattended "
                "access for reconciler in Integrated Applications), then click Update Selected.",
            ),
        )
        self._fail(session, state, failure, now)
        return DONE

    def last_error(self, session: SessionRecord) -> str:
        """What the run last said for getLastError (its failure, its summary, or NoOp); a
        pointer to ``reconcile status`` when it said nothing."""
        state = RunState.load(session.state)
        return state.error or f"No error recorded; {STATUS_HINT}."

    def close(self, session: SessionRecord, now: dt.datetime) -> str:
        """The summary the Web Connector shows at the end of the run (the service closes the
        session in the store)."""
        return self._summary(RunState.load(session.state))

    # ----------------------------------------------------------- the start

    def _begin(self, session: SessionRecord, state: RunState, call: SendRequest) -> None:
        profile = self._profile(session.company_id)
        if (
            profile.company_file
            and call.company_file
            and not _same_file(call.company_file, profile.company_file)
        ):
            raise RunFailed(
                f"QuickBooks has {ntpath.basename(call.company_file)} open, not "
                f"{ntpath.basename(profile.company_file)}: nothing was read or written.",
                NewStatusError(
                    object=f"company file {call.company_file}",
                    code="wrong-company-file",
                    message=f"the open company file is not {profile.company_file}",
                    what_to_do=f"Open {profile.company_file} in QuickBooks and click Update "
                    "Selected (or correct company.file in billing.yaml).",
                ),
            )
        responses = _host_responses(call.hcp_response)
        if responses is None:
            state.phase = Phase.HOST
            return
        self._check_host(session, state, responses, call.hcp_response)

    def _check_host(
        self, session: SessionRecord, state: RunState, responses: list[Response], document: str
    ) -> None:
        host = next(o for r in responses for o in r.objects if isinstance(o, HostInfo))
        info = next((o for r in responses for o in r.objects if isinstance(o, CompanyInfo)), None)
        try:
            state.version = negotiate_version(host)
        except UnsupportedQuickBooks as exc:
            raise RunFailed(
                f"QuickBooks 2015 or newer is required; this is {host.product_name}.",
                NewStatusError(
                    object=host.product_name or "QuickBooks",
                    code="unsupported-quickbooks",
                    message=exc.message,
                    what_to_do="Update QuickBooks Desktop to 2015 or newer.",
                ),
            ) from None
        if info is not None:
            self._check_file_id(session.company_id, info)
        self.store.sessions.add_document(session.id, "host", document)
        state.phase = Phase.REFRESH
        state.step = 0

    def _check_file_id(self, company_id: int, info: CompanyInfo) -> None:
        """Refuse a company file the Web Connector registered under another FileID."""
        owner = canonical_guid(self.store.installation.app_identity().owner_id)
        file_id = self.store.companies.get(company_id).file_id
        for ext in info.data_ext:
            if canonical_guid(ext.owner_id) != owner or ext.name != "FileID":
                continue
            if canonical_guid(ext.value) != canonical_guid(file_id):
                raise RunFailed(
                    "This company file was registered with another reconciler QWC file "
                    "(its FileID differs): nothing was read or written.",
                    NewStatusError(
                        object=f"company {info.company_name or '(unnamed)'}",
                        code="wrong-file-id",
                        message=f"FileID {ext.value} is not {file_id}",
                        what_to_do="Open the configured company file, or run `reconcile qwc` "
                        "for this one and add the new QWC file.",
                    ),
                )

    # ------------------------------------------------------------ the flow

    def _advance(
        self,
        session: SessionRecord,
        state: RunState,
        now: dt.datetime,
        refreshed: Refreshed | None,
    ) -> None:
        """Move past whatever has nothing (more) to do, up to the next request to send."""
        company_id = session.company_id
        while True:
            if state.phase == Phase.REFRESH:
                while state.step < len(REFRESH_STEPS) and not self._step_needed(session, state):
                    state.step += 1
                if state.step < len(REFRESH_STEPS):
                    return
                self._take_snapshot(session, state, now, refreshed)
                state.phase = Phase.DONE if state.after_changes else Phase.VERIFY
            elif state.phase == Phase.VERIFY:
                if self._lost_adds(company_id):
                    return
                state.phase = Phase.APPLY
            elif state.phase == Phase.APPLY:
                if state.pause or self._next_to_send(session, state, now) is not None:
                    return
                if not state.changed:
                    state.phase = Phase.DONE
                    return
                self._refresh_after_changes(session, state)
            else:
                return

    def _refresh_after_changes(self, session: SessionRecord, state: RunState) -> None:
        """Read again what the run changed: invoices, and items if their costs changed.

        Customers are never written, so the documents read at the start (and the
        mapped customers found in them) stand.
        """
        state.phase = Phase.REFRESH
        state.after_changes = True
        state.step = REFRESH_STEPS.index(ITEMS if state.items_changed else INVOICES)
        state.created_pending = None
        state.created_single = False
        keep = ("host", CUSTOMERS) if state.items_changed else ("host", CUSTOMERS, ITEMS)
        self.store.sessions.clear_documents(session.id, keep=keep)

    def _to_settle(self, company_id: int) -> bool:
        """Whether a fresh snapshot has requests to settle (see :meth:`_settle`)."""
        return self.store.queue.count(company_id, [RequestState.SENT, RequestState.QUEUED]) > 0

    def _completes_refresh(
        self, session: SessionRecord, state: RunState, responses: list[Response]
    ) -> bool:
        """Whether this response to a refresh query is the refresh's last one (when in
        doubt, no: the snapshot then reads the state within the transaction)."""
        if state.phase != Phase.REFRESH or not responses:
            return False
        answer = responses[0]
        if answer.iterator_remaining_count and answer.iterator_id:
            return False
        step = REFRESH_STEPS[state.step]
        if step == CREATED:
            return answer.status.code != OBJECT_NOT_FOUND and len(
                state.created_pending or []
            ) <= len(self._created_batch(state))
        return step == INVOICES and not any(
            c.deleted_at is None
            for c in self.store.created_invoices.for_company(session.company_id)
        )

    def _step_needed(self, session: SessionRecord, state: RunState) -> bool:
        """Whether the refresh step ``state.step`` has anything to read."""
        step = REFRESH_STEPS[state.step]
        if step == INVOICES:
            return bool(state.customer_ids)  # an empty filter would read every invoice
        if step == CREATED:
            if state.created_pending is None:
                state.created_pending = self._created_to_read(session)
            return bool(state.created_pending)
        return True

    def _created_to_read(
        self, session: SessionRecord, last_page: set[str] | None = None
    ) -> list[str]:
        """The TxnIDs of the created invoices QuickBooks still has that this refresh has
        not read with the customers' invoices (``last_page``: the TxnIDs of the invoice
        page stored last, when they are known already)."""
        created = self.store.created_invoices.for_company(session.company_id)
        alive = [c.txn_id for c in created if c.deleted_at is None]
        if not alive:
            return []  # nothing to look for: the documents need not be read again
        documents = self.store.sessions.documents(session.id, INVOICES)
        if last_page is not None:
            documents = documents[:-1]
        read = _invoice_txn_ids(documents) | (last_page or set())
        return [txn_id for txn_id in alive if txn_id not in read]

    def _created_batch(self, state: RunState) -> list[str]:
        """The TxnIDs the next created-invoices query asks for."""
        size = 1 if state.created_single else self.limits.created_batch
        return (state.created_pending or [])[:size]

    def _lost_adds(self, company_id: int) -> list[QueuedRequest]:
        """InvoiceAdds whose answer was lost and that the refresh did not settle."""
        return [r for r in self.store.queue.awaiting_outcome(company_id) if r.external_guid]

    def _next_to_send(
        self, session: SessionRecord, state: RunState, now: dt.datetime
    ) -> QueuedRequest | None:
        """The next queued request fit to send; settles those that must not go."""
        while requests := self.store.queue.next(session.company_id):
            request = requests[0]
            rendered = _version_of(request.qbxml)
            if rendered and state.version and version_key(rendered) > version_key(state.version):
                self.store.queue.finish(request.id, RequestState.STALE, now, None)
                self._stale(
                    state,
                    request,
                    f"the plan was rendered for qbXML {rendered} and this QuickBooks "
                    f"speaks {state.version}",
                    now,
                )
                continue
            return request
        return None

    # ------------------------------------------------------------ requests

    def _request(self, session: SessionRecord, state: RunState, now: dt.datetime) -> str:
        """The document for the current phase ("" when done); sets what is pending."""
        if state.phase == Phase.HOST:
            return self._query_document(
                session, state, [HostQuery(), CompanyQuery()], kind="host", version=MIN_VERSION
            )
        if state.phase == Phase.REFRESH:
            query = self._refresh_query(session.company_id, state, now)
            document = self._query_document(session, state, [query], kind="refresh")
            if isinstance(query, InvoiceQuery) and query.txn_ids:
                assert state.pending is not None
                state.pending["txn_ids"] = list(query.txn_ids)
            return document
        if state.phase == Phase.VERIFY:
            lookup = self._lookup(session, state, now)
            return self._query_document(session, state, [lookup], kind="verify")
        if state.phase == Phase.APPLY:
            batch = self._batch(session.company_id)
            # From here the snapshot may no longer be what QuickBooks holds: plans
            # made from it are refused until a run has read QuickBooks again.
            self.store.snapshots.mark_outdated(session.company_id)
            self.store.queue.mark_all_sent([r.id for r in batch], session_id=session.id, at=now)
            for request in batch:
                log.info("sending %s (%s)", request.label, request.request_id)
            state.pending = {
                "kind": "write",
                "request_ids": [r.request_id for r in batch],
                "queue_ids": [r.id for r in batch],
            }
            if len(batch) == 1:
                return batch[0].qbxml  # exactly the document the plan holds
            version = _version_of(batch[0].qbxml)
            assert version is not None
            # Each element comes from a queued document: rendered by render_document, and
            # checked by the apply guard to hold exactly one request element.
            return render_document(
                [_request_element(r.qbxml) for r in batch],
                version=version,
                on_error="stopOnError",
                checked=True,
            )
        return ""

    def _batch(self, company_id: int) -> list[QueuedRequest]:
        """The next queued requests that can share a document: same qbXML version, and
        distinct requestIDs (responses are matched by them)."""
        candidates = self.store.queue.next(company_id, self.limits.batch_size)
        version = _version_of(candidates[0].qbxml)
        batch: list[QueuedRequest] = []
        for request in candidates:
            if _version_of(request.qbxml) != version or any(
                r.request_id == request.request_id for r in batch
            ):
                break
            batch.append(request)
        return batch

    def _query_document(
        self,
        session: SessionRecord,
        state: RunState,
        queries: list[Query],
        *,
        kind: str,
        version: str | None = None,
    ) -> str:
        speak = version or state.version
        assert speak is not None
        elements, ids = [], []
        for query in queries:
            state.query_seq += 1
            ids.append(f"q{session.id}-{state.query_seq}")
            elements.append(render_request(query, version=speak, request_id=ids[-1]))
        state.pending = {"kind": kind, "request_ids": ids}
        return render_document(elements, version=speak, on_error="continueOnError", checked=True)

    def _refresh_query(self, company_id: int, state: RunState, now: dt.datetime) -> Query:
        step = REFRESH_STEPS[state.step]
        iterator: IteratorMode = "Continue" if state.iterator_id else "Start"
        if step == CUSTOMERS:
            return CustomerQuery(
                max_returned=self.limits.list_page, iterator=iterator, iterator_id=state.iterator_id
            )
        if step == ITEMS:
            return ItemQuery(
                max_returned=self.limits.list_page, iterator=iterator, iterator_id=state.iterator_id
            )
        if step == CREATED:
            return InvoiceQuery(txn_ids=tuple(self._created_batch(state)))
        if state.invoice_dates is None or not state.iterator_id:
            first, last = refresh_window(self._profile(company_id), now)
            state.invoice_dates = [first.isoformat(), last.isoformat()]
        first, last = (dt.date.fromisoformat(day) for day in state.invoice_dates)
        return InvoiceQuery(
            customer_list_ids=tuple(state.customer_ids),
            txn_date_from=first,
            txn_date_to=last,
            include_line_items=True,
            include_linked_txns=True,
            max_returned=self.limits.invoice_page,
            iterator=iterator,
            iterator_id=state.iterator_id,
        )

    def _lookup(self, session: SessionRecord, state: RunState, now: dt.datetime) -> InvoiceQuery:
        """The query that finds the lost InvoiceAdds' invoices, if QuickBooks saved them:
        every invoice modified since shortly before the first was sent, without a
        customer or date filter (a person may have moved one since)."""
        if state.lookup_from is None or not state.iterator_id:
            sent = [r.sent_at for r in self._lost_adds(session.company_id) if r.sent_at]
            since = min(sent, default=now) - LOOKUP_MARGIN
            state.lookup_from = since.astimezone(dt.UTC).date().isoformat()
        return InvoiceQuery(
            modified_from=dt.date.fromisoformat(state.lookup_from),
            include_line_items=False,
            include_linked_txns=False,
            max_returned=self.limits.invoice_page,
            iterator="Continue" if state.iterator_id else "Start",
            iterator_id=state.iterator_id,
        )

    # ----------------------------------------------------------- responses

    def _matching(self, prepared: Prepared, pending: dict[str, Any]) -> list[Response]:
        """The responses to what was sent, by requestID; RunFailed when one is absent."""
        if prepared.responses is None:
            raise RunFailed(f"QuickBooks' response could not be read: {prepared.problem}")
        by_id = {r.request_id: r for r in prepared.responses}
        matched = [by_id.get(request_id) for request_id in pending["request_ids"]]
        found = [r for r in matched if r is not None]
        if len(found) != len(matched):
            raise RunFailed(
                f"QuickBooks' response does not answer request {pending['request_ids'][0]}."
            )
        return found

    def _consume(
        self,
        session: SessionRecord,
        state: RunState,
        pending: dict[str, Any],
        answers: list[Response],
        document: str,
        now: dt.datetime,
    ) -> None:
        kind = pending["kind"]
        if (
            kind == "refresh"
            and REFRESH_STEPS[state.step] == CREATED
            and answers[0].status.code == OBJECT_NOT_FOUND
        ):
            self._created_not_found(session, state, pending["txn_ids"], answers[0], now)
            return
        for answer in answers:
            if answer.status.severity is Severity.ERROR:
                raise RunFailed(
                    f"QuickBooks refused the {answer.request_type} query "
                    f"({answer.status.code}: {answer.status.message}).",
                    NewStatusError(
                        object=f"{answer.request_type} query",
                        code=str(answer.status.code),
                        message=answer.status.message,
                        what_to_do=answer.status.explanation,
                    ),
                )
        state.done_steps += 1
        if kind == "host":
            if not any(isinstance(o, HostInfo) for a in answers for o in a.objects):
                raise RunFailed("QuickBooks answered HostQuery without saying what it is.")
            self._check_host(session, state, answers, document)
        elif kind == "refresh":
            self._refreshed(session, state, pending, answers[0], document, now)
        else:
            self._verified(session, state, answers[0], now)

    def _refreshed(
        self,
        session: SessionRecord,
        state: RunState,
        pending: dict[str, Any],
        answer: Response,
        document: str,
        now: dt.datetime,
    ) -> None:
        step = REFRESH_STEPS[state.step]
        self.store.sessions.add_document(session.id, step, document)
        if step == CUSTOMERS:
            mapped = _mapped(self._profile(session.company_id))
            state.customer_ids += [
                o.list_id
                for o in answer.objects
                if isinstance(o, Customer) and o.full_name.casefold() in mapped
            ]
        if step == CREATED:
            self._created_read(session, state, pending["txn_ids"], answer, now)
            return
        if not _more_pages(state, answer):
            if step == INVOICES:
                # The last page was just read whole: what it holds need not be read again.
                state.created_pending = self._created_to_read(session, _txn_ids(answer))
            state.step += 1

    def _created_read(
        self,
        session: SessionRecord,
        state: RunState,
        asked: list[str],
        answer: Response,
        now: dt.datetime,
    ) -> None:
        """Created invoices read by TxnID: one asked for and not returned is gone."""
        returned = {o.txn_id for o in answer.objects if isinstance(o, Invoice)}
        for txn_id in asked:
            if txn_id not in returned:
                self._created_gone(session, txn_id, now)
        state.created_pending = (state.created_pending or [])[len(asked) :]
        if not state.created_pending:
            state.step += 1

    def _created_not_found(
        self,
        session: SessionRecord,
        state: RunState,
        asked: list[str],
        answer: Response,
        now: dt.datetime,
    ) -> None:
        """QuickBooks refused a TxnID query (3120): one of the invoices is gone.

        It names the first TxnID it does not have: that one is recorded as
        deleted and the others are asked again. When the message names none of
        them, they are asked one at a time to find it.
        """
        named = [txn_id for txn_id in asked if f'"{txn_id}"' in answer.status.message]
        if not named and len(asked) > 1:
            state.created_single = True
            return
        gone = (named or asked)[0]
        self._created_gone(session, gone, now)
        state.created_pending = [t for t in state.created_pending or [] if t != gone]
        if not state.created_pending:
            state.step += 1

    def _created_gone(self, session: SessionRecord, txn_id: str, now: dt.datetime) -> None:
        log.warning(
            "company %d: invoice %s, which reconciler created, is no longer in QuickBooks",
            session.company_id,
            txn_id,
        )
        self.store.created_invoices.mark_deleted(session.company_id, txn_id, now)

    def _take_snapshot(
        self,
        session: SessionRecord,
        state: RunState,
        now: dt.datetime,
        refreshed: Refreshed | None,
    ) -> None:
        """Store the refresh as a snapshot; settle against it what needs settling.

        Its fingerprint is computed by whoever needs it first (plan, apply), not
        here: a run only needs the state when there is something to settle.
        """
        company_id = session.company_id
        settling = None
        if not state.after_changes and self._to_settle(company_id):
            documents = self.store.sessions.documents(session.id)
            fits = (
                refreshed is not None
                and refreshed.documents == documents
                and (refreshed.state is not None or not self._needs_state(company_id))
            )
            settling = refreshed if fits else self._read_for_settling(company_id, documents)
        assert state.version is not None
        snapshot = self.store.snapshots.save_from_session(
            company_id,
            session.id,
            taken_at=now,
            qbxml_version=state.version,
            coverage=self._coverage(company_id, state, now).to_dict(),
        )
        # The host, customer and item documents open the refresh after the changes.
        if state.after_changes:
            self.store.sessions.clear_documents(session.id)
        state.snapshot_version = snapshot.version
        self.store.errors.resolve_run(company_id, now)
        log.info("company %d: snapshot %d taken", company_id, snapshot.version)
        if settling is not None:
            self._settle(session, state, settling, now)

    def _needs_state(self, company_id: int) -> bool:
        """Whether settling needs the whole state: a request went out and its answer
        never came (a lost response), or an invoice is to be modified (is it still
        open?)."""
        if self.store.queue.count(company_id, [RequestState.SENT]) > 0:
            return True
        return self.store.queue.count(company_id, [RequestState.QUEUED], "InvoiceModRq") > 0

    def _read_for_settling(self, company_id: int, documents: list[str]) -> Refreshed:
        """What settling needs of a refresh: ExternalGUIDs always; the whole state only
        when :meth:`_needs_state` (every document was read whole as it came in)."""
        if self._needs_state(company_id):
            qb_state = _parse_state(documents)
            guids = {
                canonical_guid(i.external_guid): i.txn_id
                for i in qb_state.invoices
                if i.external_guid
            }
            return Refreshed(documents, guids, qb_state)
        return Refreshed(documents, _invoice_guids(documents), None)

    def _coverage(self, company_id: int, state: RunState, now: dt.datetime) -> Coverage:
        """What the refresh read of the invoices, for plans to tell "not read" from "absent"."""
        if state.invoice_dates is None:  # no mapped customer: no invoice query
            first, last = refresh_window(self._profile(company_id), now)
        else:
            first, last = (dt.date.fromisoformat(day) for day in state.invoice_dates)
        return Coverage(
            first=first,
            last=last,
            customer_ids=frozenset(state.customer_ids),
            mapped_customers=_mapped(self._profile(company_id)),
            deleted_guids=frozenset(
                c.external_guid
                for c in self.store.created_invoices.for_company(company_id)
                if c.deleted_at is not None
            ),
        )

    def _settle(
        self, session: SessionRecord, state: RunState, refreshed: Refreshed, now: dt.datetime
    ) -> None:
        """Settle against the fresh snapshot what must not simply be sent (again).

        An add whose invoice QuickBooks holds is done; a sent one it does not
        hold is looked for (verify), wherever its invoice may have moved. A
        modification of an invoice that is now paid or sent is not sent: its
        plan is stale (design invariant 5). A sent modification is done, sent
        again, or left to a new plan, as its outcome says.
        """
        guids, qb_state = refreshed.guids, refreshed.state
        # The whole state is there when an answer was lost or an invoice is to be
        # modified: only then is a request SENT, or an InvoiceMod to be checked.
        invoices = {} if qb_state is None else {i.txn_id: i for i in qb_state.invoices}
        rule = self._profile(session.company_id).unsent_invoices
        stopped: set[int] = set()  # plans that went stale here: the rest of each is not sent
        for request in self.store.queue.requests(
            session.company_id, [RequestState.QUEUED, RequestState.SENT]
        ):
            if request.external_guid:
                txn_id = guids.get(canonical_guid(request.external_guid))
                if txn_id is not None:
                    self._found(session, state, request, "found by its ExternalGUID", now, txn_id)
                continue
            outcome = Outcome.NOT_APPLIED
            if request.state is RequestState.SENT:
                assert qb_state is not None
                outcome = modification_outcome(request.qbxml, qb_state)
            if outcome is Outcome.APPLIED:
                self._found(
                    session,
                    state,
                    request,
                    "found applied in QuickBooks; its answer had been lost",
                    now,
                )
                continue
            if request.plan_id in stopped:
                self.store.queue.finish(request.id, RequestState.STALE, now, None)
                continue
            why = (
                "its answer was lost, and QuickBooks shows it changed otherwise since"
                if outcome is Outcome.CHANGED
                else _untouchable(request, invoices, rule)
            )
            if why is not None:
                self.store.queue.finish(request.id, RequestState.STALE, now, None)
                self._stale(state, request, why, now)
                stopped.add(request.plan_id)
            elif request.state is RequestState.SENT:
                log.info("%s did not go through: queued again", request.label)
                self.store.queue.requeue(request.id, now)

    def _verified(
        self, session: SessionRecord, state: RunState, answer: Response, now: dt.datetime
    ) -> None:
        """A page of the invoices modified since the lost adds went out: those found by
        their ExternalGUID are done; once every page is read, the others are sent again."""
        found = {
            canonical_guid(o.external_guid): o.txn_id
            for o in answer.objects
            if isinstance(o, Invoice) and o.external_guid
        }
        for request in self._lost_adds(session.company_id):
            txn_id = found.get(canonical_guid(request.external_guid))
            if txn_id is not None:
                self._found(session, state, request, "found by its ExternalGUID", now, txn_id)
                # The snapshot did not hold it (that is why it was looked for): the run
                # reads QuickBooks again before it ends.
                state.changed = True
        if _more_pages(state, answer):
            return
        state.lookup_from = None
        for request in self._lost_adds(session.company_id):
            log.info("%s was not added before: queued again", request.label)
            self.store.queue.requeue(request.id, now)

    def _found(
        self,
        session: SessionRecord,
        state: RunState,
        request: QueuedRequest,
        how: str,
        now: dt.datetime,
        txn_id: str | None = None,
    ) -> None:
        """A request QuickBooks already reflects: done, and not sent (again)."""
        log.info("%s: %s", request.label, how)
        if txn_id is not None:
            self._remember_created(request, txn_id, now)
        self.store.queue.finish(
            request.id,
            RequestState.DONE,
            now,
            ResponseRecord(
                request_id=request.id,
                session_id=session.id,
                received_at=now,
                status_code=0,
                status_severity="Info",
                status_message=f"{how}; not sent again",
                txn_id=txn_id,
            ),
        )
        self.store.errors.resolve_request(session.company_id, request.id, now)
        state.applied += 1

    def _written_batch(
        self,
        session: SessionRecord,
        state: RunState,
        pending: dict[str, Any],
        prepared: Prepared,
        now: dt.datetime,
    ) -> None:
        """The responses to a document of writes, each matched by its requestID."""
        if prepared.writes is None:
            raise RunFailed(f"QuickBooks' response could not be read: {prepared.problem}")
        answers = prepared.writes
        sent = list(zip(pending["queue_ids"], pending["request_ids"], strict=True))
        answered = [(q, answers[r]) for q, r in sent if r in answers]
        missing = [q for q, r in sent if r not in answers]
        stopped = any(a.status.severity is Severity.ERROR for _, a in answered)
        if missing and stopped:
            # QuickBooks stopped at an error: it never processed the rest.
            for queue_id in missing:
                self.store.queue.requeue(queue_id, now, unsent=True)
        # The batch's requests in one read: they are the company's sent ones.
        sent_requests = {r.id: r for r in self.store.queue.awaiting_outcome(session.company_id)}
        done: list[tuple[int, ResponseRecord | None]] = []
        created: list[CreatedInvoice] = []
        for queue_id, answer in answered:
            request = sent_requests.get(queue_id) or self.store.queue.get(queue_id)
            if answer.status.action is not Action.NONE:
                # Recorded in the order QuickBooks answered: what went through first.
                self.store.queue.finish_all(done, RequestState.DONE, now)
                done = []
            self._written(session, state, request, answer, now, done, created)
        self.store.queue.finish_all(done, RequestState.DONE, now)
        if created:
            self.store.created_invoices.record(session.company_id, created, now)
        if missing and not stopped:
            # Left sent: the next run settles them against what QuickBooks holds.
            raise RunFailed(
                f"QuickBooks' response does not answer request {pending['request_ids'][0]}."
            )

    def _written(
        self,
        session: SessionRecord,
        state: RunState,
        request: QueuedRequest,
        answer: WriteAnswer,
        now: dt.datetime,
        done: list[tuple[int, ResponseRecord | None]],
        created: list[CreatedInvoice],
    ) -> None:
        """Record QuickBooks' answer to one write; one that went through joins ``done``
        (its request and response, recorded with the others of the batch), and the
        invoice an InvoiceAdd created joins ``created``."""
        status = answer.status
        record = ResponseRecord(
            request_id=request.id,
            session_id=session.id,
            received_at=now,
            status_code=status.code,
            status_severity=status.severity.value,
            status_message=status.message,
            txn_id=answer.object_id,
            document=answer.raw,
        )
        state.done_steps += 1
        if status.action is Action.NONE:
            done.append((request.id, record))
            invoice = None if answer.object_id is None else _created(request, answer.object_id)
            if invoice is not None:
                created.append(invoice)
            if request.attempts > 1:  # only a request sent before can have errors
                self.store.errors.resolve_request(session.company_id, request.id, now)
            state.applied += 1
            state.changed = True
            state.items_changed = state.items_changed or request.kind.startswith("Item")
            return
        if status.action is Action.RETRY and request.attempts < self.limits.lock_attempts:
            log.info("%s: %s; sent again after a pause", request.label, status.message)
            self.store.queue.finish(request.id, RequestState.QUEUED, now, record)
            state.pause = True
            return
        if status.action is Action.REPLAN:
            self.store.queue.finish(request.id, RequestState.STALE, now, record)
            self._stale(state, request, f"{status.code}: {status.message}", now)
            return
        self.store.queue.finish(request.id, RequestState.FAILED, now, record)
        what = status.explanation
        if status.action is Action.RETRY:
            what = (
                f"Still locked after {request.attempts} tries: close the record in QuickBooks "
                "(another user may be editing it); the next run tries again."
            )
        self._error(
            state,
            session.company_id,
            NewStatusError(
                object=request.label,
                code=str(status.code),
                message=status.message,
                what_to_do=what,
                request_id=request.id,
                plan_id=request.plan_id,
            ),
            now,
        )

    def _remember_created(self, request: QueuedRequest, txn_id: str, now: dt.datetime) -> None:
        """Record the TxnID of an invoice an InvoiceAdd created: every refresh reads it."""
        invoice = _created(request, txn_id)
        if invoice is not None:
            self.store.created_invoices.record(request.company_id, [invoice], now)

    def _error(
        self, state: RunState, company_id: int, error: NewStatusError, now: dt.datetime
    ) -> None:
        """Count an error of this run and list it: what the run says and the status list
        agree."""
        self.store.errors.record(company_id, error, now)
        state.errors += 1

    def _stale(
        self, state: RunState, request: QueuedRequest, reason: str, now: dt.datetime
    ) -> None:
        stopped = self.store.plans.mark_stale(request.plan_id, reason, now)
        log.warning(
            "plan %d is stale (%s): %d request(s) not sent", request.plan_id, reason, stopped
        )
        self._error(
            state,
            request.company_id,
            NewStatusError(
                object=request.label,
                code=reason.split(":", 1)[0] if reason[:1].isdigit() else "stale-plan",
                message=reason,
                what_to_do="QuickBooks changed since the plan was made, so the rest of the plan "
                "was not sent. Run `reconcile plan` and apply the new plan.",
                request_id=request.id,
                plan_id=request.plan_id,
            ),
            now,
        )

    def _request_processor_error(
        self, pending: dict[str, Any], hresult: str, message: str, now: dt.datetime
    ) -> None:
        """QuickBooks' request processor refused the request (no qbXML response)."""
        what = "Check that QuickBooks is running and shows no dialog, then click Update Selected."
        if pending["kind"] != "write":
            raise RunFailed(
                f"QuickBooks could not process a query ({hresult}: {message}).",
                NewStatusError("QuickBooks request processor", hresult, message, what),
            )
        requests = [self.store.queue.get(q) for q in pending["queue_ids"]]
        errors = []
        if hresult.lower() == PARSE_ERROR_HRESULT:
            # QuickBooks could not read the document, so nothing was written.
            what = (
                "QuickBooks could not read the request: a bug in reconciler; please report it "
                "with the output of `reconcile status`."
            )
        for request in requests:
            if hresult.lower() == PARSE_ERROR_HRESULT:
                self.store.queue.finish(request.id, RequestState.FAILED, now, None)
            # Otherwise the outcome is unknown: the request stays sent, and the next
            # run settles it against what QuickBooks then holds.
            errors.append(
                NewStatusError(request.label, hresult, message, what, request.id, request.plan_id)
            )
        raise RunFailed(
            f"QuickBooks could not process {requests[0].label} ({hresult}: {message}).", *errors
        )

    # ------------------------------------------------------------- helpers

    def _progress(self, session: SessionRecord, state: RunState) -> int:
        """Percent done: 100 only when nothing remains, never 100 before."""
        if state.phase == Phase.DONE:
            return 100
        remaining = 0
        if state.phase in {Phase.HOST, Phase.REFRESH}:
            remaining += len(REFRESH_STEPS) - state.step
            if state.iterator_remaining:
                remaining += -(-state.iterator_remaining // self.limits.invoice_page)
        writes = self.store.queue.count(
            session.company_id, [RequestState.QUEUED, RequestState.SENT]
        )
        remaining += writes
        if writes or (state.changed and not state.after_changes):
            remaining += len(REFRESH_STEPS)  # the refresh after the changes
        done = state.done_steps
        return max(1, min(99, done * 100 // max(1, done + remaining)))

    def _profile(self, company_id: int) -> Profile:
        profile = Profile.from_dict(self.store.companies.get(company_id).profile)
        if profile is None:
            raise RunFailed("There is no configuration for this company yet: run `reconcile qwc`.")
        return profile

    def _save(self, session: SessionRecord, state: RunState) -> None:
        state.saves += 1
        self.store.sessions.update(
            session.id, state=state.dump(), applied=state.applied, errors=state.errors
        )

    def _fail(
        self, session: SessionRecord, state: RunState, failure: RunFailed, now: dt.datetime
    ) -> None:
        log.warning("company %d: run stopped: %s", session.company_id, failure.message)
        for error in failure.errors or (_run_error(failure.message),):
            self._error(state, session.company_id, error, now)
        state.phase = Phase.FAILED
        state.pending = None
        state.error = f"{failure.message} Details: {STATUS_HINT}."
        self._save(session, state)

    @staticmethod
    def _summary(state: RunState) -> str:
        """The short text the Web Connector shows at the end of the run."""
        if state.phase == Phase.FAILED and state.error:
            return state.error
        applied = f"Applied {state.applied} change{'s' if state.applied != 1 else ''}"
        if state.errors:
            return (
                f"{applied}, {state.errors} error{'s' if state.errors != 1 else ''}: {STATUS_HINT}"
            )
        if state.applied:
            return f"{applied}; QuickBooks read again (snapshot {state.snapshot_version})."
        if state.snapshot_version is not None:
            return f"QuickBooks read (snapshot {state.snapshot_version}); nothing to apply."
        return "OK"


def _version_of(qbxml: str) -> str | None:
    """The qbXML version a request document declares."""
    found = _VERSION_PI.search(qbxml)
    return found.group(1) if found else None


def _request_element(qbxml: str) -> str:
    """The one request element of a queued document, to share a document with others."""
    start = qbxml.index(">", qbxml.index("<QBXMLMsgsRq")) + 1
    return qbxml[start : qbxml.rindex("</QBXMLMsgsRq>")].strip()


def _write_answers(document: str) -> dict[str, WriteAnswer]:
    """Each write's status and written object, by requestID.

    Writes are read for their status and the ID of what they wrote, nothing
    more: the refresh after the changes reads the objects themselves.
    """
    root = parse_xml(document, source="response")
    messages = root.find("QBXMLMsgsRs")
    answers = {}
    for rs in [] if messages is None else messages:
        if not isinstance(rs.tag, str):
            continue
        try:
            code = int(rs.get("statusCode", ""))
        except ValueError:
            raise XMLInputError(f"response: {rs.tag} has no valid statusCode") from None
        ret = next((child for child in rs if isinstance(child.tag, str)), None)
        object_id = None if ret is None else (ret.findtext("TxnID") or ret.findtext("ListID"))
        answers[rs.get("requestID", "")] = WriteAnswer(
            Status.from_code(code, rs.get("statusMessage", "")),
            object_id,
            etree.tostring(rs, encoding="unicode"),
        )
    return answers


def _created(request: QueuedRequest, txn_id: str) -> CreatedInvoice | None:
    """The invoice an InvoiceAdd created, as the store remembers it (None for other writes)."""
    if request.kind != "InvoiceAddRq" or not request.external_guid:
        return None
    return CreatedInvoice(
        external_guid=request.external_guid,
        txn_id=txn_id,
        customer=request.lookup.get("customer"),
        txn_date=request.lookup.get("txn_date"),
        request_id=request.id,
    )


def _invoice_guids(documents: list[str]) -> dict[str, str]:
    """The TxnID of every invoice the documents hold, by its ExternalGUID."""
    try:
        return {
            canonical_guid(guid): txn_id
            for document in documents
            if "<InvoiceRet" in document  # the customers' and items' documents hold none
            for txn_id, guid in read_fields(document, "InvoiceRet", ("TxnID", "ExternalGUID"))
            if guid and txn_id
        }
    except QbxmlParseError as exc:
        raise _incomplete(exc) from None


def _parse_state(documents: list[str]) -> QBState:
    try:
        return parse_state(d.encode("utf-8") for d in documents)
    except QbxmlParseError as exc:
        raise _incomplete(exc) from None


def _run_error(message: str) -> NewStatusError:
    """The status error of a run that stopped for a reason no request or object holds."""
    return NewStatusError(
        object="Web Connector run",
        code="run-stopped",
        message=message,
        what_to_do="Click Update Selected to run again. If it stops the same way, send the "
        "server log and the output of `reconcile status` to whoever supports reconciler.",
    )


def _incomplete(exc: QbxmlParseError) -> RunFailed:
    return RunFailed(
        f"The QuickBooks state read in this run is incomplete: {exc}",
        NewStatusError(
            object="QuickBooks state",
            code="incomplete-state",
            message=str(exc),
            what_to_do="Click Update Selected to read QuickBooks again.",
        ),
    )


def _host_responses(text: str) -> list[Response] | None:
    """The Web Connector's HostQuery/CompanyQuery responses, when usable."""
    if not text.strip():
        return None
    try:
        responses = parse_response(text)
    except QbxmlParseError as exc:
        log.warning("unusable HostQuery response from the Web Connector (%s): asking again", exc)
        return None
    if not any(isinstance(o, HostInfo) for r in responses for o in r.objects):
        return None
    return responses


def _more_pages(state: RunState, answer: Response) -> bool:
    """Whether QuickBooks' iterator has more to return (kept in ``state``, else forgotten)."""
    if answer.iterator_remaining_count and answer.iterator_id:
        state.iterator_id = answer.iterator_id
        state.iterator_remaining = answer.iterator_remaining_count
        return True
    state.iterator_id = state.iterator_remaining = None
    return False


def _mapped(profile: Profile) -> frozenset[str]:
    """The mapped customers' full names, as QuickBooks compares them (case-folded)."""
    return frozenset(name.casefold() for name in profile.customers)


def _invoice_txn_ids(documents: list[str]) -> set[str]:
    """The TxnIDs of the invoices these query responses hold."""
    try:
        return {
            txn_id
            for document in documents
            for (txn_id,) in read_fields(document, "InvoiceRet", ("TxnID",))
            if txn_id
        }
    except QbxmlParseError as exc:
        raise _incomplete(exc) from None


def _txn_ids(answer: Response) -> set[str]:
    """The TxnIDs of the invoices a query response holds (whole or in part), as
    :func:`_invoice_txn_ids` reads them from its document."""
    return {
        o.txn_id
        for o in answer.objects
        if (isinstance(o, Invoice) or (isinstance(o, TxnHeader) and o.object_type == "Invoice"))
        and o.txn_id
    }


def _untouchable(
    request: QueuedRequest, invoices: dict[str, Invoice], rule: UnsentInvoices
) -> str | None:
    """Why a modification must not be sent, given QuickBooks' fresh state (None: it may).

    Only an InvoiceMod can touch what invariant 5 protects: its invoice must still be
    there, neither settled nor sent.
    """
    if request.kind != "InvoiceModRq":
        return None
    target = parse_xml(request.qbxml, source="queued request").findtext(
        "QBXMLMsgsRq/InvoiceModRq/InvoiceMod/TxnID"
    )
    invoice = invoices.get((target or "").strip())
    if invoice is None:
        return (
            f"invoice {target} was not where QuickBooks was read (deleted, or moved out of "
            "the billing windows) since the plan was made"
        )
    number = invoice.ref_number or invoice.txn_id
    if invoice.is_settled:
        return f"invoice #{number} has a payment or credit applied since the plan was made"
    if invoice.is_sent(rule):
        return (
            f"invoice #{number} was sent since the plan was made (it is no longer marked "
            "Print later or Email later)"
        )
    return None


def refresh_window(profile: Profile, now: dt.datetime) -> tuple[dt.date, dt.date]:
    """The invoice dates a refresh reads: the billing windows before, around and after today.

    A plan bills the window of its charges' period: the current one, the next
    (advance billing planned before the invoice day) or the last (arrears).
    Reading all three keeps every plan's invoices in the snapshot.
    """
    today = now.astimezone(ZoneInfo(profile.timezone)).date()
    current = invoice_day_on_or_before(today, profile.invoice_day)
    previous = invoice_day_on_or_before(current - dt.timedelta(days=1), profile.invoice_day)
    following = invoice_day_after(
        invoice_day_after(today, profile.invoice_day), profile.invoice_day
    )
    return previous, following - dt.timedelta(days=1)
