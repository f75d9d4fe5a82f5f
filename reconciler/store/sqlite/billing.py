"""The billing-mode lock of each company, in SQLite."""

from __future__ import annotations

import datetime as dt

from reconciler.store.concerns import BillingLockStore
from reconciler.store.records import BillingLock
from reconciler.store.sqlite.database import SqliteConcern
from reconciler.store.tables import BILLING_LOCKS


class SqliteBillingLocks(SqliteConcern, BillingLockStore):
    """The ``billing_locks`` table: one row per company, never changed once written."""

    def get(self, company_id: int) -> BillingLock | None:
        row = self._db.row("SELECT * FROM billing_locks WHERE company_id = ?", (company_id,))
        return None if row is None else BILLING_LOCKS.record(row)

    def lock(self, company_id: int, mode: str, at: dt.datetime, plan_id: int | None) -> BillingLock:
        with self._db.atomic():
            self._db.run(
                "INSERT OR IGNORE INTO billing_locks (company_id, mode, locked_at, plan_id)"
                " VALUES (?, ?, ?, ?)",
                (company_id, mode, BILLING_LOCKS.value("locked_at", at), plan_id),
            )
            lock = self.get(company_id)
            assert lock is not None
            return lock
