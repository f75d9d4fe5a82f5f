"""The eleven Web Connector callbacks: sign-in, sessions, and the hand-off to the run.

This module owns who may talk (passwords, throttling, tickets, one session
per company at a time) and what the user reads in the Web Connector when
something is off. What to send to QuickBooks, and what a response means,
belongs to the sync run (:class:`Run`), which works inside the same
transaction: every change a call makes is committed before its answer leaves.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from reconciler import __version__
from reconciler.base.clock import Clock
from reconciler.qbwc.credentials import new_ticket, ticket_hash, ticket_prefix, verify_password
from reconciler.qbwc.soap import SoapCall
from reconciler.qbwc.versions import client_version_answer
from reconciler.store import Store
from reconciler.store.records import CompanyRecord, RejectReason, SessionRecord

log = logging.getLogger("reconciler.qbwc")

# authenticate's second string, as the Web Connector reads it.
NOT_VALID_USER = "nvu"
NOTHING_TO_DO = "none"
BUSY = "busy"
# connectionError's answer that ends the session.
DONE = "done"
# What getLastError says when the run asks the Web Connector to wait a little.
NO_OP = "NoOp"

UNKNOWN_SESSION = (
    "This Web Connector session is unknown or has expired. "
    "Click Update Selected to start a new one."
)


class CallRefused(Exception):
    """A call its session's protocol does not allow at that point (a response that no
    request asked for): answered as an error and counted among the rejected calls, not
    as the run's error; the run goes on as if it had not come."""


@dataclass(frozen=True)
class Limits:
    """How long sessions live and how hard wrong passwords are throttled."""

    # A ticket stops working after this long without a call...
    session_idle: dt.timedelta = dt.timedelta(minutes=30)
    # ... and after this long in any case.
    session_max: dt.timedelta = dt.timedelta(hours=8)
    # An open session heard from within this long makes another Web
    # Connector for the same company wait ("busy"). Longer than QuickBooks
    # takes to answer one request; short, because a Web Connector whose
    # connection dropped never closes its session.
    session_quiet: dt.timedelta = dt.timedelta(minutes=3)
    # A client address that failed this many sign-ins (whatever the user
    # name) within the window gets "nvu" at once, its password unchecked, until
    # the window has passed. Per address only: the passwords are 144 random
    # bits, so the throttle is there to spare the server's time, and no
    # address can lock the real Web Connector out from its own.
    failure_window: dt.timedelta = dt.timedelta(minutes=15)
    failures_per_client: int = 5


@dataclass(frozen=True)
class SendRequest:
    """The arguments of sendRequestXML."""

    hcp_response: str  # HostQuery/CompanyQuery/PreferencesQuery, first call only
    company_file: str
    country: str
    major_version: int | None
    minor_version: int | None


class Run(Protocol):
    """The sync run behind a session: what to send next, what a response means.

    Every method is called inside the store transaction of the call; what it
    changes is committed before the answer is sent.
    """

    def has_work(self, company: CompanyRecord, now: dt.datetime) -> bool:
        """Whether a session now would do anything (refresh due, requests due)."""
        ...

    def start(self, company: CompanyRecord, session: SessionRecord, now: dt.datetime) -> None:
        """Set up a new session's run."""
        ...

    def next_request(self, session: SessionRecord, call: SendRequest, now: dt.datetime) -> str:
        """The next qbXML document, or "" (then getLastError says why, or NoOp)."""
        ...

    def prepare(self, session: SessionRecord, response: str) -> object:
        """Read a response outside the store transaction (reads only, no writes)."""
        ...

    def take_response(
        self,
        session: SessionRecord,
        response: str,
        hresult: str,
        message: str,
        now: dt.datetime,
        prepared: object = None,
    ) -> int:
        """Consume a response (and what :meth:`prepare` made of it, when it still fits).

        The percentage done (100: finished), or negative on error.
        """
        ...

    def connection_error(
        self, session: SessionRecord, hresult: str, message: str, now: dt.datetime
    ) -> str:
        """The Web Connector could not reach QuickBooks: "done", or a company file to try."""
        ...

    def last_error(self, session: SessionRecord) -> str:
        """What the Web Connector shows after an error ("NoOp" to pause and go on)."""
        ...

    def close(self, session: SessionRecord, now: dt.datetime) -> str:
        """End the run; the text the Web Connector shows in its status column."""
        ...


class QBWCService:
    """Answers each Web Connector callback."""

    def __init__(
        self,
        store: Store,
        run: Run,
        clock: Clock,
        *,
        limits: Limits | None = None,
        boot_id: str | None = None,
    ) -> None:
        self.store = store
        self.run = run
        self.clock = clock
        self.limits = limits or Limits()
        # Sessions opened by an earlier server process cannot be live.
        self.boot_id = boot_id or uuid.uuid4().hex

    def call(self, call: SoapCall, client: str) -> str | int | Sequence[str]:
        """Dispatch a parsed SOAP call to its callback (an incomplete one holds a ticket that
        :meth:`admits` refused: its callback answers as for any unknown ticket)."""
        handler = getattr(self, f"_on_{call.operation.name}")
        result: str | int | Sequence[str] = handler(call, client)
        return result

    def admits(self, ticket: str) -> bool:
        """Whether ``ticket`` is an open session's: the large calls (sendRequestXML,
        receiveResponseXML) are read past their ticket only then."""
        return self._peek(ticket, self.clock.now()) is not None

    def reject(self, reason: RejectReason, client: str, what: str) -> None:
        """Count a refused call among the rejected calls (the caller's doing, never a
        company's sync error), and log who sent it."""
        log.warning("call from %s refused (%s): %s", client, reason.value, what)
        self.store.rejected_calls.record(reason, self.clock.now())

    # ------------------------------------------------------------ no session

    def _on_serverVersion(self, call: SoapCall, client: str) -> str:
        return f"reconciler {__version__}"

    def _on_clientVersion(self, call: SoapCall, client: str) -> str:
        version = call.text("strVersion")
        answer = client_version_answer(version)
        if answer:
            log.warning("Web Connector %s at %s: %s", version, client, answer)
        return answer

    def _on_authenticate(self, call: SoapCall, client: str) -> list[str]:
        username = call.text("strUserName")
        password = call.text("strPassword")
        now = self.clock.now()
        # Every answer carries a ticket (the Web Connector expects one, then
        # calls closeConnection with it); only a session's ticket is kept.
        refused = [new_ticket(), NOT_VALID_USER]
        failures = self.store.sign_ins.failures(client, now - self.limits.failure_window)
        if failures >= self.limits.failures_per_client:
            # Not hashed, only counted: a client hammering costs next to nothing.
            self.reject(RejectReason.SIGN_IN, client, f"sign-in of {username!r}: too many failures")
            return refused
        company = self.store.companies.by_username(username)
        if not verify_password(password, company.password_hash if company else None):
            with self.store.atomic():
                self.store.sign_ins.record_failure(username, client, now)
                self.reject(RejectReason.SIGN_IN, client, f"sign-in of {username!r} failed")
            return refused
        assert company is not None
        with self.store.atomic():
            self.store.sign_ins.clear_failures(client)
            self.store.companies.record_contact(company.id, now)
            holder = self._live_session(company, now)
            if holder is not None:
                # "busy" with a postponement: the Web Connector tries again by
                # itself once the other session is over or has gone quiet.
                wait = holder.last_seen_at + self.limits.session_quiet - now
                seconds = max(1, int(wait.total_seconds()) + 1)
                log.info("%s: another Web Connector session is running: busy", company.name)
                return [new_ticket(), BUSY, str(seconds)]
            if not self.run.has_work(company, now):
                log.info("%s: nothing to do", company.name)
                return [new_ticket(), NOTHING_TO_DO]
            ticket = new_ticket()
            session = self.store.sessions.open(
                company.id,
                ticket_hash=ticket_hash(ticket),
                ticket_prefix=ticket_prefix(ticket),
                boot_id=self.boot_id,
                client=client,
                now=now,
                expires_at=now + self.limits.session_idle,
                state={},
            )
            self.run.start(company, session, now)
        log.info("%s: session %s… started for %s", company.name, ticket_prefix(ticket), client)
        return [ticket, company.company_file]

    def _live_session(self, company: CompanyRecord, now: dt.datetime) -> SessionRecord | None:
        """The live session holding the company, if any; the others are closed."""
        live = None
        for session in self.store.sessions.unclosed(company.id):
            if session.is_live(now, self.boot_id, self.limits.session_quiet):
                live = session
            else:
                log.info("session %s… abandoned: closed", session.ticket_prefix)
                self.store.sessions.close(session.id, now)
        return live

    # ---------------------------------------------------------- with session

    def _peek(self, ticket: str, now: dt.datetime) -> SessionRecord | None:
        """The open, unexpired session of ``ticket`` (read only); None otherwise."""
        if not ticket:
            return None
        session = self.store.sessions.for_ticket(ticket_hash(ticket))
        if session is None or session.closed_at is not None:
            return None
        if now >= session.expires_at or now - session.created_at >= self.limits.session_max:
            return None
        return session

    def _session(self, ticket: str, now: dt.datetime) -> SessionRecord | None:
        """The open, unexpired session of ``ticket``, touched; None otherwise."""
        session = self._peek(ticket, now)
        if session is None:
            expired = self.store.sessions.for_ticket(ticket_hash(ticket)) if ticket else None
            if expired is not None and expired.closed_at is None:
                log.info("session %s… expired", expired.ticket_prefix)
                self.store.sessions.close(expired.id, now)
            return None
        expires_at = now + self.limits.session_idle
        self.store.sessions.update(session.id, last_seen_at=now, expires_at=expires_at)
        return replace(session, last_seen_at=now, expires_at=expires_at)

    def _unknown_ticket(self, call: SoapCall, client: str) -> None:
        self.reject(
            RejectReason.UNKNOWN_TICKET,
            client,
            f"{call.operation.name}: no open session has this ticket",
        )

    def _on_sendRequestXML(self, call: SoapCall, client: str) -> str:
        now = self.clock.now()
        with self.store.atomic():
            session = self._session(call.text("ticket"), now)
            if session is None:
                self._unknown_ticket(call, client)
                return ""
            return self.run.next_request(
                session,
                SendRequest(
                    hcp_response=call.text("strHCPResponse"),
                    company_file=call.text("strCompanyFileName"),
                    country=call.text("qbXMLCountry"),
                    major_version=call.number("qbXMLMajorVers"),
                    minor_version=call.number("qbXMLMinorVers"),
                ),
                now,
            )

    def _on_receiveResponseXML(self, call: SoapCall, client: str) -> int:
        now = self.clock.now()
        ticket, response = call.text("ticket"), call.text("response")
        # Reading the response is the slow part: done before the transaction,
        # so that other sessions' calls do not wait for it.
        peeked = self._peek(ticket, now)
        prepared = self.run.prepare(peeked, response) if peeked else None
        with self.store.atomic():
            session = self._session(ticket, now)
            if session is None:
                self._unknown_ticket(call, client)
                return -1
            try:
                return self.run.take_response(
                    session, response, call.text("hresult"), call.text("message"), now, prepared
                )
            except CallRefused as refused:
                self.reject(RejectReason.OUT_OF_TURN, client, f"receiveResponseXML: {refused}")
                return -1

    def _on_connectionError(self, call: SoapCall, client: str) -> str:
        now = self.clock.now()
        with self.store.atomic():
            session = self._session(call.text("ticket"), now)
            if session is None:
                self._unknown_ticket(call, client)
                return DONE
            answer = self.run.connection_error(
                session, call.text("hresult"), call.text("message"), now
            )
            if answer == DONE:
                # The Web Connector ends the update without closeConnection.
                self.store.sessions.close(session.id, now)
            return answer

    def _on_getLastError(self, call: SoapCall, client: str) -> str:
        now = self.clock.now()
        with self.store.atomic():
            session = self._session(call.text("ticket"), now)
            if session is None:
                return UNKNOWN_SESSION
            return self.run.last_error(session)

    def _on_closeConnection(self, call: SoapCall, client: str) -> str:
        now = self.clock.now()
        with self.store.atomic():
            session = self._session(call.text("ticket"), now)
            if session is None:
                return "OK"
            text = self.run.close(session, now)
            self.store.sessions.close(session.id, now)
        log.info("session %s… closed: %s", session.ticket_prefix, text)
        return text

    # ------------------------------------------- interactive mode (never asked)

    def _on_getInteractiveURL(self, call: SoapCall, client: str) -> str:
        return ""

    def _on_interactiveDone(self, call: SoapCall, client: str) -> str:
        return "Done"

    def _on_interactiveRejected(self, call: SoapCall, client: str) -> str:
        return "reconciler does not use interactive mode; nothing was changed."
