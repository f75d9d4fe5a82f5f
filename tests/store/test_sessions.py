"""Web Connector sessions, and the documents of a refresh still running."""

from __future__ import annotations

import dataclasses
import datetime as dt

from support.stores import NOW, open_session


def test_a_session_is_found_by_its_ticket_hash_only(store, company):
    session = store.sessions.open(
        company.id,
        ticket_hash="a" * 64,
        ticket_prefix="aaaaaaaa",
        boot_id="boot-1",
        client="10.0.0.7",
        now=NOW,
        expires_at=NOW + dt.timedelta(minutes=30),
        state={"step": "host", "sent": [3, 1, 2]},
    )
    assert (session.company_id, session.boot_id, session.client) == (
        company.id,
        "boot-1",
        "10.0.0.7",
    )
    assert (session.created_at, session.last_seen_at) == (NOW, NOW)
    assert (session.closed_at, session.last_error, session.applied, session.errors) == (
        None,
        None,
        0,
        0,
    )
    assert store.sessions.for_ticket("a" * 64) == session
    assert store.sessions.for_ticket("b" * 64) is None
    assert store.sessions.last(company.id) == session


def test_update_changes_what_is_given_and_keeps_the_rest(store, company):
    session_id = open_session(store, company.id)
    before = store.sessions.last(company.id)
    later = NOW + dt.timedelta(minutes=1)
    # Keys in their own order, not sorted: the state reads back as it was written.
    state = {"step": "write", "queue_ids": [7, 8], "after": {"z": 1, "a": 2}}
    store.sessions.update(session_id, state=state, last_seen_at=later)
    store.sessions.update(session_id, last_error="QuickBooks is busy", applied=2, errors=1)
    store.sessions.update(session_id)
    after = store.sessions.last(company.id)
    assert after == dataclasses.replace(
        before,
        state=state,
        last_seen_at=later,
        last_error="QuickBooks is busy",
        applied=2,
        errors=1,
    )
    assert list(after.state) == ["step", "queue_ids", "after"]
    assert list(after.state["after"]) == ["z", "a"]
    store.sessions.update(session_id, expires_at=later + dt.timedelta(hours=1))
    assert store.sessions.last(company.id).expires_at == later + dt.timedelta(hours=1)


def test_closing_a_session_ends_it_once_and_drops_its_documents(store, company):
    first = open_session(store, company.id, ticket_hash="1" * 64)
    second = open_session(store, company.id)
    store.sessions.add_document(first, "host", "<h/>")
    assert [s.id for s in store.sessions.unclosed(company.id)] == [first, second]
    store.sessions.close(first, NOW)
    store.sessions.close(first, NOW + dt.timedelta(hours=1))
    assert [s.id for s in store.sessions.unclosed(company.id)] == [second]
    # Closed at the first close; a later one changes nothing.
    assert store.sessions.for_ticket("1" * 64).closed_at == NOW
    assert store.sessions.documents(first) == []
    assert store.sessions.last(company.id).id == second


def test_a_session_keeps_its_documents_in_order_by_kind(store, company):
    session_id = open_session(store, company.id)
    other = open_session(store, company.id)
    for kind, document in [("host", "<h/>"), ("items", "<i>é</i>"), ("host", "<h2/>")]:
        store.sessions.add_document(session_id, kind, document)
    store.sessions.add_document(other, "host", "<other/>")
    assert store.sessions.documents(session_id) == ["<h/>", "<i>é</i>", "<h2/>"]
    assert store.sessions.documents(session_id, "host") == ["<h/>", "<h2/>"]
    assert store.sessions.documents(session_id, "invoices") == []
    store.sessions.clear_documents(session_id, keep=("items",))
    assert store.sessions.documents(session_id) == ["<i>é</i>"]
    store.sessions.clear_documents(session_id)
    assert store.sessions.documents(session_id) == []
    assert store.sessions.documents(other) == ["<other/>"]
