"""The audit log: who did what, when, from which commit."""

from __future__ import annotations

import datetime as dt

from support.stores import NOW, add_company, new_requests, queue_plan


def test_audit_log(store, company):
    plan = queue_plan(store, company.id, new_requests(due=1))
    entry = store.audit.add(
        company.id,
        actor="ci@runner",
        action="apply",
        at=NOW,
        plan_id=plan.id,
        commit="abc123",
        detail={"changes": 1},
    )
    assert store.audit.newest(company.id) == [entry]
    assert entry.commit == "abc123" and entry.detail == {"changes": 1}
    assert (entry.company_id, entry.at, entry.actor, entry.action, entry.plan_id) == (
        company.id,
        NOW,
        "ci@runner",
        "apply",
        plan.id,
    )


def test_the_newest_entries_come_first_and_per_company(store, company):
    other = add_company(store, name="Contoso", username="contoso")
    entries = [
        store.audit.add(company.id, actor="me", action=f"a{n}", at=NOW + dt.timedelta(minutes=n))
        for n in range(3)
    ]
    store.audit.add(other.id, actor="me", action="elsewhere", at=NOW)
    assert store.audit.newest(company.id) == entries[::-1]
    assert store.audit.newest(company.id, limit=2) == entries[:0:-1]
    assert (entries[0].plan_id, entries[0].commit, entries[0].detail) == (None, None, {})
    assert [e.action for e in store.audit.newest(other.id)] == ["elsewhere"]
