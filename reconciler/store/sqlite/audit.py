"""The audit log, in SQLite."""

from __future__ import annotations

import datetime as dt
from typing import Any

from reconciler.store.concerns import AuditLog
from reconciler.store.records import AuditEntry
from reconciler.store.sqlite.database import SqliteConcern
from reconciler.store.tables import AUDIT_LOG


class SqliteAuditLog(SqliteConcern, AuditLog):
    """The ``audit_log`` table, only ever appended to."""

    def add(
        self,
        company_id: int,
        *,
        actor: str,
        action: str,
        at: dt.datetime,
        plan_id: int | None = None,
        commit: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> AuditEntry:
        with self._db.atomic():
            entry_id = self._db.insert(
                AUDIT_LOG,
                company_id=company_id,
                at=at,
                actor=actor,
                action=action,
                plan_id=plan_id,
                commit=commit,
                detail=detail or {},
            )
            row = self._db.row("SELECT * FROM audit_log WHERE id = ?", (entry_id,))
            return AUDIT_LOG.record(row)

    def newest(self, company_id: int, limit: int = 50) -> list[AuditEntry]:
        rows = self._db.rows(
            "SELECT * FROM audit_log WHERE company_id = ? ORDER BY id DESC LIMIT ?",
            (company_id, limit),
        )
        return AUDIT_LOG.records(rows)
