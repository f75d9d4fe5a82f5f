"""The driver: a session's run from call to call, handing each to the phase it is in.

It answers the service's :class:`~reconciler.qbwc.service.Run` protocol. Each
call loads the run's state from the session row, lets the phase at hand ask
its next query or take its answer, moves past the phases with nothing (more)
to do, and saves the state, all within the call's store transaction.
Reading a response (the slow part) happens before that transaction
(:meth:`SyncRun.prepare`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass

from reconciler.base.clock import Clock
from reconciler.base.xmlsafe import XMLInputError
from reconciler.qbwc.run import refresh, report, settle, signin, write
from reconciler.qbwc.run.call import RunCall, RunLimits
from reconciler.qbwc.run.failure import RunFailed, unreadable
from reconciler.qbwc.run.queries import matching, query_not_processed
from reconciler.qbwc.run.settle import Refreshed
from reconciler.qbwc.run.state import Pending, Phase, RunState
from reconciler.qbwc.run.write import WriteAnswer
from reconciler.qbwc.service import DONE, NO_OP, CallRefused, SendRequest
from reconciler.qbxml.parse import QbxmlParseError, Response, parse_response
from reconciler.store import Store
from reconciler.store.records import CompanyRecord, NewStatusError, SessionRecord


@dataclass(frozen=True)
class Prepared:
    """A response read outside the store transaction, for the state it was read against."""

    saves: int
    responses: list[Response] | None
    problem: str | None = None  # why the response could not be read
    refreshed: Refreshed | None = None  # when this response completes a refresh
    writes: dict[str, WriteAnswer] | None = None  # answers to writes, by requestID


class SyncRun:
    """The sync run of every session, persisted in the store."""

    def __init__(self, store: Store, clock: Clock, *, limits: RunLimits | None = None) -> None:
        self.store = store
        self.clock = clock
        self.limits = limits or RunLimits()

    # ---------------------------------------------------------- sign-in

    def has_work(self, company: CompanyRecord, now: dt.datetime) -> bool:
        """Whether a session now would do anything (see :func:`signin.has_work`)."""
        return signin.has_work(self.store, self.limits, company, now)

    def start(self, company: CompanyRecord, session: SessionRecord, now: dt.datetime) -> None:
        """Start a session's run from scratch; failed requests, and held ones now due, are
        queued again."""
        state = signin.start(self.store, company, now)
        self._call(session, state, now).save()

    # ----------------------------------------------------- the exchange

    def next_request(self, session: SessionRecord, call: SendRequest, now: dt.datetime) -> str:
        """The next qbXML document, or "" when the run is over, failed, or pauses after a lock
        error (getLastError then says which: the summary, the failure, or NoOp)."""
        run = self._call(session, RunState.load(session.state), now)
        state = run.state
        if state.pause:
            # After a lock error "NoOp" makes the Web Connector wait, then ask again.
            state.pause = False
            state.error = NO_OP
            run.save()
            return ""
        try:
            if state.phase == Phase.START:
                signin.begin(run, call)
            self._advance(run, None)
            document = self._request(run)
        except RunFailed as failure:
            report.fail(run, failure)
            return ""
        if not document:
            state.error = report.summary(state)
        run.save()
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

    def take_response(
        self,
        session: SessionRecord,
        response: str,
        hresult: str,
        message: str,
        now: dt.datetime,
        prepared: object = None,
    ) -> int:
        """Take a response (and what :meth:`prepare` made of it, unless a save came between).

        The percentage done (100 only when nothing remains), or -1 when the run failed.
        """
        run = self._call(session, RunState.load(session.state), now)
        state = run.state
        pending, state.pending = state.pending, None
        if pending is None:
            # Not the Web Connector's doing (it answers only what it was sent): the run
            # goes on as if the call had not come.
            raise CallRefused("a response that no request of this run asked for")
        try:
            if hresult:
                raise (
                    write.not_processed(run, pending, hresult, message)
                    if pending["kind"] == "write"
                    else query_not_processed(hresult, message)
                )
            if not isinstance(prepared, Prepared) or prepared.saves != state.saves:
                prepared = self._prepare(session, response)
            self._take(run, pending, prepared, response)
            self._advance(run, prepared.refreshed)
        except RunFailed as failure:
            report.fail(run, failure)
            return -1
        run.save()
        return report.progress(run)

    def connection_error(
        self, session: SessionRecord, hresult: str, message: str, now: dt.datetime
    ) -> str:
        """Record why the Web Connector could not open QuickBooks and end the run: always
        ``done`` (no other company file to try)."""
        run = self._call(session, RunState.load(session.state), now)
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
        report.fail(run, failure)
        return DONE

    def last_error(self, session: SessionRecord) -> str:
        """What the run last said for getLastError (see :func:`report.last_error`)."""
        return report.last_error(RunState.load(session.state))

    def close(self, session: SessionRecord, now: dt.datetime) -> str:
        """The summary the Web Connector shows at the end of the run (the service closes the
        session in the store)."""
        return report.summary(RunState.load(session.state))

    # ------------------------------------------------------- the phases

    def _call(self, session: SessionRecord, state: RunState, now: dt.datetime) -> RunCall:
        return RunCall(self.store, self.limits, session, state, now)

    def _advance(self, run: RunCall, refreshed: Refreshed | None) -> None:
        """Move past whatever has nothing (more) to do, up to the next request to send."""
        state = run.state
        while True:
            if state.phase == Phase.REFRESH:
                if refresh.next_step(run):
                    return
                self._end_refresh(run, refreshed)
            elif state.phase == Phase.SETTLE:
                if settle.lost_adds(run.store, run.company_id):
                    return
                state.phase = Phase.WRITE
            elif state.phase == Phase.WRITE:
                if state.pause or write.has_next(run):
                    return
                if not state.changed:
                    state.phase = Phase.DONE
                    return
                refresh.start_after_changes(run)
            else:
                return

    def _end_refresh(self, run: RunCall, refreshed: Refreshed | None) -> None:
        """The refresh is read: a snapshot; after the first refresh of a run, what is sent
        or queued is settled against it before anything is written."""
        state = run.state
        settling = None if state.after_changes else settle.what_to_settle(run, refreshed)
        refresh.take_snapshot(run)
        if state.after_changes:
            state.phase = Phase.DONE
            return
        if settling is not None:
            settle.against_snapshot(run, settling)
        state.phase = Phase.SETTLE

    def _request(self, run: RunCall) -> str:
        """The document for the current phase ("" when done); sets what is pending."""
        phase = run.state.phase
        if phase == Phase.HOST:
            return signin.host_query(run)
        if phase == Phase.REFRESH:
            return refresh.query(run)
        if phase == Phase.SETTLE:
            return settle.lookup_query(run)
        if phase == Phase.WRITE:
            return write.batch_document(run)
        return ""

    def _take(self, run: RunCall, pending: Pending, prepared: Prepared, response: str) -> None:
        """Hand a response to the phase that asked for it."""
        if pending["kind"] == "write":
            if prepared.writes is None:
                raise unreadable(prepared.problem)
            write.take_answers(run, pending, prepared.writes)
            return
        answers = matching(prepared.responses, prepared.problem, pending)
        if pending["kind"] == "host":
            signin.take_host(run, answers, response)
        elif pending["kind"] == "refresh":
            refresh.take_answer(run, pending, answers, response)
        else:
            settle.take_lookup_page(run, answers)

    def _prepare(self, session: SessionRecord, response: str) -> Prepared:
        state = RunState.load(session.state)
        pending: Pending = state.pending or {}
        if pending.get("kind") == "write":
            try:
                return Prepared(state.saves, [], writes=write.read_answers(response))
            except XMLInputError as exc:
                return Prepared(state.saves, None, problem=str(exc))
        try:
            responses = parse_response(response)
        except QbxmlParseError as exc:
            return Prepared(state.saves, None, problem=str(exc))
        refreshed = None
        company_id = session.company_id
        if (
            pending.get("kind") == "refresh"
            and not state.after_changes
            and refresh.completes_refresh(self.store, self.limits, company_id, state, responses)
            and settle.to_settle(self.store, company_id)
        ):
            documents = [*self.store.sessions.documents(session.id), response]
            # A state that cannot be read is said, and recorded, within the transaction.
            with contextlib.suppress(RunFailed):
                refreshed = settle.read_for_settling(self.store, company_id, documents)
        return Prepared(state.saves, responses, refreshed=refreshed)
