"""Billing periods, invoice dates and billing windows.

The billing period is Sherweb's (``receivableCharges.periodFrom/periodTo``);
the billing mode and ``invoice_day`` turn it into the date of the invoice that
bills it:

- advance bills the coming period: the invoice is dated on the last invoice
  day on or before the period starts (day 1, period Dec 1-31 -> Dec 1);
- arrears bills the period just ended: the first invoice day after it ends
  (day 1, period Nov 1-30 -> Dec 1).

Invoices are generated at ``invoice_time`` (05:00) in ``timezone``
(America/New_York), DST-correct. The *billing window* in which an existing
invoice counts as this period's invoice runs from this invoice date up to the
next one: for advance billing on day 1, the service month itself.

Nothing here reads a clock: the charges' period decides.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from reconciler.model.config import LAST_DAY, BillingMode, BillingOptions

InvoiceDay = int | str  # 1..28 or LAST_DAY


@dataclass(frozen=True, order=True)
class BillingPeriod:
    """A service period, both ends included (as Sherweb reports it)."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"billing period ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        """How many days the period covers, both ends included."""
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end

    def __str__(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


@dataclass(frozen=True)
class BillingWindow:
    """The invoice dates that belong to one billing period: ``[start, end)``."""

    start: dt.date
    end: dt.date  # exclusive: the next invoice date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day < self.end

    def __str__(self) -> str:
        """``2026-12`` when the window is a calendar month, else both dates."""
        last = self.end - dt.timedelta(days=1)
        if (
            self.start.day == 1
            and last.month == self.start.month
            and last.year == self.start.year
            and last.day == _month_length(last.year, last.month)
        ):
            return f"{self.start.year:04d}-{self.start.month:02d}"
        return f"between {self.start.isoformat()} and {last.isoformat()}"


@dataclass(frozen=True)
class InvoiceSchedule:
    """When the invoice of one billing period is dated and generated."""

    period: BillingPeriod
    invoice_date: dt.date
    # The moment invoice requests may be sent to QuickBooks (timezone-aware).
    invoice_at: dt.datetime
    window: BillingWindow


def _month_length(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def invoice_day_in(year: int, month: int, invoice_day: InvoiceDay) -> dt.date:
    """The invoice date of a month: ``invoice_day`` or, with ``last``, its last day."""
    if invoice_day == LAST_DAY:
        return dt.date(year, month, _month_length(year, month))
    if not isinstance(invoice_day, int) or not 1 <= invoice_day <= 28:
        raise ValueError(f"invoice_day must be 1..28 or {LAST_DAY!r}, not {invoice_day!r}")
    return dt.date(year, month, invoice_day)


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def invoice_day_on_or_before(day: dt.date, invoice_day: InvoiceDay) -> dt.date:
    """The last invoice date that is ``day`` or earlier."""
    candidate = invoice_day_in(day.year, day.month, invoice_day)
    if candidate <= day:
        return candidate
    return invoice_day_in(*_shift_month(day.year, day.month, -1), invoice_day)


def invoice_day_after(day: dt.date, invoice_day: InvoiceDay) -> dt.date:
    """The first invoice date strictly after ``day``."""
    candidate = invoice_day_in(day.year, day.month, invoice_day)
    if candidate > day:
        return candidate
    return invoice_day_in(*_shift_month(day.year, day.month, 1), invoice_day)


def invoice_date(period: BillingPeriod, mode: BillingMode, invoice_day: InvoiceDay) -> dt.date:
    """The date of the invoice that bills ``period`` in ``mode``."""
    if mode is BillingMode.ADVANCE:
        return invoice_day_on_or_before(period.start, invoice_day)
    return invoice_day_after(period.end, invoice_day)


def invoice_moment(day: dt.date, at: dt.time, timezone: str) -> dt.datetime:
    """``day`` at ``at`` in ``timezone``: a timezone-aware datetime, DST-correct.

    On the spring-forward day a wall time that does not exist (02:30) comes
    out an hour later, as zoneinfo resolves it with ``fold=0``.
    """
    naive = dt.datetime.combine(day, at)
    aware = naive.replace(tzinfo=ZoneInfo(timezone))
    # Round-trip through UTC so that a non-existent wall time is normalised.
    return aware.astimezone(dt.UTC).astimezone(ZoneInfo(timezone))


def _add_months(day: dt.date, months: int, anchor_day: int) -> dt.date:
    year, month = _shift_month(day.year, day.month, months)
    return dt.date(year, month, min(anchor_day, _month_length(year, month)))


def containing_period(day: dt.date, period: BillingPeriod) -> BillingPeriod:
    """The month-long period, aligned on ``period``'s start, that contains ``day``.

    A charge of the month before (advance billing bills last month's licence
    changes with the coming month) is prorated against the month it belongs
    to, not against the billing period.
    """
    if day in period:
        return period
    anchor = period.start.day
    offset = (day.year - period.start.year) * 12 + day.month - period.start.month
    start = _add_months(period.start, offset, anchor)
    if start > day:
        start = _add_months(period.start, offset - 1, anchor)
    following = _add_months(start, 1, anchor)
    return BillingPeriod(start, following - dt.timedelta(days=1))


def schedule_for(period: BillingPeriod, billing: BillingOptions) -> InvoiceSchedule:
    """The invoice date, generation time and billing window of ``period``."""
    day = invoice_date(period, billing.mode, billing.invoice_day)
    return InvoiceSchedule(
        period=period,
        invoice_date=day,
        invoice_at=invoice_moment(day, billing.invoice_time, billing.timezone),
        window=BillingWindow(day, invoice_day_after(day, billing.invoice_day)),
    )
