"""The SQLite store: its schema and migrations, its file, read-only opening."""

from __future__ import annotations

import sqlite3

import pytest
from support.stores import NOW, add_company, take_snapshot

from reconciler.store import StoreError, open_store
from reconciler.store.schema import MIGRATIONS, SCHEMA_VERSION
from reconciler.store.sqlite import DATABASE_NAME


def test_schema_is_created_with_wal_and_its_version(tmp_path):
    store = open_store(tmp_path)
    add_company(store)
    conn = sqlite3.connect(tmp_path / DATABASE_NAME)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    # NORMAL (1) is durable across a crash of the process only with WAL.
    with store.atomic():
        assert store.database.row("PRAGMA synchronous")[0] == 1  # type: ignore[attr-defined]
    store.close()


def test_reopening_keeps_identity_and_refuses_a_newer_schema(tmp_path):
    store = open_store(tmp_path)
    company = add_company(store)
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


def test_documents_are_stored_compressed(tmp_path):
    store = open_store(tmp_path)
    company = add_company(store)
    documents = ["<QBXML>" + "x" * 10_000 + "</QBXML>", "<QBXML>é</QBXML>"]
    snapshot = take_snapshot(store, company.id, documents)
    assert store.snapshots.documents(snapshot.id) == documents
    size = (
        sqlite3.connect(tmp_path / DATABASE_NAME)
        .execute("SELECT length(document) FROM snapshot_documents WHERE seq = 1")
        .fetchone()[0]
    )
    assert size < 1_000  # compressed
    store.close()


def test_timestamps_are_stored_as_utc_text(tmp_path):
    store = open_store(tmp_path)
    company = add_company(store)
    store.companies.record_contact(company.id, NOW)
    store.close()
    conn = sqlite3.connect(tmp_path / DATABASE_NAME)
    assert conn.execute("SELECT last_contact, snapshot_outdated FROM companies").fetchone() == (
        "2024-05-28T15:00:00.000000Z",
        0,
    )
    conn.close()


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
    store = open_store(tmp_path)
    company = add_company(store)
    store.close()
    read_only_store = open_store(tmp_path, read_only=True)
    assert read_only_store.companies.get(company.id).name == company.name
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        read_only_store.companies.record_contact(company.id, NOW)
    read_only_store.close()


def test_a_read_only_open_of_an_older_store_upgrades_it_first(tmp_path):
    store = open_store(tmp_path)
    company = add_company(store)
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
