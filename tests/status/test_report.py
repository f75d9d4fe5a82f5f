"""Wording of ages and moments in `reconcile status`."""

from __future__ import annotations

import datetime as dt

import pytest

from reconciler.base.clock import SystemClock, clock_moved_by
from reconciler.base.times import age, stamp, when


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(5, "less than a minute"), (60, "1 minute"), (7200, "2 hours"), (86400 * 3 + 5, "3 days")],
)
def test_age(seconds, text):
    assert age(dt.timedelta(seconds=seconds)) == text


def test_when_uses_the_company_time_zone_with_daylight_saving():
    now = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
    invoice_time = dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC)  # 05:00 EDT
    assert when(invoice_time, now, "America/New_York") == "2024-06-01 05:00 EDT (3 hours ago)"
    assert when(now + dt.timedelta(days=2), now, "UTC").endswith("(in 2 days)")


def test_times_on_the_demo_clock_say_so():
    now = dt.datetime(2026, 12, 15, 17, 5, tzinfo=dt.UTC)
    taken = dt.datetime(2026, 12, 15, 17, 0, tzinfo=dt.UTC)
    assert (
        when(taken, now, "America/New_York", simulated=True)
        == "2026-12-15 12:00 EST (demo clock, 5 minutes ago)"
    )
    assert stamp(taken, "America/New_York") == "2026-12-15 12:00 EST"
    assert stamp(taken, "America/New_York", simulated=True) == "2026-12-15 12:00 EST (demo clock)"


def test_the_clock_a_state_was_written_on_goes_on():
    shift = dt.timedelta(days=400)
    before = dt.datetime.now(dt.UTC)
    moved = clock_moved_by(shift).now()
    after = dt.datetime.now(dt.UTC)
    assert before + shift <= moved <= after + shift
    assert isinstance(clock_moved_by(None), SystemClock)
