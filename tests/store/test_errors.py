"""The status view's sync errors: counted again when they repeat, resolved by what fixes them."""

from __future__ import annotations

import datetime as dt

from support.stores import NOW, new_requests, next_request, queue_plan

from reconciler.store.records import NewStatusError, StatusError


def test_errors_repeat_and_resolve(store, company):
    error = NewStatusError("Invoice for Contoso", "3140", "Invalid reference", "Fix the item")
    first = store.errors.record(company.id, error, NOW)
    assert first == StatusError(
        first.id,
        company.id,
        "Invoice for Contoso",
        "3140",
        "Invalid reference",
        "Fix the item",
        NOW,
        NOW,
        1,
    )
    again = store.errors.record(company.id, error, NOW + dt.timedelta(hours=1))
    assert again.id == first.id and again.occurrences == 2
    assert again.last_seen == NOW + dt.timedelta(hours=1)
    assert store.errors.unresolved(company.id) == [again]
    assert store.errors.resolve_run(company.id, NOW) == 1
    assert store.errors.unresolved(company.id) == []
    assert store.errors.record(company.id, error, NOW).id != first.id


def test_a_repeat_takes_the_newest_wording_and_keeps_its_plan(store, company):
    plan = queue_plan(store, company.id, new_requests(due=1))
    request = next_request(store, company.id)
    first = store.errors.record(
        company.id, NewStatusError("x", "3140", "old", "old", request.id, plan.id), NOW
    )
    again = store.errors.record(
        company.id, NewStatusError("x", "3140", "new", "do this", request.id), NOW
    )
    assert (again.id, again.message, again.what_to_do) == (first.id, "new", "do this")
    assert (again.request_id, again.plan_id) == (request.id, plan.id)
    # Another request's error of the same code and object is another error.
    other = store.errors.record(company.id, NewStatusError("x", "3140", "m", "w"), NOW)
    assert other.id != first.id


def test_errors_resolve_by_request_run_and_plan(store, company):
    old = queue_plan(store, company.id, new_requests(due=1))
    request = next_request(store, company.id)
    new = queue_plan(store, company.id, new_requests(due=1), key="plan-2")
    for plan_id, request_id, code in (
        (None, None, "run"),
        (old.id, request.id, "old"),
        (new.id, None, "new"),
    ):
        store.errors.record(
            company.id, NewStatusError("x", code, "m", "w", request_id, plan_id), NOW
        )
    assert store.errors.resolve_request(company.id, request.id, NOW) == 1
    assert store.errors.resolve_other_plans(company.id, NOW, keep_plan_id=new.id) == 0
    assert store.errors.resolve_run(company.id, NOW) == 1
    assert [e.code for e in store.errors.unresolved(company.id)] == ["new"]


def test_a_newer_plan_resolves_the_errors_of_the_older_ones(store, company):
    old = queue_plan(store, company.id, new_requests(due=1))
    new = queue_plan(store, company.id, new_requests(due=1), key="plan-2")
    for plan_id, code in ((old.id, "old"), (new.id, "new")):
        store.errors.record(company.id, NewStatusError("x", code, "m", "w", None, plan_id), NOW)
    assert store.errors.resolve_other_plans(company.id, NOW, keep_plan_id=new.id) == 1
    assert [e.code for e in store.errors.unresolved(company.id)] == ["new"]
