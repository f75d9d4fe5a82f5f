"""Snapshots of QuickBooks, and the invoices reconciler created."""

from __future__ import annotations

import dataclasses

from support.stores import NOW, add_company, new_requests, open_session, queue_plan, take_snapshot

from reconciler.store.records import CreatedInvoice


def test_snapshots_are_versioned_and_keep_their_documents(store, company):
    documents = ["<QBXML>" + "x" * 10_000 + "</QBXML>", "<QBXML>é</QBXML>"]
    first = take_snapshot(store, company.id, documents)
    second = take_snapshot(store, company.id)
    assert (first.version, second.version) == (1, 2)
    assert first.fingerprint is None and second.fingerprint is None
    store.snapshots.set_fingerprint(first.id, "a")
    store.snapshots.set_fingerprint(second.id, "b")
    assert store.snapshots.latest(company.id).fingerprint == "b"
    assert store.snapshots.latest(company.id) == dataclasses.replace(second, fingerprint="b")
    assert first.document_count == 2
    assert store.snapshots.documents(first.id) == documents


def test_a_company_has_no_snapshot_until_one_is_taken(store, company):
    assert store.snapshots.latest(company.id) is None
    snapshot = take_snapshot(store, company.id)
    assert (snapshot.company_id, snapshot.taken_at, snapshot.qbxml_version) == (
        company.id,
        NOW,
        "13.0",
    )
    assert (snapshot.document_count, store.snapshots.documents(snapshot.id)) == (0, [])


def test_a_session_snapshot_holds_the_session_documents_in_order(store, company):
    session_id = open_session(store, company.id)
    for kind, document in [("host", "<h/>"), ("items", "<i/>"), ("invoices", "<v/>")]:
        store.sessions.add_document(session_id, kind, document)
    store.sessions.clear_documents(session_id, keep=("host", "invoices"))
    store.sessions.add_document(session_id, "created", "<c>é</c>")
    take_snapshot(store, company.id)
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


def test_a_snapshot_keeps_its_coverage(store, company):
    coverage = {"windows": [["2026-11-01", "2027-01-31"]], "customer_ids": ["80-1"]}
    take_snapshot(store, company.id, coverage=coverage)
    take_snapshot(store, company.id)
    first, second = (
        store.snapshots.latest(company.id),
        take_snapshot(store, company.id, coverage=coverage),
    )
    assert first is not None and first.coverage is None
    assert second.coverage == coverage == store.snapshots.latest(company.id).coverage


def test_requests_sent_outdate_the_snapshot_until_the_next_one(store, company):
    take_snapshot(store, company.id)
    store.snapshots.mark_outdated(company.id)
    assert store.companies.get(company.id).snapshot_outdated
    take_snapshot(store, company.id)
    assert not store.companies.get(company.id).snapshot_outdated


def test_created_invoices_are_recorded_by_guid_and_found_deleted(store, company):
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


def test_created_invoices_are_recorded_together(store, company):
    queue_plan(store, company.id, new_requests(due=2))
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


def test_created_invoices_are_kept_per_company(store, company):
    other = add_company(store, name="Contoso", username="contoso")
    invoice = CreatedInvoice("cccccccc-0000-0000-0000-000000000003", "5-5", "C", None)
    store.created_invoices.record(company.id, [invoice], NOW)
    assert store.created_invoices.for_company(other.id) == []
    store.created_invoices.mark_deleted(other.id, "5-5", NOW)
    assert store.created_invoices.for_company(company.id) == [invoice]
