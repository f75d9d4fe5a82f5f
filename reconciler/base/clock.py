"""The clock of the stateful edge.

Everything left of the queue takes "now" as an input; the server and the
commands that drive it read it from a :class:`Clock`, so that tests can move
time (an invoice day at 05:00 New York time, a ticket that expires) without
waiting for it.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    """A source of the current time, always timezone-aware UTC."""

    def now(self) -> dt.datetime:
        """The current moment, timezone-aware, in UTC."""


class SystemClock:
    """The wall clock."""

    def now(self) -> dt.datetime:
        """The system's current time, in UTC."""
        return dt.datetime.now(dt.UTC)


def utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC; naive datetimes are refused rather than guessed."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: a timezone is required")
    return moment.astimezone(dt.UTC)


class ShiftedClock:
    """The wall clock moved to start at ``start``: time runs, from another day.

    For rehearsals and tests of the server process: ``reconcile serve
    --clock-start`` runs it as if it were that moment (an invoice day at 05:00);
    ``reconcile demo`` runs at its charges' date.
    """

    def __init__(self, start: dt.datetime) -> None:
        self._shift = utc(start) - dt.datetime.now(dt.UTC)

    @classmethod
    def by(cls, shift: dt.timedelta) -> ShiftedClock:
        """The wall clock moved by ``shift`` (the one a state was written on, continued)."""
        clock = cls.__new__(cls)
        clock._shift = shift
        return clock

    @property
    def shift(self) -> dt.timedelta:
        """How far this clock is from the wall clock."""
        return self._shift

    def now(self) -> dt.datetime:
        """The system's current time moved as if the clock had been set to ``start``, in UTC."""
        return dt.datetime.now(dt.UTC) + self._shift


def clock_moved_by(shift: dt.timedelta | None) -> Clock:
    """The wall clock, or (``shift`` given) the simulated clock a state was written on.

    A state that ``reconcile demo`` wrote holds times of its simulated clock
    (mid-December 2026): every command reading it goes on on that clock, so that
    "5 minutes ago" means the same in ``status`` and in ``plan``.
    """
    return SystemClock() if shift is None else ShiftedClock.by(shift)
