"""The status view's sync errors, in SQLite."""

from __future__ import annotations

import datetime as dt
from typing import Any

from reconciler.store.concerns import StatusErrorStore
from reconciler.store.records import NewStatusError, StatusError
from reconciler.store.rows import timestamp_text
from reconciler.store.sqlite.database import SqliteConcern
from reconciler.store.tables import STATUS_ERRORS


class SqliteStatusErrors(SqliteConcern, StatusErrorStore):
    """The ``status_errors`` table."""

    def record(self, company_id: int, error: NewStatusError, at: dt.datetime) -> StatusError:
        with self._db.atomic():
            row = self._db.row(
                "SELECT id FROM status_errors WHERE company_id = ? AND resolved_at IS NULL"
                " AND object = ? AND code = ? AND request_id IS ?",
                (company_id, error.object, error.code, error.request_id),
            )
            if row is not None:
                error_id = int(row["id"])
                self._db.run(
                    "UPDATE status_errors SET occurrences = occurrences + 1, last_seen = ?,"
                    " message = ?, what_to_do = ?, plan_id = COALESCE(?, plan_id) WHERE id = ?",
                    (timestamp_text(at), error.message, error.what_to_do, error.plan_id, error_id),
                )
            else:
                error_id = self._db.insert(
                    STATUS_ERRORS,
                    company_id=company_id,
                    request_id=error.request_id,
                    plan_id=error.plan_id,
                    object=error.object,
                    code=error.code,
                    message=error.message,
                    what_to_do=error.what_to_do,
                    first_seen=at,
                    last_seen=at,
                )
            found = self._db.row("SELECT * FROM status_errors WHERE id = ?", (error_id,))
            return STATUS_ERRORS.record(found)

    def _resolve(self, company_id: int, at: dt.datetime, condition: str, *params: Any) -> int:
        # ``condition`` is one of this class's constants, never input.
        statement = f"UPDATE status_errors SET resolved_at = ? WHERE company_id = ? AND resolved_at IS NULL AND {condition}"  # noqa: S608
        with self._db.atomic():
            return self._db.run(statement, (timestamp_text(at), company_id, *params)).rowcount

    def resolve_request(self, company_id: int, request_id: int, at: dt.datetime) -> int:
        return self._resolve(company_id, at, "request_id = ?", request_id)

    def resolve_run(self, company_id: int, at: dt.datetime) -> int:
        return self._resolve(company_id, at, "request_id IS NULL AND plan_id IS NULL")

    def resolve_other_plans(self, company_id: int, at: dt.datetime, *, keep_plan_id: int) -> int:
        return self._resolve(company_id, at, "plan_id IS NOT NULL AND plan_id != ?", keep_plan_id)

    def unresolved(self, company_id: int) -> list[StatusError]:
        rows = self._db.rows(
            "SELECT * FROM status_errors WHERE company_id = ? AND resolved_at IS NULL ORDER BY id",
            (company_id,),
        )
        return STATUS_ERRORS.records(rows)
