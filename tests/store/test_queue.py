"""Plans and the queue: requests held, due, sent and finished; plans done, superseded, stale."""

from __future__ import annotations

import datetime as dt

import pytest
from support.stores import NOW, add_company, new_requests, next_request, open_session, queue_plan

from reconciler.store.records import NewRequest, PlanStatus, RequestState, ResponseRecord


def test_queue_plan_holds_future_requests_and_orders_due_ones(store, company):
    plan = queue_plan(store, company.id, new_requests(held=1, due=2))
    counts = store.queue.counts(company.id)
    assert counts.count(RequestState.HELD) == 1
    assert counts.count(RequestState.QUEUED) == 2
    assert counts.next_due == NOW + dt.timedelta(days=4)
    first, *rest = store.queue.next(company.id, limit=5)
    assert rest and first.sequence == 2 and first.request_id == f"r{first.id}"
    assert store.plans.get(plan.id).status is PlanStatus.QUEUED
    assert store.plans.document(plan.id) == '{"plan": 1}'


def test_a_queued_request_is_what_the_plan_rendered(store, company):
    new = NewRequest(
        "InvoiceAddRq",
        "Invoice for Contoso",
        "<InvoiceAddRq requestID='q-7'/>",
        NOW - dt.timedelta(hours=1),
        "{GUID}",
        {"customer": "Contoso", "txn_date": "2024-06-01"},
        "q-7",
    )
    plan = queue_plan(store, company.id, [new])
    [queued] = store.queue.next(company.id)
    assert store.queue.get(queued.id) == queued
    assert (queued.plan_id, queued.company_id, queued.sequence) == (plan.id, company.id, 1)
    assert (queued.kind, queued.label, queued.qbxml, queued.request_id) == (
        new.kind,
        new.label,
        new.qbxml,
        "q-7",
    )
    assert (queued.external_guid, queued.lookup, queued.not_before) == (
        "{GUID}",
        new.lookup,
        new.not_before,
    )
    # A not-before time already past: due at once.
    assert (queued.state, queued.attempts, queued.sent_at, queued.updated_at) == (
        RequestState.QUEUED,
        0,
        None,
        NOW,
    )
    with pytest.raises(KeyError):
        store.queue.get(queued.id + 1)


def test_a_plan_without_requests_is_done_at_once(store, company):
    plan = queue_plan(store, company.id, [])
    assert plan.status is PlanStatus.DONE
    assert (plan.key, plan.qb_fingerprint, plan.billing_mode, plan.applied_at) == (
        "plan-1",
        "fp",
        "advance",
        NOW,
    )
    assert store.plans.for_company(company.id) == [plan]
    with pytest.raises(KeyError):
        store.plans.get(plan.id + 1)
    with pytest.raises(KeyError):
        store.plans.document(plan.id + 1)


def test_release_makes_held_requests_due_at_their_time_and_failed_ones_again(store, company):
    queue_plan(store, company.id, new_requests(held=1, due=1))
    due = next_request(store, company.id)
    store.queue.mark_sent(due.id, session_id=open_session(store, company.id), at=NOW)
    store.queue.finish(due.id, RequestState.FAILED, NOW, None)
    assert store.queue.release_due(company.id, NOW) == 1  # the failed one only
    assert store.queue.release_due(company.id, NOW + dt.timedelta(days=4)) == 1
    assert store.queue.counts(company.id).count(RequestState.QUEUED) == 2


def test_finishing_every_request_finishes_the_plan(store, company):
    plan = queue_plan(store, company.id, new_requests(due=2))
    session_id = open_session(store, company.id)
    while (request := next_request(store, company.id)) is not None:
        store.queue.mark_sent(request.id, session_id=session_id, at=NOW)
        assert store.plans.get(plan.id).status is PlanStatus.QUEUED
        response = ResponseRecord(request.id, session_id, NOW, 0, "Info", "Status OK", "80-1")
        store.queue.finish(request.id, RequestState.DONE, NOW, response)
    assert store.plans.get(plan.id).status is PlanStatus.DONE
    done = store.queue.requests(company.id, [RequestState.DONE])
    assert [r.attempts for r in done] == [1, 1]
    assert store.queue.responses(done[0].id)[0].txn_id == "80-1"


def test_a_plan_is_done_only_once_every_request_is(store, company):
    plan = queue_plan(store, company.id, new_requests(due=3))
    session_id = open_session(store, company.id)
    first, second, third = store.queue.next(company.id, 3)
    for request, state in [
        (first, RequestState.DONE),
        (second, RequestState.FAILED),
        (third, RequestState.DONE),
    ]:
        store.queue.mark_sent(request.id, session_id=session_id, at=NOW)
        store.queue.finish(request.id, state, NOW, None)
        assert store.plans.get(plan.id).status is PlanStatus.QUEUED
    assert store.queue.release_due(company.id, NOW) == 1
    store.queue.mark_sent(second.id, session_id=session_id, at=NOW)
    store.queue.finish(second.id, RequestState.DONE, NOW, None)
    assert store.plans.get(plan.id).status is PlanStatus.DONE


def test_a_document_of_several_requests_is_sent_and_answered_together(store, company):
    plan = queue_plan(store, company.id, new_requests(due=3))
    session_id = open_session(store, company.id)
    batch = store.queue.next(company.id, 2)
    later = NOW + dt.timedelta(seconds=3)
    store.queue.mark_all_sent([r.id for r in batch], session_id=session_id, at=NOW)
    sent = store.queue.awaiting_outcome(company.id)
    assert [r.id for r in sent] == [r.id for r in batch]
    assert {(r.state, r.attempts, r.sent_at) for r in sent} == {(RequestState.SENT, 1, NOW)}
    responses = [
        ResponseRecord(
            r.id, session_id, later, 0, "Info", "Status OK", f"{r.id}-1", f"<Rs>{n}é</Rs>"
        )
        for n, r in enumerate(batch)
    ]
    store.queue.finish_all(
        [(r.id, response) for r, response in zip(batch, responses, strict=True)],
        RequestState.DONE,
        later,
    )
    assert store.queue.awaiting_outcome(company.id) == []
    for request, response in zip(batch, responses, strict=True):
        assert store.queue.responses(request.id) == [response]
        assert store.queue.get(request.id).updated_at == later
    assert store.plans.get(plan.id).status is PlanStatus.QUEUED
    store.queue.finish_all([], RequestState.DONE, later)
    assert store.queue.counts(company.id).count(RequestState.DONE) == 2


def test_every_response_of_a_request_is_kept_oldest_first(store, company):
    queue_plan(store, company.id, new_requests(due=1))
    request = next_request(store, company.id)
    session_id = open_session(store, company.id)
    refused = ResponseRecord(request.id, session_id, NOW, 3170, "Error", "in use")
    store.queue.mark_sent(request.id, session_id=session_id, at=NOW)
    store.queue.finish(request.id, RequestState.FAILED, NOW, refused)
    store.queue.release_due(company.id, NOW)
    store.queue.mark_sent(request.id, session_id=session_id, at=NOW)
    applied = ResponseRecord(request.id, None, NOW, 0, "Info", "Status OK", "80-1", None)
    store.queue.finish(request.id, RequestState.DONE, NOW, applied)
    assert store.queue.responses(request.id) == [refused, applied]
    assert store.queue.get(request.id).attempts == 2


def test_a_requeue_of_a_request_never_processed_gives_its_attempt_back(store, company):
    queue_plan(store, company.id, new_requests(due=2))
    first, second = store.queue.next(company.id, 2)
    session_id = open_session(store, company.id)
    store.queue.mark_all_sent([first.id, second.id], session_id=session_id, at=NOW)
    store.queue.requeue(first.id, NOW, unsent=True)
    store.queue.requeue(second.id, NOW)
    assert store.queue.get(first.id).attempts == 0
    assert store.queue.get(second.id).attempts == 1
    assert {r.state for r in store.queue.requests(company.id)} == {RequestState.QUEUED}
    store.queue.requeue(first.id, NOW, unsent=True)
    assert store.queue.get(first.id).attempts == 0


def test_requests_are_counted_by_state_and_kind(store, company):
    queue_plan(store, company.id, new_requests(held=2, due=1))
    assert store.queue.count(company.id, [RequestState.HELD]) == 2
    assert store.queue.count(company.id, [RequestState.HELD, RequestState.QUEUED]) == 3
    assert store.queue.count(company.id, [RequestState.HELD], "InvoiceAddRq") == 2
    assert store.queue.count(company.id, [RequestState.QUEUED], "InvoiceAddRq") == 0
    assert store.queue.count(company.id, []) == 0
    assert [r.kind for r in store.queue.requests(company.id, [RequestState.HELD])] == [
        "InvoiceAddRq",
        "InvoiceAddRq",
    ]
    assert len(store.queue.requests(company.id)) == 3


def test_the_queue_is_kept_per_company(store, company):
    other = add_company(store, name="Contoso", username="contoso")
    queue_plan(store, company.id, new_requests(held=1, due=1))
    assert store.queue.next(other.id) == []
    assert store.queue.requests(other.id) == []
    assert store.queue.counts(other.id).by_state == {}
    assert store.queue.counts(other.id).next_due is None
    assert not store.queue.has_due(other.id, NOW)
    assert store.plans.for_company(other.id) == []


def test_a_new_plan_supersedes_what_an_older_one_never_sent(store, company):
    old = queue_plan(store, company.id, new_requests(held=1, due=2))
    sent = next_request(store, company.id)
    store.queue.mark_sent(sent.id, session_id=open_session(store, company.id), at=NOW)
    new = queue_plan(store, company.id, new_requests(due=1), key="plan-2")
    assert store.plans.get(old.id).status is PlanStatus.SUPERSEDED
    assert store.plans.get(old.id).status_reason == f"superseded by plan {new.id}"
    states = {r.id: r.state for r in store.queue.requests(company.id) if r.plan_id == old.id}
    # The sent one keeps waiting for its outcome; the others never go out.
    assert states[sent.id] is RequestState.SENT
    assert sorted(states.values()) == sorted(
        [RequestState.SENT, RequestState.STALE, RequestState.STALE]
    )
    assert store.queue.awaiting_outcome(company.id)[0].id == sent.id
    assert [p.id for p in store.plans.for_company(company.id)] == [new.id, old.id]


def test_a_stale_plan_sends_nothing_more(store, company):
    plan = queue_plan(store, company.id, new_requests(held=1, due=2))
    assert store.plans.mark_stale(plan.id, "3200: edited in QuickBooks", NOW) == 3
    assert next_request(store, company.id) is None
    assert store.plans.get(plan.id).status is PlanStatus.STALE
    assert store.plans.get(plan.id).status_reason == "3200: edited in QuickBooks"
    assert not store.queue.has_due(company.id, NOW + dt.timedelta(days=30))


def test_has_due_requests(store, company):
    assert not store.queue.has_due(company.id, NOW)
    queue_plan(store, company.id, new_requests(held=1, due=0))
    assert not store.queue.has_due(company.id, NOW)
    assert store.queue.has_due(company.id, NOW + dt.timedelta(days=4))


def test_plan_history_says_who_applied_each_plan_and_how_far_it_got(store, company):
    old = queue_plan(store, company.id, new_requests(held=1, due=1))
    store.audit.add(company.id, actor="ci@runner", action="plan", at=NOW, plan_id=old.id)
    applied = store.audit.add(
        company.id, actor="ci@runner", action="apply", at=NOW, plan_id=old.id, commit="abc123"
    )
    request = next_request(store, company.id)
    store.queue.mark_sent(request.id, session_id=open_session(store, company.id), at=NOW)
    store.queue.finish(request.id, RequestState.DONE, NOW, None)
    new = queue_plan(store, company.id, new_requests(due=2), key="plan-2")
    newest, oldest = store.plans.history(company.id)
    assert (newest.plan, newest.applied, newest.requests) == (
        store.plans.get(new.id),
        None,
        {RequestState.QUEUED: 2},
    )
    assert (newest.total, newest.done) == (2, 0)
    assert (oldest.plan.id, oldest.applied) == (old.id, applied)
    assert oldest.requests == {RequestState.DONE: 1, RequestState.STALE: 1}
    assert (oldest.total, oldest.done) == (1, 1)
    assert [entry.plan.id for entry in store.plans.history(company.id, limit=1)] == [new.id]
