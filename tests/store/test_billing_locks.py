"""The billing mode, locked by the first apply."""

from __future__ import annotations

from support.stores import NOW, add_company, new_requests, queue_plan

from reconciler.store.records import BillingLock


def test_billing_mode_lock_is_set_once(store, company):
    assert store.billing_locks.get(company.id) is None
    assert store.billing_locks.lock(company.id, "advance", NOW, None).mode == "advance"
    assert store.billing_locks.lock(company.id, "arrears", NOW, None).mode == "advance"


def test_the_lock_says_when_and_by_which_plan(store, company):
    plan = queue_plan(store, company.id, new_requests(due=1))
    lock = store.billing_locks.lock(company.id, "arrears", NOW, plan.id)
    assert lock == BillingLock(company.id, "arrears", NOW, plan.id)
    assert store.billing_locks.get(company.id) == lock
    other = add_company(store, name="Contoso", username="contoso")
    assert store.billing_locks.get(other.id) is None
