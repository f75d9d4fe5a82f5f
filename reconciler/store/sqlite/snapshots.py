"""Snapshots of QuickBooks and the invoices reconciler created, in SQLite."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from reconciler.model.quickbooks import canonical_guid
from reconciler.store.concerns import CreatedInvoiceStore, SnapshotStore
from reconciler.store.records import CreatedInvoice, SnapshotRecord
from reconciler.store.rows import unpack
from reconciler.store.sqlite.database import SqliteConcern
from reconciler.store.tables import CREATED_INVOICES, SNAPSHOTS

# A snapshot's row with the count of its documents (SnapshotRecord.document_count).
_SNAPSHOT_SELECT = (
    "SELECT s.*, (SELECT COUNT(*) FROM snapshot_documents d WHERE d.snapshot_id = s.id)"
    " AS document_count FROM snapshots s"
)


class SqliteSnapshots(SqliteConcern, SnapshotStore):
    """The ``snapshots`` and ``snapshot_documents`` tables."""

    def save_from_session(
        self,
        company_id: int,
        session_id: int,
        *,
        taken_at: dt.datetime,
        qbxml_version: str,
        coverage: dict[str, Any] | None = None,
    ) -> SnapshotRecord:
        with self._db.atomic():
            row = self._db.row(
                "SELECT COALESCE(MAX(version), 0) + 1 AS version FROM snapshots"
                " WHERE company_id = ?",
                (company_id,),
            )
            assert row is not None
            snapshot_id = self._db.insert(
                SNAPSHOTS,
                company_id=company_id,
                version=row["version"],
                taken_at=taken_at,
                qbxml_version=qbxml_version,
                session_id=session_id,
                coverage=coverage,
            )
            self._db.run("UPDATE companies SET snapshot_outdated = 0 WHERE id = ?", (company_id,))
            # The packed documents as they are: neither unpacked nor packed again.
            self._db.run(
                "INSERT INTO snapshot_documents (snapshot_id, seq, document)"
                " SELECT ?, ROW_NUMBER() OVER (ORDER BY seq), document FROM session_documents"
                " WHERE session_id = ? ORDER BY seq",
                (snapshot_id, session_id),
            )
            found = self._db.row(f"{_SNAPSHOT_SELECT} WHERE s.id = ?", (snapshot_id,))
            return SNAPSHOTS.record(found)

    def set_fingerprint(self, snapshot_id: int, fingerprint: str) -> None:
        with self._db.atomic():
            self._db.update(SNAPSHOTS, snapshot_id, fingerprint=fingerprint)

    def mark_outdated(self, company_id: int) -> None:
        with self._db.atomic():
            self._db.run("UPDATE companies SET snapshot_outdated = 1 WHERE id = ?", (company_id,))

    def latest(self, company_id: int) -> SnapshotRecord | None:
        row = self._db.row(
            f"{_SNAPSHOT_SELECT} WHERE s.company_id = ? ORDER BY s.version DESC LIMIT 1",
            (company_id,),
        )
        return None if row is None else SNAPSHOTS.record(row)

    def documents(self, snapshot_id: int) -> list[str]:
        rows = self._db.rows(
            "SELECT document FROM snapshot_documents WHERE snapshot_id = ? ORDER BY seq",
            (snapshot_id,),
        )
        return [unpack(row["document"]) for row in rows]


class SqliteCreatedInvoices(SqliteConcern, CreatedInvoiceStore):
    """The ``created_invoices`` table, one row per company and ExternalGUID."""

    def record(self, company_id: int, invoices: Sequence[CreatedInvoice], at: dt.datetime) -> None:
        with self._db.atomic():
            self._db.run_many(
                "INSERT INTO created_invoices (company_id, external_guid, txn_id, customer,"
                " txn_date, request_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (company_id, external_guid) DO UPDATE SET txn_id = excluded.txn_id,"
                " customer = COALESCE(excluded.customer, customer),"
                " txn_date = COALESCE(excluded.txn_date, txn_date),"
                " request_id = COALESCE(excluded.request_id, request_id),"
                " recorded_at = excluded.recorded_at, deleted_at = NULL",
                [
                    (
                        company_id,
                        canonical_guid(created.external_guid),
                        created.txn_id,
                        created.customer,
                        created.txn_date,
                        created.request_id,
                        CREATED_INVOICES.value("recorded_at", at),
                    )
                    for created in invoices
                ],
            )

    def for_company(self, company_id: int) -> list[CreatedInvoice]:
        rows = self._db.rows(
            "SELECT * FROM created_invoices WHERE company_id = ? ORDER BY recorded_at, txn_id",
            (company_id,),
        )
        return CREATED_INVOICES.records(rows)

    def mark_deleted(self, company_id: int, txn_id: str, at: dt.datetime) -> None:
        with self._db.atomic():
            self._db.run(
                "UPDATE created_invoices SET deleted_at = ? WHERE company_id = ? AND txn_id = ?"
                " AND deleted_at IS NULL",
                (CREATED_INVOICES.value("deleted_at", at), company_id, txn_id),
            )
