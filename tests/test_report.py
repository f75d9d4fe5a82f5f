"""Wording of ages and moments in `reconcile status`."""

from __future__ import annotations

import datetime as dt

import pytest

from reconciler.qbwc.report import age, when


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
