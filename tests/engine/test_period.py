"""Billing period -> invoice date, generation time and billing window."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.builders import billing

from reconciler.engine.period import (
    BillingPeriod,
    BillingWindow,
    containing_period,
    invoice_date,
    invoice_day_after,
    invoice_day_in,
    invoice_day_on_or_before,
    invoice_moment,
    schedule_for,
)
from reconciler.model.config import LAST_DAY, BillingMode

D = dt.date
DECEMBER = BillingPeriod(D(2026, 12, 1), D(2026, 12, 31))
NOVEMBER = BillingPeriod(D(2026, 11, 1), D(2026, 11, 30))
UTC = dt.UTC


@pytest.mark.parametrize(
    ("period", "mode", "day", "expected"),
    [
        # advance: the last invoice day on or before the period starts
        (DECEMBER, BillingMode.ADVANCE, 1, D(2026, 12, 1)),
        (DECEMBER, BillingMode.ADVANCE, 15, D(2026, 11, 15)),
        (DECEMBER, BillingMode.ADVANCE, 28, D(2026, 11, 28)),
        (DECEMBER, BillingMode.ADVANCE, LAST_DAY, D(2026, 11, 30)),
        # arrears: the first invoice day after the period ends
        (NOVEMBER, BillingMode.ARREARS, 1, D(2026, 12, 1)),
        (NOVEMBER, BillingMode.ARREARS, 15, D(2026, 12, 15)),
        (NOVEMBER, BillingMode.ARREARS, LAST_DAY, D(2026, 12, 31)),
        (DECEMBER, BillingMode.ARREARS, 1, D(2027, 1, 1)),
    ],
)
def test_invoice_date_from_mode_and_invoice_day(period, mode, day, expected):
    assert invoice_date(period, mode, day) == expected


def test_last_day_follows_short_and_leap_months():
    assert invoice_day_in(2027, 2, LAST_DAY) == D(2027, 2, 28)
    assert invoice_day_in(2028, 2, LAST_DAY) == D(2028, 2, 29)
    assert invoice_day_in(2026, 4, LAST_DAY) == D(2026, 4, 30)
    march = BillingPeriod(D(2027, 3, 1), D(2027, 3, 31))
    assert invoice_date(march, BillingMode.ADVANCE, LAST_DAY) == D(2027, 2, 28)


@pytest.mark.parametrize("bad", [0, 29, 31, "first", None])
def test_invoice_day_outside_1_to_28_is_refused(bad):
    with pytest.raises(ValueError, match="invoice_day"):
        invoice_day_in(2026, 12, bad)


def test_invoice_moment_is_05_00_new_york_and_dst_correct():
    winter = invoice_moment(D(2026, 12, 1), dt.time(5), "America/New_York")
    summer = invoice_moment(D(2026, 7, 1), dt.time(5), "America/New_York")
    assert winter.isoformat() == "2026-12-01T05:00:00-05:00"
    assert winter.astimezone(UTC) == dt.datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert summer.isoformat() == "2026-07-01T05:00:00-04:00"
    assert summer.astimezone(UTC) == dt.datetime(2026, 7, 1, 9, tzinfo=UTC)


def test_invoice_moment_on_the_days_the_clocks_change():
    # 2026-03-08: clocks go forward at 02:00; 2026-11-01: back at 02:00.
    spring = invoice_moment(D(2026, 3, 8), dt.time(5), "America/New_York")
    autumn = invoice_moment(D(2026, 11, 1), dt.time(5), "America/New_York")
    assert spring.utcoffset() == dt.timedelta(hours=-4)
    assert autumn.utcoffset() == dt.timedelta(hours=-5)
    # A wall time that does not exist comes out after the gap, never before.
    gap = invoice_moment(D(2026, 3, 8), dt.time(2, 30), "America/New_York")
    assert gap.astimezone(UTC) == dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert gap.hour == 3


def test_schedule_advance_day_1_window_is_the_service_month():
    schedule = schedule_for(DECEMBER, billing())
    assert schedule.invoice_date == D(2026, 12, 1)
    assert schedule.invoice_at.isoformat() == "2026-12-01T05:00:00-05:00"
    assert schedule.window == BillingWindow(D(2026, 12, 1), D(2027, 1, 1))
    assert str(schedule.window) == "2026-12"
    assert D(2026, 12, 31) in schedule.window
    assert D(2027, 1, 1) not in schedule.window
    assert D(2026, 11, 30) not in schedule.window


def test_schedule_window_runs_to_the_next_invoice_date():
    schedule = schedule_for(DECEMBER, billing(invoice_day=15))
    assert schedule.window == BillingWindow(D(2026, 11, 15), D(2026, 12, 15))
    assert str(schedule.window) == "between 2026-11-15 and 2026-12-14"
    last = schedule_for(DECEMBER, billing(invoice_day=LAST_DAY))
    assert last.window == BillingWindow(D(2026, 11, 30), D(2026, 12, 31))


def test_schedule_uses_the_configured_time_and_zone():
    options = replace(billing(), invoice_time=dt.time(7, 30), timezone="America/Los_Angeles")
    schedule = schedule_for(DECEMBER, options)
    assert schedule.invoice_at.isoformat() == "2026-12-01T07:30:00-08:00"


def test_containing_period_is_the_month_of_the_day():
    assert containing_period(D(2026, 12, 10), DECEMBER) is DECEMBER
    assert containing_period(D(2026, 11, 16), DECEMBER) == NOVEMBER
    assert containing_period(D(2027, 2, 3), DECEMBER) == BillingPeriod(
        D(2027, 2, 1), D(2027, 2, 28)
    )
    mid = BillingPeriod(D(2026, 12, 15), D(2027, 1, 14))
    assert containing_period(D(2026, 12, 2), mid) == BillingPeriod(D(2026, 11, 15), D(2026, 12, 14))


def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="before it starts"):
        BillingPeriod(D(2026, 12, 2), D(2026, 12, 1))


days = st.dates(min_value=D(2000, 1, 1), max_value=D(2099, 12, 31))
invoice_days = st.one_of(st.integers(1, 28), st.just(LAST_DAY))


@settings(max_examples=200)
@given(day=days, invoice_day=invoice_days)
def test_invoice_days_around_a_date_bracket_it_with_none_between(day, invoice_day):
    before = invoice_day_on_or_before(day, invoice_day)
    after = invoice_day_after(day, invoice_day)
    assert before <= day < after
    # Consecutive invoice days: nothing between the two.
    assert invoice_day_after(before, invoice_day) == after
    assert (after - before).days <= 31


@settings(max_examples=100)
@given(day=days, invoice_day=invoice_days, mode=st.sampled_from(BillingMode))
def test_every_invoice_date_lies_in_its_own_window(day, invoice_day, mode):
    period = containing_period(day, BillingPeriod(D(2026, 12, 1), D(2026, 12, 31)))
    schedule = schedule_for(period, billing(mode, invoice_day=invoice_day))
    assert schedule.invoice_date in schedule.window
    if mode is BillingMode.ADVANCE:
        assert schedule.invoice_date <= period.start
    else:
        assert schedule.invoice_date > period.end
