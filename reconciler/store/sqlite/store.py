"""The embedded store: one SQLite file in the state directory, every concern on it."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from reconciler.store.base import Store
from reconciler.store.sqlite.audit import SqliteAuditLog
from reconciler.store.sqlite.billing import SqliteBillingLocks
from reconciler.store.sqlite.calls import SqliteRejectedCallLog, SqliteSignInThrottle
from reconciler.store.sqlite.database import SqliteDatabase
from reconciler.store.sqlite.errors import SqliteStatusErrors
from reconciler.store.sqlite.identity import SqliteCompanies, SqliteInstallation
from reconciler.store.sqlite.plans import SqlitePlans
from reconciler.store.sqlite.queue import SqliteQueue
from reconciler.store.sqlite.sessions import SqliteSessions
from reconciler.store.sqlite.snapshots import SqliteCreatedInvoices, SqliteSnapshots
from reconciler.store.sqlite.tokens import SqliteApiTokens

DATABASE_NAME = "reconciler.sqlite3"


class SqliteStore(Store):
    """The store in ``<state dir>/reconciler.sqlite3``.

    ``read_only``: the database must exist and is only read; one written by an
    older reconciler is migrated first (see :class:`SqliteDatabase`).
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.database = SqliteDatabase(path, read_only=read_only)
        db = self.database
        self.installation = SqliteInstallation(db)
        self.companies = SqliteCompanies(db)
        self.sign_ins = SqliteSignInThrottle(db)
        self.rejected_calls = SqliteRejectedCallLog(db)
        self.sessions = SqliteSessions(db)
        self.snapshots = SqliteSnapshots(db)
        self.created_invoices = SqliteCreatedInvoices(db)
        self.plans = SqlitePlans(db)
        self.queue = SqliteQueue(db)
        self.errors = SqliteStatusErrors(db)
        self.billing_locks = SqliteBillingLocks(db)
        self.tokens = SqliteApiTokens(db)
        self.audit = SqliteAuditLog(db)

    def atomic(self) -> AbstractContextManager[None]:
        return self.database.atomic()

    def close(self) -> None:
        self.database.close()

    @property
    def location(self) -> str:
        return str(self.database.path)
