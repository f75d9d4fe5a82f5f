"""One transaction spans every concern of the store."""

from __future__ import annotations

import pytest
from support.stores import NOW, new_requests, queue_plan


def test_atomic_rolls_back_everything_on_error(store, company):
    with pytest.raises(RuntimeError), store.atomic():
        queue_plan(store, company.id, new_requests(due=2))
        store.billing_locks.lock(company.id, "advance", NOW, None)
        store.audit.add(company.id, actor="me", action="apply", at=NOW)
        store.companies.record_contact(company.id, NOW)
        raise RuntimeError("crash before the answer")
    assert store.plans.for_company(company.id) == []
    assert store.queue.requests(company.id) == []
    assert store.billing_locks.get(company.id) is None
    assert store.audit.newest(company.id) == []
    assert store.companies.get(company.id).last_contact is None


def test_nested_atomic_joins_the_outer_transaction(store, company):
    with pytest.raises(RuntimeError), store.atomic():
        store.billing_locks.lock(company.id, "advance", NOW, None)
        with store.atomic():
            queue_plan(store, company.id, new_requests(due=1))
        raise RuntimeError("the answer was never sent")
    assert store.billing_locks.get(company.id) is None
    assert store.plans.for_company(company.id) == []


def test_a_transaction_that_ends_well_keeps_everything(store, company):
    with store.atomic():
        plan = queue_plan(store, company.id, new_requests(due=1))
        with store.atomic():
            store.billing_locks.lock(company.id, "advance", NOW, plan.id)
    assert store.plans.for_company(company.id) == [plan]
    assert store.billing_locks.get(company.id).plan_id == plan.id
