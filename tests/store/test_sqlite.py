"""The SQLite store: schema, queue life cycle, errors, locks, transactions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import sqlite3
import threading
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.qbwc import new_store

from reconciler.store import StoreError, open_store
from reconciler.store.records import (
    CreatedInvoice,
    NewRequest,
    NewStatusError,
    PlanStatus,
    RequestState,
    ResponseRecord,
)
from reconciler.store.rows import timestamp_text as _ts
from reconciler.store.schema import MIGRATIONS, SCHEMA_VERSION
from reconciler.store.sqlite import DATABASE_NAME

NOW = dt.datetime(2024, 5, 28, 15, 0, tzinfo=dt.UTC)


def _requests(*, held: int = 0, due: int = 2) -> list[NewRequest]:
    later = NOW + dt.timedelta(days=4)
    return [
        NewRequest(
            "InvoiceAddRq", f"Invoice {n}", f"<InvoiceAddRq>{n}</InvoiceAddRq>", later, f"guid-{n}"
        )
        for n in range(held)
    ] + [
        NewRequest("ItemServiceModRq", f"Item {n}", f"<ItemServiceModRq>{n}</ItemServiceModRq>")
        for n in range(due)
    ]


def _queue(store, company_id, requests, key="plan-1"):
    return store.plans.queue(
        company_id,
        key=key,
        qb_fingerprint="fp",
        billing_mode="advance",
        document='{"plan": 1}',
        requests=requests,
        applied_at=NOW,
    )


def test_schema_is_created_with_wal_and_its_version(tmp_path):
    store, _ = new_store(tmp_path)
    conn = sqlite3.connect(tmp_path / DATABASE_NAME)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    # NORMAL (1) is durable across a crash of the process only with WAL.
    with store.atomic():
        assert store.database.row("PRAGMA synchronous")[0] == 1  # type: ignore[attr-defined]
    store.close()


def test_reopening_keeps_identity_and_refuses_a_newer_schema(tmp_path):
    store, company = new_store(tmp_path)
    identity = store.installation.app_identity()
    store.close()
    reopened_store = open_store(tmp_path)
    assert reopened_store.installation.app_identity() == identity
    assert reopened_store.companies.by_username("acme") == company
    reopened_store.close()
    conn = sqlite3.connect(tmp_path / DATABASE_NAME)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer reconciler"):
        open_store(tmp_path)


def test_not_a_database_is_a_clear_error(tmp_path):
    (tmp_path / DATABASE_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot use the state database"):
        open_store(tmp_path)


def test_register_company_keeps_its_file_id(tmp_path):
    store, company = new_store(tmp_path)
    assert company.file_id.startswith("{") and company.file_id.endswith("}")
    again = store.companies.register(company.name, username="other", company_file="C:\\a.qbw")
    assert again.file_id == company.file_id
    assert again.username == "other"
    assert store.companies.by_username("acme") is None


def test_queue_plan_holds_future_requests_and_orders_due_ones(tmp_path):
    store, company = new_store(tmp_path)
    plan = _queue(store, company.id, _requests(held=1, due=2))
    counts = store.queue.counts(company.id)
    assert counts.count(RequestState.HELD) == 1
    assert counts.count(RequestState.QUEUED) == 2
    assert counts.next_due == NOW + dt.timedelta(days=4)
    first, *rest = store.queue.next(company.id, limit=5)
    assert rest and first.sequence == 2 and first.request_id == f"r{first.id}"
    assert store.plans.get(plan.id).status is PlanStatus.QUEUED
    assert store.plans.document(plan.id) == '{"plan": 1}'


def test_release_makes_held_requests_due_at_their_time_and_failed_ones_again(tmp_path):
    store, company = new_store(tmp_path)
    _queue(store, company.id, _requests(held=1, due=1))
    due = _next(store, company.id)
    store.queue.mark_sent(due.id, session_id=_session(store, company.id), at=NOW)
    store.queue.finish(due.id, RequestState.FAILED, NOW, None)
    assert store.queue.release_due(company.id, NOW) == 1  # the failed one only
    assert store.queue.release_due(company.id, NOW + dt.timedelta(days=4)) == 1
    assert store.queue.counts(company.id).count(RequestState.QUEUED) == 2


def _next(store, company_id):
    found = store.queue.next(company_id)
    return found[0] if found else None


def _session(store, company_id, ticket_hash="h" * 64):
    return store.sessions.open(
        company_id,
        ticket_hash=ticket_hash,
        ticket_prefix="hhhhhhhh",
        boot_id="boot",
        client="127.0.0.1",
        now=NOW,
        expires_at=NOW + dt.timedelta(minutes=30),
        state={},
    ).id


_TICKETS = itertools.count(1)


def _snapshot(store, company_id, documents=(), coverage=None):
    """A snapshot taken the way a run takes one: of a session's refresh documents."""
    session_id = _session(store, company_id, ticket_hash=f"{next(_TICKETS):064x}")
    for document in documents:
        store.sessions.add_document(session_id, "host", document)
    return store.snapshots.save_from_session(
        company_id, session_id, taken_at=NOW, qbxml_version="13.0", coverage=coverage
    )


def test_finishing_every_request_finishes_the_plan(tmp_path):
    store, company = new_store(tmp_path)
    plan = _queue(store, company.id, _requests(due=2))
    session_id = _session(store, company.id)
    while (request := _next(store, company.id)) is not None:
        store.queue.mark_sent(request.id, session_id=session_id, at=NOW)
        assert store.plans.get(plan.id).status is PlanStatus.QUEUED
        response = ResponseRecord(request.id, session_id, NOW, 0, "Info", "Status OK", "80-1")
        store.queue.finish(request.id, RequestState.DONE, NOW, response)
    assert store.plans.get(plan.id).status is PlanStatus.DONE
    done = store.queue.requests(company.id, [RequestState.DONE])
    assert [r.attempts for r in done] == [1, 1]
    assert store.queue.responses(done[0].id)[0].txn_id == "80-1"


def test_a_plan_is_done_only_once_every_request_is(tmp_path):
    store, company = new_store(tmp_path)
    plan = _queue(store, company.id, _requests(due=3))
    session_id = _session(store, company.id)
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


_ZONES = st.sampled_from(
    [dt.UTC, ZoneInfo("America/New_York"), dt.timezone(dt.timedelta(hours=5, minutes=30))]
)


@given(st.datetimes(min_value=dt.datetime(1900, 1, 1), timezones=_ZONES))
def test_timestamps_are_utc_text_that_sorts(moment):
    assert _ts(moment) == moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_a_new_plan_supersedes_what_an_older_one_never_sent(tmp_path):
    store, company = new_store(tmp_path)
    old = _queue(store, company.id, _requests(held=1, due=2))
    sent = _next(store, company.id)
    store.queue.mark_sent(sent.id, session_id=_session(store, company.id), at=NOW)
    new = _queue(store, company.id, _requests(due=1), key="plan-2")
    assert store.plans.get(old.id).status is PlanStatus.SUPERSEDED
    assert store.plans.get(old.id).status_reason == f"superseded by plan {new.id}"
    states = {r.id: r.state for r in store.queue.requests(company.id) if r.plan_id == old.id}
    # The sent one keeps waiting for its outcome; the others never go out.
    assert states[sent.id] is RequestState.SENT
    assert sorted(states.values()) == sorted(
        [RequestState.SENT, RequestState.STALE, RequestState.STALE]
    )
    assert store.queue.awaiting_outcome(company.id)[0].id == sent.id


def test_a_stale_plan_sends_nothing_more(tmp_path):
    store, company = new_store(tmp_path)
    plan = _queue(store, company.id, _requests(held=1, due=2))
    assert store.plans.mark_stale(plan.id, "3200: edited in QuickBooks", NOW) == 3
    assert _next(store, company.id) is None
    assert store.plans.get(plan.id).status is PlanStatus.STALE
    assert not store.queue.has_due(company.id, NOW + dt.timedelta(days=30))


def test_has_due_requests(tmp_path):
    store, company = new_store(tmp_path)
    assert not store.queue.has_due(company.id, NOW)
    _queue(store, company.id, _requests(held=1, due=0))
    assert not store.queue.has_due(company.id, NOW)
    assert store.queue.has_due(company.id, NOW + dt.timedelta(days=4))


def test_errors_repeat_and_resolve(tmp_path):
    store, company = new_store(tmp_path)
    error = NewStatusError("Invoice for Contoso", "3140", "Invalid reference", "Fix the item")
    first = store.errors.record(company.id, error, NOW)
    again = store.errors.record(company.id, error, NOW + dt.timedelta(hours=1))
    assert again.id == first.id and again.occurrences == 2
    assert again.last_seen == NOW + dt.timedelta(hours=1)
    assert store.errors.resolve_run(company.id, NOW) == 1
    assert store.errors.unresolved(company.id) == []
    assert store.errors.record(company.id, error, NOW).id != first.id


def test_errors_resolve_by_request_run_and_plan(tmp_path):
    store, company = new_store(tmp_path)
    old = _queue(store, company.id, _requests(due=1))
    request = _next(store, company.id)
    new = _queue(store, company.id, _requests(due=1), key="plan-2")
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


def test_billing_mode_lock_is_set_once(tmp_path):
    store, company = new_store(tmp_path)
    assert store.billing_locks.get(company.id) is None
    assert store.billing_locks.lock(company.id, "advance", NOW, None).mode == "advance"
    assert store.billing_locks.lock(company.id, "arrears", NOW, None).mode == "advance"


def test_snapshots_are_versioned_and_keep_their_documents(tmp_path):
    store, company = new_store(tmp_path)
    documents = ["<QBXML>" + "x" * 10_000 + "</QBXML>", "<QBXML>é</QBXML>"]
    first = _snapshot(store, company.id, documents)
    second = _snapshot(store, company.id)
    assert (first.version, second.version) == (1, 2)
    assert first.fingerprint is None and second.fingerprint is None
    store.snapshots.set_fingerprint(first.id, "a")
    store.snapshots.set_fingerprint(second.id, "b")
    assert store.snapshots.latest(company.id).fingerprint == "b"
    assert store.snapshots.latest(company.id) == dataclasses.replace(second, fingerprint="b")
    assert first.document_count == 2
    assert store.snapshots.documents(first.id) == documents
    size = (
        sqlite3.connect(tmp_path / DATABASE_NAME)
        .execute("SELECT length(document) FROM snapshot_documents WHERE seq = 1")
        .fetchone()[0]
    )
    assert size < 1_000  # compressed


def test_a_session_snapshot_holds_the_session_documents_in_order(tmp_path):
    store, company = new_store(tmp_path)
    session_id = _session(store, company.id)
    for kind, document in [("host", "<h/>"), ("items", "<i/>"), ("invoices", "<v/>")]:
        store.sessions.add_document(session_id, kind, document)
    store.sessions.clear_documents(session_id, keep=("host", "invoices"))
    store.sessions.add_document(session_id, "created", "<c>é</c>")
    _snapshot(store, company.id)
    coverage = {"customer_ids": ["80-1"]}
    snapshot = store.snapshots.save_from_session(
        company.id, session_id, taken_at=NOW, qbxml_version="16.0", coverage=coverage
    )
    assert (snapshot.version, snapshot.document_count) == (2, 3)
    assert (snapshot.qbxml_version, snapshot.coverage, snapshot.fingerprint) == (
        "16.0",
        coverage,
        None,
    )
    assert store.snapshots.latest(company.id) == snapshot
    assert store.snapshots.documents(snapshot.id) == ["<h/>", "<v/>", "<c>é</c>"]
    assert store.sessions.documents(session_id) == ["<h/>", "<v/>", "<c>é</c>"]


def test_atomic_rolls_back_everything_on_error(tmp_path):
    store, company = new_store(tmp_path)
    with pytest.raises(RuntimeError), store.atomic():
        _queue(store, company.id, _requests(due=2))
        store.billing_locks.lock(company.id, "advance", NOW, None)
        raise RuntimeError("crash before the answer")
    assert store.plans.for_company(company.id) == []
    assert store.billing_locks.get(company.id) is None


def test_nested_atomic_joins_the_outer_transaction(tmp_path):
    store, company = new_store(tmp_path)
    with pytest.raises(RuntimeError), store.atomic():
        store.billing_locks.lock(company.id, "advance", NOW, None)
        with store.atomic():
            _queue(store, company.id, _requests(due=1))
        raise RuntimeError("the answer was never sent")
    assert store.billing_locks.get(company.id) is None
    assert store.plans.for_company(company.id) == []


def test_threads_write_concurrently_without_losing_anything(tmp_path):
    store, _ = new_store(tmp_path)
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


def test_failed_sign_ins_count_per_client_whatever_the_user(tmp_path):
    store, _ = new_store(tmp_path)
    store.sign_ins.record_failure("acme", "a", NOW)
    store.sign_ins.record_failure("acme", "b", NOW)
    store.sign_ins.record_failure("other", "b", NOW)
    store.sign_ins.record_failure("acme", "b", NOW - dt.timedelta(hours=1))
    assert store.sign_ins.failures("b", NOW - dt.timedelta(minutes=15)) == 2
    assert store.sign_ins.failures("a", NOW - dt.timedelta(minutes=15)) == 1
    store.sign_ins.clear_failures("b")
    assert store.sign_ins.failures("b", NOW - dt.timedelta(days=1)) == 0
    assert store.sign_ins.failures("a", NOW - dt.timedelta(days=1)) == 1


def test_created_invoices_are_recorded_by_guid_and_found_deleted(tmp_path):
    store, company = new_store(tmp_path)
    store.created_invoices.record(
        company.id,
        [CreatedInvoice("{6F9619FF-8B86-D011-B42D-00C04FC964FF}", "10-1", "Contoso", "2026-12-01")],
        NOW,
    )
    [created] = store.created_invoices.for_company(company.id)
    assert created.external_guid == "6f9619ff-8b86-d011-b42d-00c04fc964ff"
    assert (created.txn_id, created.customer, created.deleted_at) == ("10-1", "Contoso", None)
    store.created_invoices.mark_deleted(company.id, "10-1", NOW)
    [deleted] = store.created_invoices.for_company(company.id)
    assert deleted.deleted_at == NOW
    # Created again (deleted in QuickBooks, so planned again): the new TxnID, live.
    store.created_invoices.record(
        company.id,
        [CreatedInvoice("6f9619ff-8b86-d011-b42d-00c04fc964ff", "20-2", None, None)],
        NOW,
    )
    [again] = store.created_invoices.for_company(company.id)
    assert (again.txn_id, again.customer, again.deleted_at) == ("20-2", "Contoso", None)


def test_created_invoices_are_recorded_together(tmp_path):
    store, company = new_store(tmp_path)
    _queue(store, company.id, _requests(due=2))
    first = store.queue.requests(company.id)[0].id
    store.created_invoices.record(
        company.id,
        [
            CreatedInvoice("{AAAAAAAA-0000-0000-0000-000000000001}", "1-1", "A", None, None, first),
            CreatedInvoice("bbbbbbbb-0000-0000-0000-000000000002", "2-2", "B", "2026-12-01"),
            # The same GUID again in the batch: the later TxnID, the earlier request kept.
            CreatedInvoice("aaaaaaaa-0000-0000-0000-000000000001", "3-3", None, None, NOW, None),
        ],
        NOW,
    )
    found = {c.external_guid: c for c in store.created_invoices.for_company(company.id)}
    assert found == {
        "aaaaaaaa-0000-0000-0000-000000000001": CreatedInvoice(
            "aaaaaaaa-0000-0000-0000-000000000001", "3-3", "A", None, None, first
        ),
        "bbbbbbbb-0000-0000-0000-000000000002": CreatedInvoice(
            "bbbbbbbb-0000-0000-0000-000000000002", "2-2", "B", "2026-12-01"
        ),
    }


def test_a_snapshot_keeps_its_coverage(tmp_path):
    store, company = new_store(tmp_path)
    coverage = {"windows": [["2026-11-01", "2027-01-31"]], "customer_ids": ["80-1"]}
    _snapshot(store, company.id, coverage=coverage)
    _snapshot(store, company.id)
    first, second = (
        store.snapshots.latest(company.id),
        _snapshot(store, company.id, coverage=coverage),
    )
    assert first is not None and first.coverage is None
    assert second.coverage == coverage == store.snapshots.latest(company.id).coverage


def test_migration_3_learns_the_invoices_created_before_it(tmp_path):
    """A store of schema 2 with an InvoiceAdd answered: its TxnID is known after upgrading."""
    conn = sqlite3.connect(tmp_path / DATABASE_NAME)
    conn.executescript(MIGRATIONS[0] + MIGRATIONS[1])
    conn.executescript(
        """
        INSERT INTO companies (id, name, username, file_id, created_at, updated_at)
            VALUES (1, 'Acme', 'acme', '{F}', 'x', 'x');
        INSERT INTO plans (id, company_id, key, qb_fingerprint, billing_mode, document,
            applied_at, status, updated_at) VALUES (1, 1, 'k', 'fp', 'advance', x'', 'x',
            'done', 'x');
        INSERT INTO requests (id, plan_id, company_id, sequence, kind, label, qbxml, request_id,
            external_guid, lookup, state, updated_at) VALUES
            (1, 1, 1, 1, 'InvoiceAddRq', 'l', 'q', 'r1', '{AB-CD}',
             '{"customer": "Contoso", "txn_date": "2026-12-01"}', 'done', 'x'),
            (2, 1, 1, 2, 'InvoiceAddRq', 'l', 'q', 'r2', '{EF-01}', '{}', 'failed', 'x');
        INSERT INTO responses (request_id, received_at, status_code, status_severity,
            status_message, txn_id) VALUES
            (1, '2026-12-01T10:00:00.000000Z', 0, 'Info', 'Status OK', '99-1'),
            (2, '2026-12-01T10:00:00.000000Z', 3140, 'Error', 'refused', NULL);
        PRAGMA user_version = 2;
        """
    )
    conn.close()
    store = open_store(tmp_path)
    [created] = store.created_invoices.for_company(1)
    assert (created.external_guid, created.txn_id, created.customer, created.txn_date) == (
        "ab-cd",
        "99-1",
        "Contoso",
        "2026-12-01",
    )
    store.close()


def test_a_read_only_store_writes_nothing_and_is_never_created(tmp_path):
    with pytest.raises(StoreError, match="cannot use the state database"):
        open_store(tmp_path / "nowhere", read_only=True)
    assert not (tmp_path / "nowhere").exists()
    store, company = new_store(tmp_path)
    store.close()
    read_only_store = open_store(tmp_path, read_only=True)
    assert read_only_store.companies.get(company.id).name == company.name
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        read_only_store.companies.record_contact(company.id, NOW)
    read_only_store.close()


def test_a_read_only_open_of_an_older_store_upgrades_it_first(tmp_path):
    store, company = new_store(tmp_path)
    store.close()
    conn = sqlite3.connect(tmp_path / DATABASE_NAME)
    conn.executescript(
        "DROP TABLE created_invoices; ALTER TABLE snapshots DROP COLUMN coverage;"
        "DROP INDEX failed_sign_ins_by_client; DROP TABLE rejected_calls;"
        "PRAGMA user_version = 2;"
    )
    conn.close()
    read_only_store = open_store(tmp_path, read_only=True)
    assert read_only_store.created_invoices.for_company(company.id) == []
    assert read_only_store.snapshots.latest(company.id) is None
    assert read_only_store.rejected_calls.by_reason() == []
    read_only_store.close()


def test_audit_log(tmp_path):
    store, company = new_store(tmp_path)
    plan = _queue(store, company.id, _requests(due=1))
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
