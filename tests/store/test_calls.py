"""The sign-in throttle and the log of refused calls."""

from __future__ import annotations

import datetime as dt
import threading

from support.stores import NOW

from reconciler.store.records import RejectedCalls, RejectReason


def test_failed_sign_ins_count_per_client_whatever_the_user(store):
    store.sign_ins.record_failure("acme", "a", NOW)
    store.sign_ins.record_failure("acme", "b", NOW)
    store.sign_ins.record_failure("other", "b", NOW)
    store.sign_ins.record_failure("acme", "b", NOW - dt.timedelta(hours=1))
    assert store.sign_ins.failures("b", NOW - dt.timedelta(minutes=15)) == 2
    assert store.sign_ins.failures("a", NOW - dt.timedelta(minutes=15)) == 1
    store.sign_ins.clear_failures("b")
    assert store.sign_ins.failures("b", NOW - dt.timedelta(days=1)) == 0
    assert store.sign_ins.failures("a", NOW - dt.timedelta(days=1)) == 1


def test_failed_sign_ins_older_than_a_day_are_forgotten(store):
    store.sign_ins.record_failure("acme", "a", NOW - dt.timedelta(days=2))
    assert store.sign_ins.failures("a", NOW - dt.timedelta(days=3)) == 1
    store.sign_ins.record_failure("acme", "b", NOW)
    assert store.sign_ins.failures("a", NOW - dt.timedelta(days=3)) == 0


def test_threads_write_concurrently_without_losing_anything(store):
    errors = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                store.sign_ins.record_failure(f"user{n}", "10.0.0.1", NOW + dt.timedelta(seconds=i))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.sign_ins.failures("10.0.0.1", NOW) == 160


def test_rejected_calls_are_counted_by_reason_most_frequent_first(store):
    assert store.rejected_calls.by_reason() == []
    later = NOW + dt.timedelta(minutes=5)
    store.rejected_calls.record(RejectReason.MALFORMED, NOW)
    store.rejected_calls.record(RejectReason.SIGN_IN, NOW)
    store.rejected_calls.record(RejectReason.SIGN_IN, later)
    store.rejected_calls.record(RejectReason.TOO_LARGE, NOW)
    assert store.rejected_calls.by_reason() == [
        RejectedCalls(RejectReason.SIGN_IN, 2, NOW, later),
        RejectedCalls(RejectReason.MALFORMED, 1, NOW, NOW),
        RejectedCalls(RejectReason.TOO_LARGE, 1, NOW, NOW),
    ]
