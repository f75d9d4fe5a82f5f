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
    --clock-start`` runs it as if it were that moment (an invoice day at 05:00).
    """

    def __init__(self, start: dt.datetime) -> None:
        self._shift = utc(start) - dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        """The system's current time moved as if the clock had been set to ``start``, in UTC."""
        return dt.datetime.now(dt.UTC) + self._shift
