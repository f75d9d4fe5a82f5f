"""Failed sign-ins and refused calls, in SQLite."""

from __future__ import annotations

import datetime as dt

from reconciler.store.concerns import RejectedCallLog, SignInThrottle
from reconciler.store.records import RejectedCalls, RejectReason
from reconciler.store.rows import timestamp_text
from reconciler.store.sqlite.database import SqliteConcern
from reconciler.store.tables import REJECTED_CALLS

# Failed sign-ins older than this are forgotten when a new one is counted.
FAILED_SIGN_IN_MEMORY = dt.timedelta(days=1)


class SqliteSignInThrottle(SqliteConcern, SignInThrottle):
    """The ``failed_sign_ins`` table."""

    def failures(self, client: str, since: dt.datetime) -> int:
        row = self._db.row(
            "SELECT COUNT(*) FROM failed_sign_ins WHERE client = ? AND at >= ?",
            (client, timestamp_text(since)),
        )
        return int(row[0]) if row else 0

    def record_failure(self, username: str, client: str, at: dt.datetime) -> None:
        with self._db.atomic():
            self._db.run(
                "DELETE FROM failed_sign_ins WHERE at < ?",
                (timestamp_text(at - FAILED_SIGN_IN_MEMORY),),
            )
            self._db.run(
                "INSERT INTO failed_sign_ins (username, client, at) VALUES (?, ?, ?)",
                (username, client, timestamp_text(at)),
            )

    def clear_failures(self, client: str) -> None:
        with self._db.atomic():
            self._db.run("DELETE FROM failed_sign_ins WHERE client = ?", (client,))


class SqliteRejectedCallLog(SqliteConcern, RejectedCallLog):
    """The ``rejected_calls`` table: one row per reason."""

    def record(self, reason: RejectReason, at: dt.datetime) -> None:
        with self._db.atomic():
            self._db.run(
                "INSERT INTO rejected_calls (reason, count, first_at, last_at) VALUES (?, 1, ?, ?)"
                " ON CONFLICT (reason) DO UPDATE SET count = count + 1, last_at = excluded.last_at",
                (reason.value, timestamp_text(at), timestamp_text(at)),
            )

    def by_reason(self) -> list[RejectedCalls]:
        return REJECTED_CALLS.records(
            self._db.rows("SELECT * FROM rejected_calls ORDER BY count DESC, reason")
        )
