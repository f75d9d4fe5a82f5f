"""Fault injection: what goes wrong around a real QuickBooks, on demand.

Each fault says how a QBWC server sees it:

- :meth:`Faults.lock_next`: the next N write requests (``*Add``/``*Mod``)
  fail with 3180 (adds) or 3170 (modifications), "modified by another user";
  nothing is committed. Queries are not affected.
- :meth:`Faults.human_edit_before_next`: just before a later request is
  processed, a person edits the invoice in QuickBooks: a new EditSequence and
  a changed line, so a modification planned on the old state gets 3200.
- :meth:`Faults.lose_next_response`: QuickBooks commits the request, then its
  answer is lost. ``process`` raises :class:`~reconciler.sandbox.status.ResponseLost`;
  the Web Connector emulator then behaves as the real one when its connection
  to the server drops: it never calls ``receiveResponseXML`` for that request,
  ends the run (no ``closeConnection``) with a QBWC1042 status, and the next
  run starts with a new ``authenticate``.
- :meth:`Faults.close_company`: the company file cannot be opened. The Web
  Connector calls ``connectionError`` with QuickBooks' HRESULT and message
  (``0x80040408`` "Could not start QuickBooks." by default); a direct
  ``process`` call raises :class:`~reconciler.sandbox.status.RequestProcessorError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from reconciler.sandbox.books import Books
from reconciler.sandbox.by_hand import human_edit
from reconciler.sandbox.elements import Element
from reconciler.sandbox.status import COULD_NOT_START

Action = Callable[[Books, dt.datetime], None]


@dataclass
class _Scheduled:
    countdown: int
    action: Action


@dataclass
class Faults:
    """The faults armed on one simulator (see the module docstring)."""

    locks_left: int = 0
    lock_code: int | None = None
    lost_responses_left: int = 0
    closed: tuple[str, str] | None = None
    _scheduled: list[_Scheduled] = field(default_factory=list)

    def lock_next(self, count: int = 1, *, code: int | None = None) -> None:
        """Fail the next ``count`` write requests with a lock error (3180/3170, or ``code``)."""
        self.locks_left = count
        self.lock_code = code

    def human_edit_before_next(
        self,
        txn_id: str,
        *,
        skip: int = 0,
        edit: Callable[[Element], None] | None = None,
    ) -> None:
        """Have a person edit invoice ``txn_id`` before the next request (after ``skip`` more).

        ``edit(invoice_ret)`` makes the change (default: see :func:`~reconciler.sandbox.by_hand.human_edit`).
        """
        self.before_next(
            lambda books, moment: human_edit(books, txn_id, moment=moment, edit=edit), skip=skip
        )

    def before_next(self, action: Action, *, skip: int = 0) -> None:
        """Run ``action(books, now)`` before the next request is processed (after ``skip`` more)."""
        self._scheduled.append(_Scheduled(skip, action))

    def lose_next_response(self, count: int = 1) -> None:
        """Commit the next ``count`` requests, then lose their responses."""
        self.lost_responses_left = count

    def close_company(
        self, hresult: str = COULD_NOT_START[0], message: str = COULD_NOT_START[1]
    ) -> None:
        """Make the company file impossible to open until :meth:`open_company`."""
        self.closed = (hresult, message)

    def open_company(self) -> None:
        """Undo :meth:`close_company`."""
        self.closed = None

    # The simulator's side --------------------------------------------------

    def run_due(self, books: Books, moment: dt.datetime) -> None:
        """Run the actions due before this request; count the others down."""
        due = [entry for entry in self._scheduled if entry.countdown == 0]
        self._scheduled = [entry for entry in self._scheduled if entry.countdown > 0]
        for entry in self._scheduled:
            entry.countdown -= 1
        for entry in due:
            entry.action(books, moment)

    def take_lock(self, *, adding: bool) -> int | None:
        """The lock error code for this write request, if a lock is armed."""
        if self.locks_left <= 0:
            return None
        self.locks_left -= 1
        return self.lock_code or (3180 if adding else 3170)

    def take_lost_response(self) -> bool:
        """Whether this request's response is to be lost."""
        if self.lost_responses_left <= 0:
            return False
        self.lost_responses_left -= 1
        return True
